"""Point-in-time aggregate building speed and memory (``seqexp.data.aggregates.build_aggregates``).

Synthetic unsorted event logs: int customer ids (10 events per customer on average), datetime64
timestamps over 3 years before the reference date, one numeric column (``amount``), two 0/1 flag
columns (as ``derive`` makes them: float64), one categorical column with 6 levels (pandas
categorical). The aggregates: 4 windows (7, 30, 90, 365 days) with sum/mean/max of the three numeric
columns and trends, gaps, days since each flag, counts of the top 5 levels + ``(other)``. For each
size: events/s (median of --repeat runs) and the peak memory the builder allocates (tracemalloc, a
separate run: numpy and pandas report their buffers to it), beside the size of the input columns.

    python benchmarks/bench_aggregates.py                      # 1M and 10M events (~1 minute)
    python benchmarks/bench_aggregates.py --sizes 1000000 --repeat 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's seqexp, not an installed one
from seqexp.data.aggregates import build_aggregates, feature_names  # noqa: E402
from seqexp.data.readers import OTHER_CLASS  # noqa: E402

LEVELS = ["card", "bill", "atm", "salary", "deposit", "transfer"]
REFERENCE = np.datetime64("2023-01-01T00:00:00", "s")
SPEC = {
    "numeric": ["amount", "is_target", "is_large"],
    "stats": ["sum", "mean", "max"],
    "windows_days": [7.0, 30.0, 90.0, 365.0],
    "flags": ["is_target", "is_large"],
    "levels": {"type": sorted(LEVELS[:5]) + [OTHER_CLASS]},
    "gaps": "events",
    "trend": True,
    "log1p": False,
}


def make_log(events: int, customers: int, seed: int = 0) -> pd.DataFrame:
    """An unsorted log: each customer has about events/customers events at random times."""
    rng = np.random.default_rng(seed)
    start = REFERENCE - np.timedelta64(3 * 365 * 86400, "s")
    amount = rng.lognormal(3.0, 1.0, size=events)
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, customers, size=events, dtype=np.int64),
            "timestamp": start + rng.integers(0, 3 * 365 * 86400, size=events).astype("timedelta64[s]"),
            "amount": amount,
            "is_target": (rng.random(events) < 0.05).astype(np.float64),
            "is_large": (amount > 100).astype(np.float64),
            "type": pd.Categorical.from_codes(rng.integers(0, len(LEVELS), size=events), categories=LEVELS),
        }
    )


def build(log: pd.DataFrame):
    return build_aggregates(log, id_col="customer_id", time_col="timestamp", reference=REFERENCE, spec=SPEC)


def timed(log: pd.DataFrame, repeat: int) -> tuple[float, float]:
    """Median and first of ``repeat`` runs (the first also pays for fresh memory pages)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        build(log)
        times.append(time.perf_counter() - started)
    return statistics.median(times), times[0]


def peak_bytes(log: pd.DataFrame) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = build(log)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return peak


def check(log: pd.DataFrame) -> None:
    """A few values against pandas' groupby on the same log (a sanity check, not the test suite)."""
    agg = build(log.head(200_000))
    sample = log.head(200_000)
    grouped = sample.groupby("customer_id")
    names = agg.names
    np.testing.assert_array_equal(agg.X[:, names.index("count")], grouped.size().to_numpy())
    np.testing.assert_allclose(
        agg.X[:, names.index("amount_sum")], grouped["amount"].sum().to_numpy(), rtol=1e-5
    )
    recent = sample[sample["timestamp"] >= REFERENCE - np.timedelta64(30 * 86400, "s")]
    in_30 = recent.groupby("customer_id")["amount"].max().reindex(agg.ids).to_numpy()
    np.testing.assert_allclose(agg.X[:, names.index("amount_max_30d")], in_30, rtol=1e-5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--events-per-customer", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{len(feature_names(SPEC))} features per customer")  # fmt: skip
    print(
        "| events | customers | events/s (median) | first run | peak MiB | input columns MiB | peak / input |"
    )
    print("|---|---|---|---|---|---|---|")
    for events in args.sizes:
        customers = events // args.events_per_customer
        log = make_log(events, customers)
        check(log)
        seconds, first = timed(log, args.repeat)
        peak = peak_bytes(log)
        size = int(log.memory_usage(deep=True, index=False).sum())
        rate = events / seconds
        mib = f"{peak / 2**20:,.0f} | {size / 2**20:,.0f} | {peak / size:.2f}"
        print(f"| {events:,} | {customers:,} | {rate:,.0f} ({seconds:.2f} s) | {events / first:,.0f} "
              f"({first:.2f} s) | {mib} |")  # fmt: skip
        del log
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
