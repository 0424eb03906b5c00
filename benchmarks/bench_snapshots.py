"""Snapshot building: K cutoffs of one event log in one build against one cutoff, and against K
separate one-cutoff builds (what a notebook loop does: K full passes over the log).

A synthetic Parquet log (int customer ids, 3 years of timestamps, an amount, a categorical column,
the derived 0/1 flag ``is_target``) goes through the whole ``events`` source, file to arrays: read,
derive, numeric columns, then for each cutoff the point-in-time aggregates (4 windows, sum/mean/max,
trends, gaps, days since the flag, level counts) and the labels of the 30 days after it. Each variant
runs in a fresh process; its wall time and peak resident memory (``ru_maxrss``) are reported, median
of --repeat runs.

    python benchmarks/bench_snapshots.py                         # 10M events, 12 cutoffs (~5 minutes)
    python benchmarks/bench_snapshots.py --events 1000000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
END = np.datetime64("2023-01-01T00:00:00", "s")
LEVELS = ["card", "bill", "atm", "salary", "deposit", "transfer"]


def make_log(path: Path, events: int, customers: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    start = END - np.timedelta64(3 * 365 * 86400, "s")
    frame = pd.DataFrame(
        {
            "customer_id": rng.integers(0, customers, size=events, dtype=np.int64),
            "timestamp": start + rng.integers(0, 3 * 365 * 86400, size=events).astype("timedelta64[s]"),
            "amount": rng.lognormal(3.0, 1.0, size=events).round(2),
            "type": pd.Categorical.from_codes(rng.integers(0, len(LEVELS), size=events), categories=LEVELS),
            "sku": rng.integers(0, 40, size=events),
        }
    )
    frame.to_parquet(path, index=False)


def section(path: Path, cutoffs: list[str] | None, single: str | None = None) -> dict:
    data = {
        "name": "events", "path": str(path), "cache": False, "numeric": ["amount"], "categorical": ["type"],
        "derive": {"is_target": "sku == 7"}, "output": "aggregates",
        "aggregates": {"windows_days": [7, 30, 90, 365], "flags": ["is_target"], "top_k": 5},
        "labels": {"horizon_days": 30, "where": "is_target == 1"},
    }  # fmt: skip
    if cutoffs is not None:
        data["snapshots"] = {"cutoffs": cutoffs}
    else:
        data["labels"]["cutoff"] = single
    return data


def child(spec: str) -> None:
    """Run in a fresh process: build the data set(s) of ``spec`` and print seconds, peak RSS, rows."""
    import resource
    import time

    sys.path.insert(0, str(ROOT))
    from seqexp.config.loading import validate_config
    from seqexp.data.events import build_events

    sections = json.loads(spec)
    started = time.perf_counter()
    rows = 0
    for data in sections:
        split = {"method": "time"} if "snapshots" in data else {}
        built = build_events(validate_config({"data": data, "split": split}).data, seed=0)
        rows += len(built.y)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mib": peak_kib / 1024, "rows": rows}))


def run(sections: list[dict], repeat: int) -> dict:
    results = []
    for _ in range(repeat):
        command = [sys.executable, __file__, "--child", json.dumps(sections)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {
        "seconds": statistics.median(r["seconds"] for r in results),
        "peak_mib": statistics.median(r["peak_mib"] for r in results),
        "rows": results[0]["rows"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--cutoffs", type=int, default=12, help="monthly cutoffs ending 2022-12-01")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--log", type=Path, default=Path("/tmp/seqexp_bench_snapshots.parquet"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    if not args.log.is_file() or pd.read_parquet(args.log, columns=["sku"]).shape[0] != args.events:
        make_log(args.log, args.events, args.customers)
    cutoffs = [str(d.date()) for d in pd.date_range(end="2022-12-01", periods=args.cutoffs, freq="MS")]
    one = run([section(args.log, None, cutoffs[-1])], args.repeat)
    many = run([section(args.log, cutoffs)], args.repeat)
    loop = run([section(args.log, None, c) for c in cutoffs], 1)
    input_mib = pd.read_parquet(args.log).memory_usage(deep=True).sum() / 2**20
    print(
        f"{args.events:,} events, {args.customers:,} customers, input columns {input_mib:.0f} MiB in memory"
    )
    print("| build | examples | s (median) | peak RSS MiB | s vs one cutoff |")
    print("|---|---|---|---|---|")
    for label, result in ((f"one cutoff ({cutoffs[-1]})", one), (f"{len(cutoffs)} cutoffs, one build", many),
                          (f"{len(cutoffs)} one-cutoff builds in a loop (1 run)", loop)):  # fmt: skip
        print(f"| {label} | {result['rows']:,} | {result['seconds']:.1f} | {result['peak_mib']:.0f} | "
              f"{result['seconds'] / one['seconds']:.2f}x |")  # fmt: skip


if __name__ == "__main__":
    main()
