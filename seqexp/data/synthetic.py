"""Built-in synthetic data: customer transactions whose signal lies in order and recency.

A customer who is about to buy the targeted product (a savings product, say) tops up savings
three times in a row with rising amounts, recently, and has been more active lately. Decoy
negatives show the same deposits in the wrong order (falling amounts) or long ago, so the
count of deposits alone separates the classes only partly: a model must read the sequence.

The arrays come from the generated log through the ``events`` builder (``seqexp.data.generated_log``),
so a run trained here scores the files ``seqexp generate`` writes as it scored its own test customers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from seqexp.config.section import Section
from seqexp.data.dataset import Dataset
from seqexp.data.generated_log import EVENTS_FILE, LABELS_FILE, as_saved, encode_log, events_section
from seqexp.lazy import lazy_module
from seqexp.registry import DATA_SOURCES

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # imported on first use: light commands never pay for it

TYPES = ["card_purchase", "bill_payment", "atm_withdrawal", "salary", "deposit", "transfer"]
TYPE_PROBS = np.array([0.45, 0.15, 0.12, 0.08, 0.08, 0.12])
LOG_AMOUNT_MEAN = np.array([3.5, 4.5, 4.0, 7.5, 5.0, 4.5])
DEPOSIT = TYPES.index("deposit")
REFERENCE_DATE = np.datetime64("2025-01-01T00:00:00")
RUN = np.array([1.9, 1.4, 1.0])  # amount multipliers of the deposit run, newest first


class SyntheticTransactionsConfig(Section):
    """Synthetic customer transaction sequences with an order- and recency-dependent target."""

    name: Literal["synthetic_transactions"] = "synthetic_transactions"
    customers: int = Field(20_000, ge=50, le=10_000_000, description="Number of customers.")
    sequence_length: int = Field(10, ge=3, le=1_000, description="Last N transactions kept per customer.")
    positive_rate: float = Field(0.1, gt=0, lt=0.5, description="Share of customers who buy the product.")
    pattern_rate: float = Field(
        0.85, ge=0, le=1, description="Share of buyers who show the tell-tale pattern (the rest look normal)."
    )
    decoy_rate: float = Field(
        0.25, ge=0, le=1, description="Share of non-buyers with the same deposits in the wrong order or time."
    )
    seed: int | None = Field(None, ge=0, description="Generator seed; null uses the experiment seed.")


def generate_transactions(cfg: SyntheticTransactionsConfig, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(events, labels)`` as a user would bring them: one row per transaction / customer."""
    rng = np.random.default_rng(cfg.seed if cfg.seed is not None else seed)
    n, length = cfg.customers, cfg.sequence_length
    lengths = rng.integers(max(5, length // 2), 2 * length + 1, size=n)
    total = int(lengths.sum())
    customer = np.repeat(np.arange(n), lengths)
    ends = np.cumsum(lengths) - 1  # index of each customer's newest event

    types = rng.choice(len(TYPES), size=total, p=TYPE_PROBS)
    log_amount = rng.normal(LOG_AMOUNT_MEAN[types], 0.5)
    gaps = rng.exponential(6.0, size=total) + 0.05

    labels = np.zeros(n, dtype=np.int64)
    labels[rng.choice(n, size=max(1, round(n * cfg.positive_rate)), replace=False)] = 1
    positives, negatives = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    patterned = positives[rng.random(len(positives)) < cfg.pattern_rate]
    decoys = negatives[rng.random(len(negatives)) < cfg.decoy_rate]

    def place_run(who: np.ndarray, newest: np.ndarray, multipliers: np.ndarray) -> None:
        base = rng.normal(LOG_AMOUNT_MEAN[DEPOSIT], 0.3, size=len(who))
        for k in range(3):
            idx = ends[who] - newest - k
            types[idx] = DEPOSIT
            log_amount[idx] = base + np.log(multipliers[k])

    # Buyers: rising deposits ending within the last 3 events; more activity lately.
    offset = rng.integers(0, 3, size=len(patterned))
    place_run(patterned, offset, RUN)
    for k in range(3):
        gaps[ends[patterned] - k] *= 0.4
    # Decoys: half with falling amounts at the same place, half with rising ones long ago.
    falling = rng.random(len(decoys)) < 0.5
    place_run(decoys[falling], rng.integers(0, 3, size=int(falling.sum())), RUN[::-1])
    old = decoys[~falling]
    place_run(old, np.minimum(lengths[old] - 3, rng.integers(5, 8, size=len(old))), RUN)

    # Timestamps: newest event a few days before the reference date, buyers more recent.
    age_days = rng.exponential(10.0, size=n) * np.where(labels == 1, 0.6, 1.0)
    cum = np.cumsum(gaps)
    after = cum[ends][customer] - cum  # days between each event and its customer's newest
    days_before = age_days[customer] + after
    timestamps = REFERENCE_DATE - (days_before * 86400).astype("timedelta64[s]")

    ids = np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    events = pd.DataFrame(
        {
            "customer_id": ids[customer],
            "timestamp": timestamps,
            "type": pd.Categorical.from_codes(types, categories=TYPES),
            "amount": np.round(np.exp(log_amount), 2),
        }
    )
    return events, pd.DataFrame({"customer_id": ids, "label": labels})


def events_data(cfg: SyntheticTransactionsConfig) -> dict[str, Any]:
    """The ``events`` data section that reads the generated ``events.parquet`` and ``labels.parquet``
    (beside the config that holds it) as this source encodes them: per step the amount (log1p), the
    transaction type (one-hot over ``TYPES``), and log(1 + days) since the previous event and before
    the reference date (recency)."""
    return {
        "name": "events",
        "path": EVENTS_FILE,
        "id": "customer_id",
        "time": "timestamp",
        "numeric": ["amount"],
        "log1p": ["amount"],
        "categorical": ["type"],
        "sequence_length": cfg.sequence_length,
        "derived": ["days_since_previous", "days_before_reference"],
        "reference_date": str(REFERENCE_DATE.astype("datetime64[D]")),
        "labels": {"path": LABELS_FILE, "id": "customer_id", "column": "label"},
    }


# Feature names of runs saved before the events path (the same numbers): see ``as_saved``.
SAVED_NAMES = {
    "amount": "log_amount",
    "log1p_days_since_previous": "log_gap_days",
    "log1p_days_before_reference": "log_days_before_end",
}


def sequences_from_transactions(
    events: pd.DataFrame,
    labels: pd.DataFrame | None,
    cfg: SyntheticTransactionsConfig,
) -> Dataset:
    """Transactions (and labels; None: unlabelled) encoded by the events builder, as
    ``events_data(cfg)`` reads their files."""
    return encode_log(
        cfg.name,
        events_section(events_data(cfg)),
        events,
        labels,
        levels={"type": TYPES},
        labelled=labels is not None,
    )


def saved_layout(data: Dataset, schema: dict | None) -> Dataset:
    """``data`` as a run saved before the events path reads it (its feature names, its schema)."""
    return as_saved(data, schema, SAVED_NAMES)


@DATA_SOURCES.register(
    SyntheticTransactionsConfig, tags=("synthetic",), events=events_data, saved=saved_layout
)
def build_synthetic_transactions(
    cfg: SyntheticTransactionsConfig, *, seed: int, schema: dict | None = None, labelled: bool = True
) -> Dataset:
    """Generate the event log in memory and encode it with the events builder.

    Every data source takes ``schema`` (a run's saved ``Dataset.schema``: encode new data the way
    the run's training data was encoded) and ``labelled`` (False: data to score, ``y`` is -1).
    The encoding is fixed by ``cfg`` (the generator's levels), so ``schema`` changes nothing here.
    """
    events, labels = generate_transactions(cfg, seed)
    return sequences_from_transactions(events, labels if labelled else None, cfg)


# Synthetic source name -> (its config, seed) -> (events, labels) frames, for ``seqexp generate``.
GENERATORS: dict[str, Callable[[Any, int], tuple[Any, Any]]] = {
    "synthetic_transactions": generate_transactions
}
