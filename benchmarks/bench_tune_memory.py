"""Memory across a long search: a 50-trial random search on a tiny config, RSS after each trial.

Each trial builds and trains a fresh Keras model; seqexp clears the Keras session and collects
garbage after every trial, so memory should stay flat. Prints peak RSS (ru_maxrss) and current RSS
at trial 5 and at the last trial, and their growth; exits 1 if peak RSS grew by 10% or more.

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


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from seqexp.config import validate_config
    from seqexp.tuning.search import run_tune

    CONFIG["tune"]["max_trials"] = args.trials
    cfg = validate_config(CONFIG, source="bench_tune_memory")
    samples: list[tuple[int, float, float, float]] = []
    started = time.perf_counter()

    def say(message: str) -> None:
        if message.startswith("trial "):
            samples.append((len(samples) + 1, peak_rss_mb(), current_rss_mb(), time.perf_counter() - started))

    with tempfile.TemporaryDirectory() as runs_dir:
        run_tune(cfg, runs_dir=Path(runs_dir), say=say)
    first, last = samples[min(4, len(samples) - 1)], samples[-1]
    print(f"trials: {len(samples)} in {last[3]:.0f} s ({last[3] / len(samples):.2f} s/trial)")
    print("trial  peak_rss_mb  rss_mb")
    for n, peak, rss, _ in samples:
        if n in (1, 5, 10, 20, 30, 40) or n == len(samples):
            print(f"{n:5d}  {peak:11.1f}  {rss:6.1f}")
    growth_peak = last[1] / first[1] - 1
    growth_rss = last[2] / first[2] - 1
    print(f"growth trial {first[0]} -> {last[0]}: peak {growth_peak:+.1%}, current {growth_rss:+.1%}")
    return 0 if growth_peak < 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
