"""Scale: ``seqexp train`` on a synthetic event log of 10M events / 1M customers, N = 20.

Writes bench_sequences.py's log (customer_id, timestamp, amount, balance, score, type) and a label
file as Parquet, and a config for the ``events`` source with a small LSTM and one epoch. Runs
``seqexp train`` twice in fresh processes under ``/usr/bin/time -v``: the first builds the arrays
and stores them in the data cache, the second (another seed, as a repeat or a tuning trial would)
reads them back. Reports wall time, the time to build or load the data (from run.log) and the peak
resident memory of each process. Target: one epoch under 12 GB peak.

    python benchmarks/bench_scale.py [--events 10000000] [--customers 1000000] [--length 20]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sequences import make_log  # noqa: E402  (the same synthetic log as the builder benchmark)

CONFIG = """
name: scale
seed: {seed}
data:
  name: events
  path: {folder}/events.parquet
  id: customer_id
  time: timestamp
  numeric: [amount, balance, score]
  categorical: [type]
  sequence_length: {length}
  derived: [days_since_previous]
  labels: {{path: {folder}/labels.parquet, id: customer_id, column: label, positive: 1}}
balance: {{name: none}}
model: {{name: lstm, units: [16], dropout: 0.0, dense: []}}
train: {{epochs: 1, batch_size: 1024, early_stopping: null, tensorboard: false}}
evaluate: {{threshold: max_f1, baseline: none}}
"""


def write_data(folder: Path, events: int, customers: int) -> int:
    log = make_log(events, customers)
    log.to_parquet(folder / "events.parquet", index=False)
    ids = np.unique(log["customer_id"].to_numpy())
    rng = np.random.default_rng(1)
    pd.DataFrame({"customer_id": ids, "label": (rng.random(len(ids)) < 0.1).astype(int)}).to_parquet(
        folder / "labels.parquet", index=False
    )
    return (folder / "events.parquet").stat().st_size


def train(folder: Path, seed: int, length: int, cache: Path) -> dict:
    config = folder / f"scale{seed}.yaml"
    config.write_text(CONFIG.format(folder=folder, length=length, seed=seed))
    timing = folder / f"time{seed}.txt"
    env = {**os.environ, "SEQEXP_CACHE_DIR": str(cache)}
    args = ["/usr/bin/time", "-v", "-o", str(timing), sys.executable, "-m", "seqexp", "train", str(config),
            "--runs-dir", str(folder / "runs"), "-q"]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"seqexp train failed:\n{done.stderr[-3000:]}")
    run_dir = Path(done.stdout.strip().splitlines()[-1])
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing.read_text()).group(1))
    log = (run_dir / "run.log").read_text()
    fit = re.search(r"fit: 1 epoch\(s\) in ([\d.]+)s", log)
    data = re.search(r"data: .* ready in ([\d.]+)s", log)
    return {
        "wall": wall,
        "peak_gib": peak_kb / 2**20,
        "fit": float(fit.group(1)) if fit else float("nan"),
        "data": float(data.group(1)) if data else float("nan"),
        "cache_hit": "reused from the cache" in log,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--length", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        size = write_data(folder, args.events, args.customers)
        took = time.perf_counter() - start
        print(f"log: {args.events:,} events, {args.customers:,} customers, Parquet {size / 2**20:.0f} MiB "
              f"(written in {took:.1f} s); load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        print("| run | data | data ready (s) | wall (s) | fit, 1 epoch (s) | peak RSS (GiB) | target |")
        print("|---|---|---|---|---|---|---|")
        for seed, label in ((1, "first (builds, fills the cache)"), (2, "second seed (cache hit)")):
            result = train(folder, seed, args.length, folder / "cache")
            data = "cache hit" if result["cache_hit"] else "built"
            print(f"| {label} | {data} | {result['data']:.1f} | {result['wall']:.1f} | {result['fit']:.1f} | "
                  f"{result['peak_gib']:.2f} | < 12 GiB |", flush=True)  # fmt: skip
        print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
