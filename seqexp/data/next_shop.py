"""Built-in synthetic data with a multi-class target: which shop a customer buys from next.

Each customer's purchases walk over ``shops`` shops. The next shop depends on the recent ones: with
probability ``markov_weight`` it follows a sparse transition matrix (each shop leads to a few
``successors``, e.g. the bakery after the butcher), with probability ``preference_weight`` it is one
of the customer's own favourite shops (visible in their history), and otherwise it is drawn from the
shops' overall popularity (skewed: a few big shops, many small ones). The target is the shop of the
purchase after the history, so "always the most popular shop" is a weak baseline and a model that
reads the last shops and the customer's habits can do much better.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field, model_validator

from seqexp.config.section import Section
from seqexp.data.dataset import Dataset
from seqexp.data.sequences import build_sequences, days_since_previous
from seqexp.lazy import lazy_module
from seqexp.registry import DATA_SOURCES

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # imported on first use: light commands never pay for it

REFERENCE_DATE = np.datetime64("2025-01-01T00:00:00")


class SyntheticNextShopConfig(Section):
    """Synthetic purchase sequences over many shops; the target is the next shop (multi-class)."""

    name: Literal["synthetic_next_shop"] = "synthetic_next_shop"
    customers: int = Field(8000, ge=50, le=10_000_000, description="Number of customers.")
    shops: int = Field(47, ge=3, le=1000, description="Number of shops (= classes of the target).")
    sequence_length: int = Field(10, ge=2, le=1_000, description="Last N purchases kept per customer.")
    successors: int = Field(3, ge=1, le=50, description="Shops each shop leads to in the transition matrix.")
    favourites: int = Field(2, ge=1, le=50, description="Favourite shops per customer.")
    markov_weight: float = Field(
        0.55, ge=0, le=1, description="Chance the next shop follows the transition matrix from the last one."
    )
    preference_weight: float = Field(
        0.25, ge=0, le=1, description="Chance the next shop is one of the customer's favourites."
    )
    popularity_skew: float = Field(
        0.8, ge=0, le=3, description="Zipf exponent of shop popularity (0: all shops equally popular)."
    )
    seed: int | None = Field(None, ge=0, description="Generator seed; null uses the experiment seed.")

    @model_validator(mode="after")
    def _weights_fit(self) -> SyntheticNextShopConfig:
        if self.markov_weight + self.preference_weight > 1.0 + 1e-9:
            raise ValueError("markov_weight + preference_weight must not exceed 1")
        if self.successors >= self.shops or self.favourites >= self.shops:
            raise ValueError("successors and favourites must be fewer than shops")
        return self


def shop_names(shops: int) -> list[str]:
    width = len(str(shops - 1))
    return [f"shop_{i:0{width}d}" for i in range(shops)]


def _draw(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of ``probs`` (rows sum to 1)."""
    cumulative = probs.cumsum(axis=1)
    u = rng.random(len(probs))[:, None] * cumulative[:, -1:]
    return np.minimum((cumulative < u).sum(axis=1), probs.shape[1] - 1)


def generate_next_shop(cfg: SyntheticNextShopConfig, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(events, labels)``: one row per purchase, and per customer the next shop's index."""
    rng = np.random.default_rng(cfg.seed if cfg.seed is not None else seed)
    n, k, length = cfg.customers, cfg.shops, cfg.sequence_length
    popularity = rng.permutation(1.0 / np.arange(1, k + 1) ** cfg.popularity_skew)
    popularity /= popularity.sum()

    # Sparse transitions: each shop leads to a few others (popular ones more often).
    transitions = np.zeros((k, k))
    for shop in range(k):
        others = np.delete(np.arange(k), shop)
        weights = popularity[others] / popularity[others].sum()
        nxt = rng.choice(others, size=cfg.successors, replace=False, p=weights)
        transitions[shop, nxt] = rng.dirichlet(np.full(cfg.successors, 2.0))
    preference = np.zeros((n, k))
    for c in range(n):
        preference[c, rng.choice(k, size=cfg.favourites, replace=False, p=popularity)] = 1.0 / cfg.favourites
    background = 1.0 - cfg.markov_weight - cfg.preference_weight

    lengths = rng.integers(max(2, length // 2), 2 * length + 1, size=n)
    steps = int(lengths.max()) + 1  # the history, then the purchase to predict
    shops = np.empty((n, steps), dtype=np.int64)
    shops[:, 0] = _draw(rng, 0.5 * preference + 0.5 * popularity)
    for t in range(1, steps):
        probs = (
            cfg.markov_weight * transitions[shops[:, t - 1]]
            + cfg.preference_weight * preference
            + background * popularity
        )
        shops[:, t] = _draw(rng, probs)

    labels = shops[np.arange(n), lengths]
    keep = np.arange(steps)[None, :] < lengths[:, None]
    customer = np.nonzero(keep)[0]
    event_shop = shops[keep]
    log_amount = rng.normal(rng.normal(3.5, 0.7, size=k)[event_shop], 0.4)
    gaps = rng.exponential(5.0, size=len(event_shop)) + 0.05
    ends = np.cumsum(lengths) - 1
    cum = np.cumsum(gaps)
    days_before = rng.exponential(10.0, size=n)[customer] + (cum[ends][customer] - cum)
    names = shop_names(k)
    ids = np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    events = pd.DataFrame(
        {
            "customer_id": ids[customer],
            "timestamp": REFERENCE_DATE - (days_before * 86400).astype("timedelta64[s]"),
            "shop": pd.Categorical.from_codes(event_shop, categories=names),
            "amount": np.round(np.exp(log_amount), 2),
        }
    )
    return events, pd.DataFrame({"customer_id": ids, "label": labels})


@DATA_SOURCES.register(SyntheticNextShopConfig, tags=("synthetic", "multiclass"))
def build_synthetic_next_shop(
    cfg: SyntheticNextShopConfig, *, seed: int, schema: dict | None = None, labelled: bool = True
) -> Dataset:
    """Per step: the shop (one-hot), log amount and log days since the previous purchase. The target
    is the next shop's index; ``schema["classes"]`` names the shops (the encoding is fixed, so a
    run's ``schema`` changes nothing here)."""
    events, labels = generate_next_shop(cfg, seed)
    names = shop_names(cfg.shops)
    frame = events.assign(
        log_amount=np.log1p(events["amount"].to_numpy(dtype=np.float64)),
        log_gap_days=np.log1p(days_since_previous(events, id_col="customer_id", time_col="timestamp")),
    )
    seq = build_sequences(
        frame,
        id_col="customer_id",
        time_col="timestamp",
        length=cfg.sequence_length,
        numeric=["log_amount", "log_gap_days"],
        categorical={"shop": names},
    )
    if labelled:
        y = labels.set_index("customer_id")["label"].reindex(seq.ids).to_numpy(dtype=np.int64)
    else:
        y = np.full(len(seq.ids), -1, dtype=np.int64)
    counts = np.bincount(y[y >= 0], minlength=cfg.shops)
    return Dataset(
        X=seq.X,
        y=y,
        ids=seq.ids,
        feature_names=seq.feature_names,
        mask=seq.mask,
        onehot_groups=seq.onehot_groups,
        schema={"classes": names, "sequence_length": cfg.sequence_length},
        report={
            "events": len(events),
            "customers": len(seq.ids),
            "classes": cfg.shops,
            "most_frequent_class_share": round(float(counts.max() / max(counts.sum(), 1)), 4),
            "rarest_class_rows": int(counts.min()),
        },
    )
