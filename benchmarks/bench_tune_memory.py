"""Memory across a long search: a 50-trial random search on a tiny config, RSS after each trial.

Each trial builds and trains a fresh Keras model in a child process that seqexp replaces every
``tune.trials_per_process`` trials (TensorFlow keeps memory from every model it trained, even after
``clear_session``). Measured after each trial: the RSS of the search process plus its live trial
process. Prints the peak of that total up to trial 5 and up to the last trial, and the growth;
exits 1 if it grew by 10% or more.

    python benchmarks/bench_tune_memory.py [--trials 50]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

CONFIG = {
    "name": "bench_tune_memory",
    "seed": 3,
    "data": {"name": "synthetic_transactions", "customers": 300, "sequence_length": 5, "positive_rate": 0.15},
    "balance": {"name": "random_over"},
    "model": {"name": "lstm", "units": [4], "dropout": 0.0, "dense": []},
    "train": {"epochs": 1, "batch_size": 64, "tensorboard": False, "early_stopping": None},
    "evaluate": {"baseline": "none"},
    "tune": {
        "tuner": "random",
        "max_trials": 50,
        "top_k": 0,
        "space": {
            "model.units": {"choice": [[4], [8], [4, 4]]},
            "model.dropout": {"float": [0.0, 0.3]},
            "train.learning_rate": {"float": [1e-3, 1e-2], "log": True},
            "train.batch_size": {"choice": [32, 64]},
        },
    },
}


def rss_mb(pid: str = "self") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def children() -> list[str]:
    pids: list[str] = []
    for task in Path("/proc/self/task").iterdir():
        pids.extend((task / "children").read_text().split())
    return pids


def tree_rss_mb() -> tuple[float, float]:
    """RSS of this process and of its children (the live trial process)."""
    return rss_mb(), sum(rss_mb(pid) for pid in children())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from seqexp.config.loading import validate_config
    from seqexp.tuning.search import run_tune

    CONFIG["tune"]["max_trials"] = args.trials
    cfg = validate_config(CONFIG, source="bench_tune_memory")
    samples: list[tuple[int, float, float, float]] = []  # trial, parent MB, child MB, seconds
    started = time.perf_counter()

    def say(message: str) -> None:
        if message.startswith("trial "):
            samples.append((len(samples) + 1, *tree_rss_mb(), time.perf_counter() - started))

    with tempfile.TemporaryDirectory() as runs_dir:
        run_tune(cfg, runs_dir=Path(runs_dir), say=say)
    seconds = samples[-1][3]
    print(f"trials: {len(samples)} in {seconds:.0f} s ({seconds / len(samples):.2f} s/trial), "
          f"trials_per_process {cfg.tune.trials_per_process}")  # fmt: skip
    print("trial  search_mb  trial_process_mb  total_mb  peak_total_so_far_mb")
    peak = 0.0
    peaks = {}
    for n, parent, child, _ in samples:
        peak = max(peak, parent + child)
        peaks[n] = peak
        if n in (1, 5, 9, 10, 11, 20, 30, 40) or n == len(samples):
            print(f"{n:5d}  {parent:9.1f}  {child:16.1f}  {parent + child:8.1f}  {peak:20.1f}")
    early, last = peaks[min(5, len(samples))], peaks[len(samples)]
    growth = last / early - 1
    print(f"peak total RSS up to trial {min(5, len(samples))}: {early:.0f} MB; up to trial {len(samples)}: "
          f"{last:.0f} MB; growth {growth:+.1%}")  # fmt: skip
    print(f"peak RSS of this process alone (ru_maxrss): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")  # fmt: skip
    return 0 if growth < 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
