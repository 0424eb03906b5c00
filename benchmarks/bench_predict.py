"""Scoring throughput of ``seqexp predict``: sequences per second from an array already in memory.

N=10 steps, 20 features, the main config's 2-layer LSTM (64 -> 32 -> dense 32), untrained weights
(speed does not depend on them). Three paths, each timed on the same rows:
  model.predict    Keras' own batched predict (what training-time scoring uses)
  scorer           KerasEstimator.batch_scorer: a traced tf.function over the model, 8192-row chunks
  write_scores     the whole predict path: saved scaling + scorer + label + risk band + CSV rows
with and without padding masks (masked sequences run the LSTM's slower masked path).

    python benchmarks/bench_predict.py [--rows 200000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's seqexp, not an installed one


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from seqexp.runtime.backend import tensorflow

    tf = tensorflow()
    from seqexp.commands.predict import RiskBands, write_scores
    from seqexp.config.experiment import ExperimentConfig
    from seqexp.models.base import InputSpec
    from seqexp.models.keras_estimator import KerasEstimator
    from seqexp.models.recurrent import LSTMConfig, build_lstm
    from seqexp.pipeline.scaling import Standardizer
    from seqexp.runfolder.reader import SavedRun

    rng = np.random.default_rng(0)
    steps, features = 10, 20
    X = rng.normal(size=(args.rows, steps, features)).astype(np.float32)
    lengths = rng.integers(3, steps + 1, size=args.rows)
    mask = np.arange(steps)[None, :] >= (steps - lengths)[:, None]  # pre-padded
    X[~mask] = 0.0
    names = [f"f{i}" for i in range(features)]
    print(f"tensorflow {tf.__version__}")
    print(f"rows {args.rows}, steps {steps}, features {features}, LSTM [64, 32] + dense [32]")

    for masked in (False, True):
        from seqexp.data.dataset import Dataset

        spec = InputSpec((steps, features), masked=masked)
        model = build_lstm(LSTMConfig(units=[64, 32], dense=[32]), spec)
        estimator = KerasEstimator(model)
        data = Dataset(
            X=X, y=np.full(args.rows, -1), ids=np.arange(args.rows).astype(str), feature_names=names,
            mask=mask if masked else None,
        )  # fmt: skip
        scaler = Standardizer.fit(X[:10_000], mask[:10_000] if masked else None, names, passthrough=[])
        run = SavedRun(
            Path("."), ExperimentConfig(), {}, {"threshold": 0.5}, scaler, {}, _estimator=estimator
        )
        score = run.scorer  # the same traced function write_scores uses
        score(X[:4096])  # trace once
        model.predict(X[:4096], batch_size=4096, verbose=0)
        paths = {
            "model.predict": lambda: model.predict(X, batch_size=4096, verbose=0),  # noqa: B023
            "scorer": lambda: [score(X[i : i + 8192]) for i in range(0, len(X), 8192)],  # noqa: B023
            "write_scores": lambda: write_scores(run, data, Path(tmp) / "s.csv", RiskBands()),  # noqa: B023
        }
        with tempfile.TemporaryDirectory() as tmp:
            for name, fn in paths.items():
                times = []
                for _ in range(args.repeats):
                    started = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - started)
                median = statistics.median(times)
                print(
                    f"masked={masked!s:5}  {name:13}  median {median:6.2f}s  "
                    f"{args.rows / median:9,.0f} sequences/s  (best {args.rows / min(times):,.0f})"
                )


if __name__ == "__main__":
    main()
