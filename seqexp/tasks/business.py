"""The figures a campaign is decided by: lift and capture (gain) at the top of the ranking, the KS
statistic, and the profit of contacting everyone at or above a threshold given what each outcome is
worth (``evaluate.costs``)."""

from __future__ import annotations

from typing import Any

import numpy as np

TOP_PERCENTS = (1, 5, 10, 20)


def ranking_figures(y: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """``lift_top_K`` (positive rate in the top K% over the overall rate), ``capture_top_K`` (share
    of all positives found in the top K%) and ``ks`` (max gap between the cumulative shares of
    positives and negatives along the ranking)."""
    y = np.asarray(y, dtype=np.float64)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    ranked = y[order]
    n, positives = len(y), ranked.sum()
    out: dict[str, float] = {}
    for k in TOP_PERCENTS:
        top = max(1, int(np.ceil(n * k / 100.0)))
        found = ranked[:top].sum()
        out[f"lift_top_{k}"] = float((found / top) / (positives / n)) if positives else float("nan")
        out[f"capture_top_{k}"] = float(found / positives) if positives else float("nan")
    if positives and positives < n:
        gap = np.cumsum(ranked) / positives - np.cumsum(1 - ranked) / (n - positives)
        out["ks"] = float(np.max(np.abs(gap)))
    else:
        out["ks"] = float("nan")
    return out


def gains_curve(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(share of customers contacted, share of positives captured), best scores first."""
    y = np.asarray(y, dtype=np.float64)
    ranked = y[np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")]
    contacted = np.arange(1, len(y) + 1) / len(y)
    return np.r_[0.0, contacted], np.r_[0.0, np.cumsum(ranked) / max(ranked.sum(), 1.0)]


def profit(y: np.ndarray, scores: np.ndarray, threshold: float, costs: Any) -> float:
    """Total value of acting on everyone at or above ``threshold``: ``costs.tp`` per reached
    responder, ``costs.fp`` per wasted contact (negative for a cost), ``fn`` and ``tn`` likewise."""
    y = np.asarray(y).astype(bool)
    act = np.asarray(scores) >= threshold
    counts = {"tp": act & y, "fp": act & ~y, "fn": ~act & y, "tn": ~act & ~y}
    return float(sum(getattr(costs, key) * int(mask.sum()) for key, mask in counts.items()))


def profit_curve(y: np.ndarray, scores: np.ndarray, costs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Profit at every distinct score used as the threshold (vectorized over the sorted ranking)."""
    y = np.asarray(y, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-s, kind="stable")
    ranked, s_sorted = y[order], s[order]
    tp = np.cumsum(ranked)
    fp = np.cumsum(1.0 - ranked)
    fn, tn = ranked.sum() - tp, (1.0 - ranked).sum() - fp
    last = np.flatnonzero(np.r_[s_sorted[1:] != s_sorted[:-1], True])
    value = costs.tp * tp + costs.fp * fp + costs.fn * fn + costs.tn * tn
    return s_sorted[last], value[last]


def max_profit_threshold(y: np.ndarray, scores: np.ndarray, costs: Any) -> float:
    """The threshold with the highest profit on these (validation) rows."""
    thresholds, values = profit_curve(y, scores, costs)
    return float(thresholds[int(np.argmax(values))])
