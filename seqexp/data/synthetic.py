"""Built-in synthetic data: customer transactions whose signal lies in order and recency.

A customer who is about to buy the targeted product (a savings product, say) tops up savings
three times in a row with rising amounts, recently, and has been more active lately. Decoy
negatives show the same deposits in the wrong order (falling amounts) or long ago, so the
count of deposits alone separates the classes only partly: a model must read the sequence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from seqexp.config.section import Section
from seqexp.data.dataset import Dataset
from seqexp.data.sequences import build_sequences, days_since_previous
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


def sequences_from_transactions(events: pd.DataFrame, labels: pd.DataFrame, length: int) -> Dataset:
    """Features per step: transaction type (one-hot), log amount, log days since the previous
    event and log days before the reference date (recency)."""
    frame = events.assign(
        log_amount=np.log1p(events["amount"].to_numpy(dtype=np.float64)),
        log_gap_days=np.log1p(days_since_previous(events, id_col="customer_id", time_col="timestamp")),
        log_days_before_end=np.log1p(
            (REFERENCE_DATE - events["timestamp"].to_numpy()).astype("timedelta64[s]").astype(np.float64)
            / 86400.0
        ),
    )
    seq = build_sequences(
        frame,
        id_col="customer_id",
        time_col="timestamp",
        length=length,
        numeric=["log_amount", "log_gap_days", "log_days_before_end"],
        categorical={"type": TYPES},
    )
    if labels is None:
        y = np.full(len(seq.ids), -1, dtype=np.int64)
    else:
        y = labels.set_index("customer_id")["label"].reindex(seq.ids).to_numpy(dtype=np.int64)
    return Dataset(
        X=seq.X,
        y=y,
        ids=seq.ids,
        feature_names=seq.feature_names,
        mask=seq.mask,
        onehot_groups=seq.onehot_groups,
        schema={"types": TYPES, "sequence_length": length, "reference_date": str(REFERENCE_DATE)},
        report={
            "events": len(events),
            "customers": len(seq.ids),
            "positive_rate": round(float(y.mean()), 4) if labels is not None else None,
            "customers_shorter_than_sequence": int((seq.events_per_customer < length).sum()),
        },
    )


@DATA_SOURCES.register(SyntheticTransactionsConfig, tags=("synthetic",))
def build_synthetic_transactions(
    cfg: SyntheticTransactionsConfig, *, seed: int, schema: dict | None = None, labelled: bool = True
) -> Dataset:
    """Generate the event log in memory and turn it into sequences.

    Every data source takes ``schema`` (a run's saved ``Dataset.schema``: encode new data the way
    the run's training data was encoded) and ``labelled`` (False: data to score, ``y`` is -1).
    The synthetic encoding is fixed, so ``schema`` changes nothing here.
    """
    events, labels = generate_transactions(cfg, seed)
    return sequences_from_transactions(events, labels if labelled else None, cfg.sequence_length)


# Synthetic source name -> (its config, seed) -> (events, labels) frames, for ``seqexp generate``.
GENERATORS: dict[str, Callable[[Any, int], tuple[Any, Any]]] = {
    "synthetic_transactions": generate_transactions
}
"""Synthetic sources whose raw files ``seqexp generate`` can write."""
