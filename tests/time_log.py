"""A generated purchase log over five months for the out-of-time tests: customers buy at their own
rate, some prefer the targeted product (sku 2), so "buys sku 2 within 14 days" is learnable from the
history before each cutoff; new customers keep arriving."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

START, DAYS = pd.Timestamp("2024-01-01"), 150


def write_log(path: Path, customers: int = 300, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    rate = rng.gamma(1.5, 0.12, customers)  # purchases per day
    likes = rng.beta(1, 3, customers)  # share of a customer's purchases that are sku 2
    first = rng.integers(0, DAYS // 2, customers)  # the day the customer arrives
    rows = []
    for c in range(customers):
        n = rng.poisson(rate[c] * (DAYS - first[c]))
        days = np.sort(rng.uniform(first[c], DAYS, n))
        for day in days:
            sku = 2 if rng.random() < likes[c] else int(rng.choice([1, 3]))
            rows.append(
                (c + 1, START + pd.Timedelta(days=float(day)), round(float(rng.lognormal(3, 0.5)), 2), sku)
            )
    frame = pd.DataFrame(rows, columns=["customer", "when", "amount", "sku"])
    frame["when"] = frame["when"].dt.strftime("%Y-%m-%d %H:%M:%S")
    frame.to_csv(path, index=False)
    return path


def snapshot_section(path: Path) -> dict:
    """An events data section on the log: weekly cutoffs from February to mid-May, 14-day labels."""
    return {
        "name": "events", "path": str(path), "id": "customer", "time": "when", "numeric": ["amount"],
        "derive": {"is_target": "sku == 2"}, "output": "aggregates",
        "aggregates": {"windows_days": [14, 56], "flags": ["is_target"], "trend": False},
        "labels": {"horizon_days": 14, "where": "is_target == 1"},
        "snapshots": {"every_days": 14, "from": "2024-02-01", "to": "2024-05-16"},
    }  # fmt: skip
