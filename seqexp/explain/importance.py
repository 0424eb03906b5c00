"""Permutation importance on the validation split: how much PR-AUC drops when one thing is shuffled.

- **By feature** (a unit: a numeric column, or a categorical column's whole one-hot block): its
  values are shuffled across customers; for sequences, across every real step of every customer
  (pooled), so padding stays padding and each step keeps its place.
- **By time step** (sequences): the whole step ``t`` (every feature of the event ``L - t`` before
  the cutoff) is shuffled among the customers that have a real event there: which recent events
  the model reads.

Each is repeated ``repeats`` times with a seeded generator; the importance is the mean drop of
PR-AUC (average precision) from the unshuffled score, with its standard deviation. A feature the
model does not use scores about 0; a negative value is noise (shuffling helped by chance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from seqexp.explain.layout import Layout


@dataclass(frozen=True)
class Importance:
    kind: str  # "feature" or "step"
    name: str  # the unit, or "event k before the cutoff"
    age: int | None  # steps: 1 = the latest event
    drop: float  # mean PR-AUC drop over the repeats
    std: float
    rows: int  # customers the shuffle changed (steps: those with a real event there)


def pr_auc(y: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, scores))


def permutation_importance(
    score: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    layout: Layout,
    *,
    mask: np.ndarray | None = None,
    repeats: int = 5,
    seed: int = 0,
) -> tuple[float, list[Importance]]:
    """``(PR-AUC unshuffled, importances)``; ``score`` maps rows of ``X`` (scaled) to scores."""
    y = np.asarray(y).astype(int)
    if len(np.unique(y)) < 2:
        raise ValueError("permutation importance needs both classes in the validation split")
    rng = np.random.default_rng(seed)
    base = pr_auc(y, score(X))
    out: list[Importance] = []
    real = None
    if X.ndim == 3:
        real = np.ones(X.shape[:2], bool) if mask is None else mask.astype(bool)
    for unit in layout.units:
        cols = list(unit.columns)
        drops = []
        for _ in range(repeats):
            shuffled = X.copy()
            if real is None:
                shuffled[:, cols] = X[rng.permutation(len(X))][:, cols]
            else:
                pooled = X[real][:, cols]
                values = shuffled[real]
                values[:, cols] = pooled[rng.permutation(len(pooled))]
                shuffled[real] = values
            drops.append(base - pr_auc(y, score(shuffled)))
        rows = len(X) if real is None else int(real.any(axis=1).sum())
        out.append(Importance("feature", unit.name, None, float(np.mean(drops)), float(np.std(drops)), rows))
    if real is not None:
        ages = layout.ages() if layout.steps == X.shape[1] else np.arange(X.shape[1], 0, -1)
        for t, age in enumerate(ages):
            who = np.flatnonzero(real[:, t])
            if len(who) < 2:
                continue
            drops = []
            for _ in range(repeats):
                shuffled = X.copy()
                shuffled[who, t] = X[rng.permutation(who), t]
                drops.append(base - pr_auc(y, score(shuffled)))
            name = "the latest event" if age == 1 else f"event {age} before the cutoff"
            out.append(
                Importance("step", name, int(age), float(np.mean(drops)), float(np.std(drops)), len(who))
            )
    return base, out
