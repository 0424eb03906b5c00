"""Each customer's score taken apart, in log-odds, by the method exact for the model's family.

- **LightGBM**: LightGBM's own contributions (``pred_contrib=True``, exact TreeSHAP): per feature
  plus the expected value, summing to the raw score (log-odds) exactly.
- **Logistic regression**: coefficient x standardized value per feature, plus the intercept:
  the logit exactly (a zero contribution is a value at the training mean).
- **Keras**: integrated gradients (``seqexp.explain.gradients``) from the customer's own events
  at the training mean with no level (sequences) or from the training mean (tables).

Every family's contributions land on one shape, ``Attribution``: per step and feature for
sequences (the baselines' last-steps columns on their steps, their aggregates over the history
in ``whole``, the number of real steps in ``count``), per feature for tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from seqexp.errors import UserError
from seqexp.explain.layout import Layout, table_columns

SUPPORTED = ("keras", "lightgbm", "logistic_regression")
WHY_NOT = {
    "gradient_boosting": "scikit-learn's HistGradientBoosting gives no per-customer contributions; "
    "train model: {name: lightgbm} (exact tree contributions) to explain a boosted-tree model",
    "lstm_autoencoder": "its score is a reconstruction error, not a classifier's; explain a "
    "classifier trained on the same data",
    "ensemble": "an ensemble combines its members' scores; explain one of its members",
}


@dataclass(frozen=True)
class Attribution:
    """Per row: ``output`` (log-odds) = ``bias`` + every contribution (up to integration error for
    Keras). ``steps`` ``(n, L, F)`` is tied to events, ``whole`` ``(n, F)`` is not (a table's
    columns, or aggregates over the whole history); ``count`` ``(n,)``: the number of real steps."""

    output: np.ndarray
    bias: np.ndarray
    whole: np.ndarray
    steps: np.ndarray | None = None
    count: np.ndarray | None = None

    def total(self) -> np.ndarray:
        """The sum of every contribution per row (``output - bias`` when the method is exact)."""
        out = self.whole.sum(axis=1)
        if self.steps is not None:
            out = out + self.steps.sum(axis=(1, 2))
        if self.count is not None:
            out = out + self.count
        return out


def require_explainable(run: object) -> str:
    """The run's model kind when ``explain`` supports it; else a ``UserError`` saying why not."""
    record = getattr(run, "record", {})
    kind = str(record.get("estimator", "keras"))
    metrics = getattr(run, "metrics", {})
    if metrics.get("task") == "multiclass":
        raise UserError(
            f"{getattr(run, 'folder', '')}: explain covers binary targets; this run has "
            f"{len(metrics.get('classes') or [])} classes"
        )
    if kind not in SUPPORTED:
        why = WHY_NOT.get(kind, f"explain supports {', '.join(SUPPORTED)} models")
        raise UserError(f"{getattr(run, 'folder', '')}: a {kind} run cannot be explained: {why}")
    return kind


def attributor(
    estimator: object, layout: Layout, *, alpha_steps: int = 32
) -> Callable[[np.ndarray], Attribution]:
    """A function from scaled rows to their contributions under ``estimator`` (a LightGBM, logistic
    regression or Keras estimator), built once and reused for every chunk."""
    kind = getattr(estimator, "kind", "")
    if kind == "lightgbm":
        return lambda X: _lightgbm(estimator, X, layout)
    if kind == "logistic_regression":
        return lambda X: _logistic(estimator, X, layout)
    if kind == "keras":
        from seqexp.explain.gradients import IntegratedGradients

        model = estimator.model  # type: ignore[attr-defined]
        if len(model.inputs) != 1:
            raise UserError(
                f"this Keras model reads {len(model.inputs)} inputs; explain reads models of one input "
                "(a sequence or a table) so far"
            )
        gradients = IntegratedGradients(model, alpha_steps=alpha_steps)
        return lambda X: _keras(gradients, X, layout)
    raise UserError(f"a {kind or type(estimator).__name__} model cannot be explained")


def _lightgbm(estimator: object, X: np.ndarray, layout: Layout) -> Attribution:
    F = estimator.features(X)  # type: ignore[attr-defined]
    booster = estimator.booster  # type: ignore[attr-defined]
    trees = estimator.trees  # type: ignore[attr-defined]
    contrib = np.asarray(booster.predict(F, pred_contrib=True, num_iteration=trees), dtype=np.float64)
    raw = np.asarray(booster.predict(F, raw_score=True, num_iteration=trees), dtype=np.float64)
    return fold(contrib[:, :-1], contrib[:, -1], raw, layout, getattr(estimator, "last_steps", 0))


def _logistic(estimator: object, X: np.ndarray, layout: Layout) -> Attribution:
    F = estimator.features(X)  # type: ignore[attr-defined]
    z = (F - estimator.center) / estimator.spread  # type: ignore[attr-defined]
    model = estimator.model  # type: ignore[attr-defined]
    contrib = z * np.asarray(model.coef_, dtype=np.float64)[0]
    bias = np.full(len(F), float(np.asarray(model.intercept_)[0]))
    return fold(contrib, bias, contrib.sum(axis=1) + bias, layout, getattr(estimator, "last_steps", 0))


def fold(
    contrib: np.ndarray, bias: np.ndarray, output: np.ndarray, layout: Layout, last_steps: int
) -> Attribution:
    """Contributions per model column -> an ``Attribution``: a table's columns as they are, the
    per-customer sequence features (``table_features``) back onto their steps and features."""
    if not layout.is_sequence:
        return Attribution(output=output, bias=bias, whole=contrib)
    n, n_features, steps = len(contrib), len(layout.names), int(layout.steps or 0)
    whole = np.zeros((n, n_features))
    on_steps = np.zeros((n, steps, n_features))
    count = np.zeros(n)
    for column, (what, j, t) in enumerate(table_columns(n_features, steps, last_steps)):
        if what == "count":
            count += contrib[:, column]
        elif t is None:
            whole[:, j] += contrib[:, column]
        else:
            on_steps[:, t, j] += contrib[:, column]
    return Attribution(output=output, bias=bias, whole=whole, steps=on_steps, count=count)


def _keras(gradients: Any, X: np.ndarray, layout: Layout) -> Attribution:
    """Integrated gradients; the bias is the score of the path's start (for sequences: as many
    events as the customer has, each at the training mean with no level)."""
    (attr,), at_x, at_start = gradients([X])
    attr = attr.astype(np.float64)
    if layout.is_sequence:
        return Attribution(output=at_x, bias=at_start, whole=np.zeros((len(X), X.shape[-1])), steps=attr)
    return Attribution(output=at_x, bias=at_start, whole=attr)
