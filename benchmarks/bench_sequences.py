"""Sequence building speed and memory: our vectorized builder vs the per-customer groupby loop.

Synthetic event logs (int customer ids, datetime64 timestamps, 3 numeric columns, 1 categorical
column with 6 levels), N = 10 steps. For each size: events/s (median of --repeat runs) and peak
memory of ``seqexp.data.sequences.build_sequences`` (tracemalloc, a separate run: numpy and pandas
report their buffers to it), compared with the size of the input columns. The loop that notebooks
use (``for cid, g in df.groupby(id): g.sort_values(time).tail(N)``) runs on a 200k-event sample.

    python benchmarks/bench_sequences.py                       # 1M and 10M events (~2 minutes)
    python benchmarks/bench_sequences.py --sizes 1000000 --loop-events 50000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's seqexp, not an installed one
from seqexp.data.sequences import build_sequences  # noqa: E402

NUMERIC = ["amount", "balance", "score"]
LEVELS = ["card", "bill", "atm", "salary", "deposit", "transfer"]
LENGTH = 10


def make_log(events: int, customers: int, seed: int = 0) -> pd.DataFrame:
    """An unsorted log: each customer has about events/customers events at random times."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2020-01-01T00:00:00", "s")
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, customers, size=events, dtype=np.int64),
            "timestamp": start + rng.integers(0, 3 * 365 * 86400, size=events).astype("timedelta64[s]"),
            **{c: rng.normal(size=events) for c in NUMERIC},
            "type": pd.Categorical.from_codes(rng.integers(0, len(LEVELS), size=events), categories=LEVELS),
        }
    )


def ours(log: pd.DataFrame):
    return build_sequences(
        log,
        id_col="customer_id",
        time_col="timestamp",
        length=LENGTH,
        numeric=NUMERIC,
        categorical={"type": LEVELS},
    )


def loop(log: pd.DataFrame) -> np.ndarray:
    """The per-customer loop found in notebooks (same output layout: pre-padded, one-hot type)."""
    out = []
    for _, group in log.groupby("customer_id", sort=True):
        last = group.sort_values("timestamp").tail(LENGTH)
        steps = np.zeros((LENGTH, len(NUMERIC) + len(LEVELS)), dtype=np.float32)
        values = last[NUMERIC].to_numpy(dtype=np.float32)
        onehot = pd.get_dummies(last["type"]).reindex(columns=LEVELS, fill_value=0).to_numpy(dtype=np.float32)
        steps[LENGTH - len(last) :] = np.hstack([values, onehot])
        out.append(steps)
    return np.stack(out)


def timed(fn, arg, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def peak_bytes(fn, arg) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = fn(arg)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--events-per-customer", type=int, default=10)
    parser.add_argument("--loop-events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    sample = make_log(args.loop_events, args.loop_events // args.events_per_customer, seed=1)
    started = time.perf_counter()
    looped = loop(sample)  # timed once: it is slow
    loop_rate = args.loop_events / (time.perf_counter() - started)
    assert np.array_equal(looped, ours(sample).X), "the loop and the builder disagree"
    fast_rate = args.loop_events / timed(ours, sample, args.repeat)
    print(f"loop on {args.loop_events:,} events: {loop_rate:,.0f} events/s; ours on the same sample: "
          f"{fast_rate:,.0f} events/s ({fast_rate / loop_rate:,.0f}x)")  # fmt: skip

    print(
        "| events | customers | ours: events/s (median) | x loop | peak MiB | input columns MiB "
        "| peak / input |"
    )
    print("|---|---|---|---|---|---|---|")
    for events in args.sizes:
        log = make_log(events, events // args.events_per_customer)
        seconds = timed(ours, log, args.repeat)
        peak = peak_bytes(ours, log)
        size = int(log.memory_usage(deep=True, index=False).sum())
        rate = events / seconds
        customers = events // args.events_per_customer
        print(f"| {events:,} | {customers:,} | {rate:,.0f} ({seconds:.2f} s) | {rate / loop_rate:,.0f} "
              f"| {peak / 2**20:,.0f} | {size / 2**20:,.0f} | {peak / size:.2f} |")  # fmt: skip
        del log


if __name__ == "__main__":
    main()
