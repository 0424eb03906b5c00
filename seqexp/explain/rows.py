"""Reasons for many customers, chunk by chunk: the run's scaling, its model's scores and contributions.

Shared by ``seqexp explain`` (``reasons.csv``) and ``seqexp predict --explain K`` (the
``reason_1..reason_K`` columns), so both say the same thing about the same customer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from seqexp.data.dataset import Dataset
from seqexp.explain.contributions import Attribution, attributor
from seqexp.explain.layout import Layout
from seqexp.explain.reasons import Reason, top_reasons
from seqexp.runfolder.reader import SavedRun

CHUNK = 8192  # rows scaled, scored and explained at a time (integrated gradients: x alpha_steps)


@dataclass(frozen=True)
class Chunk:
    ids: np.ndarray
    y: np.ndarray
    scores: np.ndarray
    reasons: list[list[Reason]]
    attribution: Attribution


def method_of(kind: str, layout: Layout, alpha_steps: int) -> str:
    """How the contributions were computed, in one line (explanation.json, the terminal)."""
    if kind == "lightgbm":
        return "LightGBM's own contributions (exact TreeSHAP), log-odds"
    if kind == "logistic_regression":
        return "coefficient x standardized value (exact), log-odds"
    start = "the same events at the training mean" if layout.is_sequence else "the training mean"
    return f"integrated gradients from {start}, {alpha_steps} steps, log-odds"


def explain_chunks(
    run: SavedRun, data: Dataset, layout: Layout, top: int, *, chunk: int = CHUNK, alpha_steps: int = 32
) -> Iterator[Chunk]:
    """Per chunk of ``data`` (raw, as built by the run's data source): scores and top reasons."""
    attribute = attributor(run.estimator, layout, alpha_steps=alpha_steps)
    for start in range(0, len(data.y), chunk):
        part = slice(start, start + chunk)
        raw = data.X[part]
        mask = None if data.mask is None else data.mask[part]
        X = run.scaler.transform(raw, mask)
        scores = np.asarray(run.scorer(X), dtype=np.float64)
        attr = attribute(X)
        yield Chunk(data.ids[part], data.y[part], scores, top_reasons(attr, layout, raw, mask, top), attr)


def completeness_gap(attr: Attribution) -> np.ndarray:
    """Per row, |sum of contributions - (output - bias)|: 0 for exact methods, the integration
    error for integrated gradients."""
    return np.abs(attr.total() - (attr.output - attr.bias))
