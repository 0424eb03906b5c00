"""What seqexp costs over a hand-written Keras notebook, on the same data and model.

Data: 30,000 sequences x 10 steps x 20 features, 11% positive (an .npz file). Model: LSTM(64) ->
LSTM(32) -> Dense(32) -> Dense(1), Adam 1e-3, batch 256, a fixed number of epochs, seed 42.

(a) ``plain``: a script written as notebooks do: numpy arrays, a stratified split, StandardScaler,
    ``model.fit``, ``predict``, scikit-learn metrics.
(b) ``seqexp``: ``seqexp train`` with the equivalent config (no balancing, no baseline, no
    TensorBoard, no early stopping), including its plots and run-folder files.

Both run as fresh processes (TensorFlow import included), alternating, and the wall-time ratio
b/a of the medians is reported.

    python benchmarks/bench_train_overhead.py [--repeats 5] [--epochs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

PLAIN = r"""
import sys, numpy as np, keras
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import average_precision_score, roc_auc_score, f1_score, matthews_corrcoef
keras.utils.set_random_seed(42)
data = np.load(sys.argv[1]); X, y = data["X"], data["y"]
X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.1, stratify=y, random_state=42)
X_train, X_val, y_train, y_val = train_test_split(
    X_rest, y_rest, test_size=1/9, stratify=y_rest, random_state=42)
scaler = StandardScaler().fit(X_train.reshape(-1, X.shape[-1]))
scale = lambda a: scaler.transform(a.reshape(-1, X.shape[-1])).reshape(a.shape).astype("float32")
X_train, X_val, X_test = scale(X_train), scale(X_val), scale(X_test)
model = keras.Sequential([keras.Input(X.shape[1:]), keras.layers.LSTM(64, return_sequences=True),
    keras.layers.Dropout(0.2), keras.layers.LSTM(32), keras.layers.Dropout(0.2),
    keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
              metrics=[keras.metrics.AUC(curve="PR", name="pr_auc")])
model.fit(X_train, y_train, validation_data=(X_val, y_val), epochs=int(sys.argv[2]),
          batch_size=256, verbose=0)
scores = model.predict(X_test, verbose=0).ravel()
print(average_precision_score(y_test, scores), roc_auc_score(y_test, scores),
      f1_score(y_test, scores >= 0.5), matthews_corrcoef(y_test, scores >= 0.5))
"""

CONFIG = """
name: overhead
seed: 42
data: {{name: npz, path: {path}, ids: null, mask: null}}
balance: {{name: none}}
model: {{name: lstm, units: [64, 32], dropout: 0.2, dense: [32]}}
train: {{epochs: {epochs}, batch_size: 256, learning_rate: 0.001, early_stopping: null, tensorboard: false}}
evaluate: {{threshold: 0.5, baseline: none}}
"""


def make_data(path: Path, n: int = 30_000, steps: int = 10, features: int = 20) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, steps, features)).astype(np.float32)
    y = (rng.random(n) < 0.11).astype(np.int64)
    X[y == 1, -3:, :4] += 0.8  # some signal in the last steps
    np.savez(path, X=X, y=y)


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = folder / "data.npz"
        make_data(data)
        script = folder / "plain.py"
        script.write_text(PLAIN)
        config = folder / "overhead.yaml"
        config.write_text(CONFIG.format(path=data, epochs=args.epochs))
        plain_cmd = [sys.executable, str(script), str(data), str(args.epochs)]
        seqexp_cmd = [
            sys.executable,
            "-m",
            "seqexp",
            "train",
            str(config),
            "--runs-dir",
            str(folder / "runs"),
            "-q",
        ]
        plain, ours = [], []
        for _ in range(args.repeats):  # alternate, so drifting machine load hits both alike
            plain.append(timed(plain_cmd))
            ours.append(timed(seqexp_cmd))
    a, b = statistics.median(plain), statistics.median(ours)
    print(f"plain Keras script: median {a:.1f} s  {[round(t, 1) for t in plain]}")
    print(f"seqexp train:       median {b:.1f} s  {[round(t, 1) for t in ours]}")
    print(f"ratio b/a: {b / a:.3f} (target <= 1.05)")


if __name__ == "__main__":
    main()
