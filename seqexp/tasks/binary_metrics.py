"""Metrics for the positive class, threshold choice on validation, and the confusion matrix (its
figure: ``seqexp.reporting.confusion``).

All metrics come from scikit-learn. Thresholds are chosen on the VALIDATION split only and then
applied unchanged to test (and to every later command).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def choose_threshold(rule: Any, y_val: np.ndarray, scores_val: np.ndarray) -> float:
    """Turn a threshold rule into a number using validation labels and scores only."""
    from sklearn.metrics import matthews_corrcoef, precision_recall_curve

    if isinstance(rule, float):
        return rule
    if getattr(rule, "top_k_percent", None) is not None:
        # Flag the top K% of scores: the threshold is the (100-K)th percentile.
        return float(np.quantile(scores_val, 1.0 - rule.top_k_percent / 100.0))
    precision, recall, thresholds = precision_recall_curve(y_val, scores_val)
    precision, recall = precision[:-1], recall[:-1]  # the last point has no threshold
    if len(thresholds) == 0:
        return 0.5
    if rule == "max_f1":
        f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(precision),
                       where=(precision + recall) > 0)  # fmt: skip
        return float(thresholds[int(np.argmax(f1))])
    if rule == "max_mcc":
        candidates = np.unique(np.quantile(thresholds, np.linspace(0, 1, 201)))
        mcc = [matthews_corrcoef(y_val, scores_val >= t) for t in candidates]
        return float(candidates[int(np.argmax(mcc))])
    # min_recall: the highest precision among thresholds that keep recall high enough.
    ok = recall >= rule.min_recall
    if not ok.any():
        return float(thresholds[0])
    best = np.flatnonzero(ok)[np.argmax(precision[ok])]
    return float(thresholds[best])


def describe_rule(rule: Any) -> str:
    """How the threshold was set, in words, for tables and metrics.json."""
    if isinstance(rule, float):
        return f"fixed {rule:g}"
    if isinstance(rule, str):
        return f"{rule} on validation"
    ((key, value),) = rule.model_dump().items()
    return f"{key} {value:g} on validation"


def binary_metrics(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    """Every headline metric for the positive class, at ``threshold``."""
    from sklearn import metrics as m

    predicted = (scores >= threshold).astype(int)
    both = len(np.unique(y)) > 1
    clipped = np.clip(scores, 1e-7, 1 - 1e-7)
    return {
        "pr_auc": float(m.average_precision_score(y, scores)) if both else float("nan"),
        "roc_auc": float(m.roc_auc_score(y, scores)) if both else float("nan"),
        "f1": float(m.f1_score(y, predicted, zero_division=0)),
        "mcc": float(m.matthews_corrcoef(y, predicted)),
        "precision": float(m.precision_score(y, predicted, zero_division=0)),
        "recall": float(m.recall_score(y, predicted, zero_division=0)),
        "accuracy": float(m.accuracy_score(y, predicted)),
        "balanced_accuracy": float(m.balanced_accuracy_score(y, predicted)),
        "log_loss": float(m.log_loss(y, clipped, labels=[0, 1])),
        "brier": float(m.brier_score_loss(y, scores)),
        "positive_rate": float(np.mean(y)),
        "predicted_positive_rate": float(np.mean(predicted)),
        "rows": int(len(y)),
    }


def confusion(y: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(y, (scores >= threshold).astype(int), labels=[0, 1])


def classification_report(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, Any]:
    """scikit-learn's per-class report (precision, recall, F1, support for 0 and 1) at ``threshold``."""
    from sklearn import metrics as m

    predicted = (scores >= threshold).astype(int)
    return m.classification_report(y, predicted, labels=[0, 1], output_dict=True, zero_division=0)
