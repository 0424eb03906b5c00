"""Built-in synthetic data: daily account behaviour and default risk.

Each customer has ``sequence_length`` days of history: salary credits, end-of-day savings
balance, expenses, utility payments, ATM withdrawals and UPI transfers. Some customers default
at a date drawn in the future; from 20-45 days before that date they deteriorate: salaries go
missing, savings drain, withdrawals and transfers rise, utility bills are skipped. The label is
made from the future: 1 when the default falls within ``target_days_ahead`` days after the window.
Customers who default later than that have started to deteriorate too (hard negatives), and some
healthy customers have a temporary dip, so a model must read how the trend develops.

The arrays come from the generated rows through the ``events`` builder (``seqexp.data.generated_log``),
so a run trained here scores the files ``seqexp generate`` writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from seqexp.config.section import Section
from seqexp.data.dataset import Dataset
from seqexp.data.generated_log import EVENTS_FILE, LABELS_FILE, as_saved, encode_log, events_section
from seqexp.data.synthetic import GENERATORS
from seqexp.lazy import lazy_module
from seqexp.registry import DATA_SOURCES

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # imported on first use: light commands never pay for it

FEATURES = [
    "salary_credit",
    "savings_balance",
    "expenses",
    "utility_payment",
    "atm_withdrawal",
    "upi_transfer",
]
START_DATE = np.datetime64("2024-10-01")


class SyntheticDailyDefaultConfig(Section):
    """Synthetic daily account behaviour (salary, savings, spending...) with a future default label."""

    name: Literal["synthetic_daily_default"] = "synthetic_daily_default"
    customers: int = Field(5_000, ge=50, le=5_000_000, description="Number of customers.")
    sequence_length: int = Field(60, ge=30, le=90, description="Days of history per customer.")
    target_days_ahead: int = Field(
        30, ge=1, le=365, description="Label: default within this many days after."
    )
    default_rate: float = Field(
        0.07, gt=0, lt=0.5, description="Share of customers who default in that time."
    )
    late_default_rate: float = Field(
        0.05, ge=0, lt=0.5, description="Share who default only later (already deteriorating; label 0)."
    )
    dip_rate: float = Field(0.1, ge=0, le=1, description="Share of healthy customers with a temporary dip.")
    seed: int | None = Field(None, ge=0, description="Generator seed; null uses the experiment seed.")


def generate_daily(cfg: SyntheticDailyDefaultConfig, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(days, labels)``: one row per customer and day, one row per customer."""
    rng = np.random.default_rng(cfg.seed if cfg.seed is not None else seed)
    n, days, ahead = cfg.customers, cfg.sequence_length, cfg.target_days_ahead
    day = np.arange(days)[None, :]

    # Future default dates (days from the window start); never-defaulters get infinity.
    default_day = np.full(n, np.inf)
    group = rng.random(n)
    soon = group < cfg.default_rate
    late = (group >= cfg.default_rate) & (group < cfg.default_rate + cfg.late_default_rate)
    default_day[soon] = days + rng.integers(1, ahead + 1, size=int(soon.sum()))
    default_day[late] = days + ahead + rng.integers(1, 60, size=int(late.sum()))
    onset = default_day - rng.integers(20, 46, size=n)
    stress = np.clip((day - onset[:, None]) / 30.0, 0.0, 1.0)  # 0 healthy .. 1 at the brink
    dips = (~soon & ~late) & (rng.random(n) < cfg.dip_rate)
    dip_start = rng.integers(0, days - 10, size=n)
    dip = dips[:, None] & (day >= dip_start[:, None]) & (day < dip_start[:, None] + 10)
    stress = np.maximum(stress, 0.6 * dip)

    income = np.exp(rng.normal(8.0, 0.5, size=n))  # monthly salary
    payday = rng.integers(0, 30, size=n)
    is_payday = (day % 30) == payday[:, None]
    paid = is_payday & (rng.random((n, days)) > 0.9 * stress)
    salary = np.where(paid, income[:, None] * rng.normal(1.0, 0.03, size=(n, days)), 0.0)

    spend_rate = income / 30 * rng.uniform(0.5, 0.9, size=n)
    expenses = rng.gamma(2.0, spend_rate[:, None] / 2.0 * (1 + 0.3 * stress))
    bill_day = rng.integers(0, 30, size=n)
    bill = (day % 30) == bill_day[:, None]
    utility = np.where(bill & (rng.random((n, days)) > 0.8 * stress), income[:, None] * 0.05, 0.0)
    atm = np.where(rng.random((n, days)) < 0.08 + 0.25 * stress, rng.gamma(2.0, income[:, None] / 40), 0.0)
    upi = np.where(rng.random((n, days)) < 0.15 + 0.3 * stress, rng.gamma(2.0, income[:, None] / 50), 0.0)

    start = income * rng.uniform(0.5, 3.0, size=n)
    flow = salary - expenses - utility - atm - upi + income[:, None] / 30 * 0.35  # other income
    savings = np.maximum(start[:, None] + np.cumsum(flow, axis=1), 0.0)

    label = soon.astype(np.int64)
    ids = np.char.add("D", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    values = np.stack([salary, savings, expenses, utility, atm, upi], axis=-1).round(2)
    frame = pd.DataFrame(values.reshape(n * days, len(FEATURES)), columns=FEATURES)
    frame.insert(0, "date", np.tile(START_DATE + np.arange(days).astype("timedelta64[D]"), n))
    frame.insert(0, "customer_id", np.repeat(ids, days))
    return frame, pd.DataFrame({"customer_id": ids, "label": label})


def events_data(cfg: SyntheticDailyDefaultConfig) -> dict[str, Any]:
    """The ``events`` data section that reads the generated ``events.parquet`` and ``labels.parquet``
    as this source encodes them: one step per day, log(1 + x) of each amount (every customer has
    every day, so no step is padding)."""
    return {
        "name": "events",
        "path": EVENTS_FILE,
        "id": "customer_id",
        "time": "date",
        "numeric": list(FEATURES),
        "log1p": list(FEATURES),
        "sequence_length": cfg.sequence_length,
        "reference_date": str(START_DATE + np.timedelta64(cfg.sequence_length, "D")),  # the day after
        "labels": {"path": LABELS_FILE, "id": "customer_id", "column": "label"},
    }


SAVED_NAMES = {name: f"log_{name}" for name in FEATURES}  # runs saved before the events path


def sequences_from_days(
    frame: pd.DataFrame,
    labels: pd.DataFrame | None,
    cfg: SyntheticDailyDefaultConfig,
) -> Dataset:
    """Daily rows (and labels; None: unlabelled) encoded by the events builder, as ``events_data``
    reads their files."""
    section = events_section(events_data(cfg))
    return encode_log(cfg.name, section, frame, labels, levels={}, labelled=labels is not None)


def saved_layout(data: Dataset, schema: dict | None) -> Dataset:
    """``data`` as a run saved before the events path reads it: its names, no mask (no padding)."""
    return as_saved(data, schema, SAVED_NAMES, mask=False)


@DATA_SOURCES.register(
    SyntheticDailyDefaultConfig, tags=("synthetic",), events=events_data, saved=saved_layout
)
def build_synthetic_daily_default(
    cfg: SyntheticDailyDefaultConfig, *, seed: int, schema: dict | None = None, labelled: bool = True
) -> Dataset:
    """Generate the daily records in memory and encode them with the events builder: (customers,
    days, 6) sequences."""
    frame, labels = generate_daily(cfg, seed)
    return sequences_from_days(frame, labels if labelled else None, cfg)  # fixed: schema changes nothing


GENERATORS["synthetic_daily_default"] = generate_daily
