"""Calibrated probabilities for binary scores: fitted on validation, stored as JSON, applied everywhere.

Resampling (SMOTE, undersampling) and class weights move a model's scores away from probabilities.
Three calibrators bring them back:

- ``sigmoid`` (Platt): a logistic regression on the logit of the score, fitted on validation;
  strictly monotone, so every ranking metric (PR-AUC, ROC-AUC, lift) is unchanged.
- ``isotonic``: scikit-learn's isotonic regression on validation; monotone but stepwise (ties).
- ``prior``: the exact correction of a changed class ratio (random under/over-sampling, class
  weights), which needs no fitting: the odds are rescaled by the natural over the fitted positive odds.

How validation serves both the calibrator and the threshold: the threshold rule is applied to the
model's *scores* (a monotone calibrator does not change which customers rank above it), so the two
never compete for the same rows. The calibrator is fitted on all validation rows and judged on test;
its validation figures are out of fold (5-fold cross-fitting), so none is measured on rows it was
fitted on. ``calibration.json`` in the run folder holds everything needed to apply it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

METHODS = ("none", "sigmoid", "isotonic", "prior")
EPS = 1e-6
BINS = 10  # expected calibration error: equal-count bins


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return np.log(p / (1 - p))


@dataclass
class Calibrator:
    """A fitted map from model scores to probabilities (``none`` is the identity)."""

    method: str = "none"
    params: dict[str, Any] = field(default_factory=dict)

    def apply(self, scores: np.ndarray) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64)
        if self.method == "sigmoid":
            z = self.params["a"] * _logit(scores) + self.params["b"]
            with np.errstate(over="ignore"):  # exp(-z) -> inf for z << 0 gives the right limit, 0
                return 1.0 / (1.0 + np.exp(-z))
        if self.method == "isotonic":
            return np.interp(scores, self.params["x"], self.params["y"])
        if self.method == "prior":
            odds = np.exp(_logit(scores)) * self.params["odds_ratio"]
            return odds / (1.0 + odds)
        return scores

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, **self.params}

    @classmethod
    def from_json(cls, state: dict[str, Any]) -> Calibrator:
        params = {k: v for k, v in state.items() if k != "method"}
        return cls(str(state.get("method", "none")), params)


def fit(
    method: str, y: np.ndarray, scores: np.ndarray, *, prior: tuple[float, float] | None = None
) -> Calibrator:
    """Fit ``method`` on validation labels and scores. ``prior`` is (natural positive rate, the
    positive rate the model was fitted at), which ``prior`` needs."""
    y = np.asarray(y).astype(int)
    if method == "sigmoid":
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=1e6, max_iter=1000).fit(_logit(scores)[:, None], y)
        return Calibrator("sigmoid", {"a": float(model.coef_[0][0]), "b": float(model.intercept_[0])})
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, y)
        return Calibrator("isotonic", {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()})
    if method == "prior":
        assert prior is not None, "the prior correction needs the natural and the fitted positive rates"
        natural, fitted = (min(max(r, EPS), 1 - EPS) for r in prior)
        ratio = (natural / (1 - natural)) / (fitted / (1 - fitted))
        return Calibrator("prior", {"natural_rate": natural, "fitted_rate": fitted, "odds_ratio": ratio})
    return Calibrator()


def out_of_fold(
    method: str, y: np.ndarray, scores: np.ndarray, *, seed: int, prior: Any = None
) -> np.ndarray:
    """Validation probabilities each from a calibrator fitted on the other folds (cross-fitting)."""
    if method in ("none", "prior"):  # nothing is fitted on the rows: in-sample is out of sample
        return fit(method, y, scores, prior=prior).apply(scores)
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y).astype(int)
    folds = min(5, int(np.bincount(y, minlength=2).min()))
    if folds < 2:
        return fit(method, y, scores, prior=prior).apply(scores)
    out = np.empty(len(y), dtype=np.float64)
    for train, held in StratifiedKFold(folds, shuffle=True, random_state=seed).split(scores, y):
        out[held] = fit(method, y[train], scores[train], prior=prior).apply(scores[held])
    return out


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = BINS) -> float:
    """Weighted mean |observed rate - mean probability| over equal-count bins of ``p``."""
    y, p = np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64)
    if len(y) == 0:
        return float("nan")
    order = np.argsort(p, kind="stable")
    error = 0.0
    for chunk in np.array_split(order, min(bins, len(order))):
        error += len(chunk) * abs(y[chunk].mean() - p[chunk].mean())
    return float(error / len(y))


def quality(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """How good ``p`` is as probabilities: Brier score, log loss, expected calibration error."""
    from sklearn.metrics import brier_score_loss, log_loss

    clipped = np.clip(p, 1e-7, 1 - 1e-7)
    return {
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, clipped, labels=[0, 1])),
        "ece": expected_calibration_error(y, p),
        "mean_probability": float(np.mean(p)),
        "positive_rate": float(np.mean(y)),
    }
