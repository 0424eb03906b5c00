"""Start-up cost of the CLI: ``--help``, ``validate`` and ``list`` must not pay for TensorFlow.

Also measures, for ``seqexp train`` on the tiny config, the time from process start to the end of
the first epoch (the first line of ``history.partial.csv``).

    python benchmarks/bench_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "configs" / "tiny.yaml"


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "seqexp", *args], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def first_epoch_seconds() -> float:
    """Seconds from launching ``seqexp train`` until its first epoch is written."""
    with tempfile.TemporaryDirectory() as runs:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "seqexp", "train", str(TINY), "--runs-dir", runs, "--quiet"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while process.poll() is None:
                histories = list(Path(runs).glob("*/history*.csv"))
                if histories and histories[0].read_text().count("\n") >= 2:
                    return time.perf_counter() - start
                time.sleep(0.02)
            return time.perf_counter() - start  # finished before we looked: an upper bound
        finally:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cases = {
        "seqexp --help": ["--help"],
        "seqexp validate configs/lstm_smote.yaml": ["validate", "configs/lstm_smote.yaml"],
        "seqexp list": ["list"],
    }
    print(f"| command | median of {args.repeats} (s) | min (s) | target |")
    print("|---|---|---|---|")
    for label, cli_args in cases.items():
        times = [timed(cli_args) for _ in range(args.repeats)]
        print(f"| `{label}` | {statistics.median(times):.2f} | {min(times):.2f} | < 1 s |")
    epochs = [first_epoch_seconds() for _ in range(args.repeats)]
    print(
        f"| `seqexp train configs/tiny.yaml`: start to end of first epoch | "
        f"{statistics.median(epochs):.2f} | {min(epochs):.2f} | < 10 s |"
    )


if __name__ == "__main__":
    main()
