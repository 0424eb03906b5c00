"""Bootstrap intervals for binary test metrics, and a paired comparison of two models on the same rows.

Vectorized: rows are sorted by score once, and each resample is a row of Poisson(1) weights (the
Poisson bootstrap, which approximates drawing n rows with replacement and lets every resample share
the one sorted order), so PR-AUC, ROC-AUC, F1, MCC, precision, recall and Brier of 1,000 resamples
of 10,000 rows take a fraction of a second. Resamples are processed in chunks to bound memory.
A paired comparison draws the SAME weights for both models, so the interval of the difference
reflects only how the models differ on the same customers, not which customers were drawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

RESAMPLES = 1000
LEVEL = 0.95
# Weights per chunk (resamples x rows): 8 MB of float64. Smaller chunks than this cost more in
# per-call overhead; larger ones (32 MB) took 0.50 s instead of 0.32 s for the first 1,000 x 3,000
# of a process, each temporary array being fresh memory the system must map; same intervals.
CHUNK_CELLS = 1_000_000
METRICS = ("pr_auc", "roc_auc", "f1", "mcc", "precision", "recall", "brier")


def _metrics(
    weights: np.ndarray, y: np.ndarray, scores: np.ndarray, threshold: float
) -> dict[str, np.ndarray]:
    """Every metric for each row of ``weights`` (resamples x rows)."""
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], y[order].astype(np.float64)
    w = weights[:, order]
    tp = np.cumsum(w * t, axis=1)
    fp = np.cumsum(w * (1.0 - t), axis=1)
    last = np.flatnonzero(np.r_[s[1:] != s[:-1], True])  # the end of each run of tied scores
    tp, fp = tp[:, last], fp[:, last]
    pos, neg = tp[:, -1:], fp[:, -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision_curve = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = tp / pos
        fpr = fp / neg
    d_recall = np.diff(np.concatenate([np.zeros_like(pos), recall], axis=1), axis=1)
    pr_auc = np.sum(d_recall * precision_curve, axis=1)
    tpr0 = np.concatenate([np.zeros_like(pos), recall], axis=1)
    fpr0 = np.concatenate([np.zeros_like(neg), fpr], axis=1)
    roc_auc = np.sum(np.diff(fpr0, axis=1) * (tpr0[:, 1:] + tpr0[:, :-1]) / 2.0, axis=1)

    predicted = (scores >= threshold).astype(np.float64)
    TP = weights @ (y * predicted)
    FP = weights @ ((1 - y) * predicted)
    FN = weights @ (y * (1 - predicted))
    TN = weights @ ((1 - y) * (1 - predicted))
    with np.errstate(invalid="ignore", divide="ignore"):
        prec = np.where(TP + FP > 0, TP / (TP + FP), 0.0)
        rec = np.where(TP + FN > 0, TP / (TP + FN), 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
        denom = np.sqrt((TP + FP) * (TP + FN) * (TN + FP) * (TN + FN))
        mcc = np.where(denom > 0, (TP * TN - FP * FN) / denom, 0.0)
    total = weights.sum(axis=1)
    brier = (weights @ (scores - y) ** 2) / total
    return {
        "pr_auc": pr_auc, "roc_auc": roc_auc, "f1": f1, "mcc": mcc, "precision": prec, "recall": rec,
        "brier": brier,
    }  # fmt: skip


def _weights(rng: np.random.Generator, resamples: int, rows: int) -> list[np.ndarray]:
    per_chunk = max(1, CHUNK_CELLS // max(rows, 1))
    sizes = [min(per_chunk, resamples - start) for start in range(0, resamples, per_chunk)]
    return [rng.poisson(1.0, size=(size, rows)).astype(np.float64) for size in sizes]


def _interval(values: np.ndarray, level: float) -> list[float]:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return [float("nan"), float("nan")]
    tail = (1.0 - level) / 2.0 * 100.0
    return [float(np.percentile(values, tail)), float(np.percentile(values, 100.0 - tail))]


def intervals(
    y: np.ndarray, scores: np.ndarray, threshold: float, *, seed: int, resamples: int = RESAMPLES,
    level: float = LEVEL,
) -> dict[str, list[float]]:  # fmt: skip
    """``{metric: [low, high]}``: the central ``level`` bootstrap interval of each test metric."""
    y, scores = np.asarray(y, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[np.ndarray]] = {name: [] for name in METRICS}
    for w in _weights(rng, resamples, len(y)):
        for name, values in _metrics(w, y, scores, threshold).items():
            draws[name].append(values)
    return {name: _interval(np.concatenate(parts), level) for name, parts in draws.items()}


def paired_difference(
    y: np.ndarray, scores_a: np.ndarray, scores_b: np.ndarray, *, metric: str = "pr_auc", seed: int,
    thresholds: tuple[float, float] = (0.5, 0.5), resamples: int = RESAMPLES, level: float = LEVEL,
) -> dict[str, Any]:  # fmt: skip
    """A minus B in ``metric`` on the same test rows: the observed difference, its paired bootstrap
    interval, and a verdict: ``yes`` (A better: the interval lies above 0), ``no`` (below 0) or
    ``unclear`` (it contains 0)."""
    y = np.asarray(y, dtype=np.float64)
    a, b = np.asarray(scores_a, dtype=np.float64), np.asarray(scores_b, dtype=np.float64)
    ones = np.ones((1, len(y)))
    observed = float(
        _metrics(ones, y, a, thresholds[0])[metric][0] - _metrics(ones, y, b, thresholds[1])[metric][0]
    )
    rng = np.random.default_rng(seed)
    diffs = [
        _metrics(w, y, a, thresholds[0])[metric] - _metrics(w, y, b, thresholds[1])[metric]
        for w in _weights(rng, resamples, len(y))
    ]
    low, high = _interval(np.concatenate(diffs), level)
    lower_is_better = metric == "brier"
    if lower_is_better:
        low, high, observed = -high, -low, -observed  # report "how much better A is"
    verdict = "yes" if low > 0 else ("no" if high < 0 else "unclear")
    return {"metric": metric, "difference": observed, "interval": [low, high], "level": level,
            "resamples": resamples, "verdict": verdict}  # fmt: skip
