"""Interrupted and crashed runs: the run folder says how it ended and keeps what was done.

Ctrl-C (SIGINT) and SIGTERM during training leave ``run.json`` at ``interrupted`` with the config,
the epochs finished so far as ``history.csv`` and the best weights as ``checkpoint.keras``; the CLI
exits with 130. A crash leaves ``failed`` with the error. No file is ever half-written.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from seqexp.runfolder import atomic, files
from tests.conftest import ROOT, Tiny


def _start_long_training(runs_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [
            sys.executable, "-m", "seqexp", "train", str(Tiny.path), "--runs-dir", str(runs_dir), "--quiet",
            "--set", "train.epochs=200", "--set", "train.early_stopping.patience=1000",
        ],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for_epochs(runs_dir: Path, process: subprocess.Popen, epochs: int, timeout: float = 180) -> Path:
    """Wait until the run has written ``epochs`` rows of history (and so at least one checkpoint)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        for partial in runs_dir.glob(f"*/{files.HISTORY_PARTIAL}"):
            if len(partial.read_text().splitlines()) > epochs:
                return partial.parent
        time.sleep(0.2)
    process.kill()
    raise AssertionError("training did not reach the wanted epoch in time")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_training_leaves_an_interrupted_run(sig: signal.Signals, tmp_path: Path) -> None:
    process = _start_long_training(tmp_path)
    run_dir = _wait_for_epochs(tmp_path, process, epochs=2)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    run = json.loads((run_dir / files.RUN).read_text())
    assert run["status"] == "interrupted" and run["finished"]
    assert (run_dir / files.CONFIG).is_file()
    history = pd.read_csv(run_dir / files.HISTORY)
    assert len(history) >= 2 and list(history["epoch"]) == list(range(1, len(history) + 1))
    assert not (run_dir / files.HISTORY_PARTIAL).exists()
    assert not (run_dir / files.METRICS).exists(), "an interrupted run must not look complete"
    assert not [p.name for p in run_dir.iterdir() if ".tmp" in p.name], "temporary file left behind"

    # The checkpoint is a complete Keras file holding the best epoch's weights; it loads safely.
    from seqexp.models.keras_estimator import KerasEstimator

    (run_dir / "model.keras").unlink(missing_ok=True)
    os.link(run_dir / files.CHECKPOINT, run_dir / "model.keras")
    model = KerasEstimator.load(run_dir)
    assert model.model.count_params() > 0


def test_a_crash_marks_the_run_failed_with_the_error(tiny: Tiny, tmp_path: Path, monkeypatch) -> None:
    from seqexp.config.loading import load_config
    from seqexp.pipeline import train as experiment

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(experiment, "measure", boom)
    cfg = load_config(tiny.path, ["model={name: logistic_regression}", "evaluate.baseline=none"])
    with pytest.raises(RuntimeError):
        experiment.train_experiment(cfg, runs_dir=tmp_path)
    (run_dir,) = tmp_path.iterdir()
    run = json.loads((run_dir / files.RUN).read_text())
    assert run["status"] == "failed" and run["error"] == "RuntimeError: disk on fire"
    assert (run_dir / files.CONFIG).is_file() and (run_dir / files.HISTORY).is_file()
    assert not (run_dir / files.METRICS).exists()


def test_atomic_writes_leave_the_old_file_or_the_new_one(tmp_path: Path) -> None:
    target = tmp_path / "metrics.json"
    atomic.write_text(target, "old")
    for error in (KeyboardInterrupt, RuntimeError):
        with pytest.raises(error), atomic.atomic_path(target) as tmp:
            tmp.write_text("half of the ne")
            raise error
        assert target.read_text() == "old"
    with atomic.atomic_path(target) as tmp:
        assert tmp.suffix == ".json" and tmp.parent == tmp_path  # same folder: the rename is atomic
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


# Calls that write a file. In seqexp/ each must go through atomic.write_text / write_json or sit in a
# ``with atomic.atomic_path(...)`` block (temp file + rename). Append-only logs are listed by hand.
WRITERS = (
    ".save(",
    ".savefig(",
    ".to_parquet(",
    ".to_csv(",
    '.open("w',
    '.open("a',
    ".write_bytes(",
    ".write_text(",
)
# The package's own writers, themselves atomic (write_text/write_json, and objects that call them).
ATOMIC = ("write_text(", "write_json(", "self.save()", "scaler.save(", "estimator.save(", "graph.save(")
# The two append-only writers (run logs and per-trial rows), by design: see seqexp/runfolder/atomic.py.
APPEND_ONLY = {
    ("seqexp/runfolder/atomic.py", 'with path.open("a", encoding="utf-8") as handle:'),
    ("seqexp/runfolder/atomic.py", 'with path.open("a", newline="", encoding="utf-8") as handle:'),
}


def test_every_writer_in_the_package_is_atomic() -> None:
    offenders = []
    for path in sorted((ROOT / "seqexp").rglob("*.py")):
        lines = path.read_text().splitlines()
        name = path.relative_to(ROOT).as_posix()
        for i, line in enumerate(lines):
            code = line.split("#", 1)[0].strip()
            if not any(w in code for w in WRITERS) or code.startswith("def "):
                continue
            calls_atomic = any(code.startswith(a) or f"atomic.{a}" in code or f".{a}" in code for a in ATOMIC)
            in_atomic_block = "atomic_path(" in "\n".join(lines[max(0, i - 3) : i + 1])
            if calls_atomic and ".write_text(" not in code.replace("atomic.write_text(", ""):
                continue
            if in_atomic_block or (name, code) in APPEND_ONLY:
                continue
            offenders.append(f"{name}:{i + 1}: {code}")
    assert not offenders, "write through atomic.write_text or inside atomic.atomic_path:\n" + "\n".join(
        offenders
    )
