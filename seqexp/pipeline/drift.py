"""Drift: how far data sits from the data a run was trained on, in numbers and in warning lines.

Per part (train, val and test at training; the new data of ``evaluate --data`` and ``predict``):

- the **positive rate** (labelled data only) and the **predicted-positive rate** at the run's
  decision threshold; for a multi-class target, the share of each class, true and predicted;
- the **population stability index** of the score and of each feature against a *reference* saved
  in the run folder (``drift.json``: bin edges and reference shares), so later data is compared
  without the training data.

PSI = sum over bins i of (a_i - e_i) * ln(a_i / e_i), where e_i is the reference's share of values
in bin i and a_i the compared data's share, each floored at ``EPSILON`` (1e-4) so an empty bin stays
finite. Identical distributions give 0; it grows with the shift and is symmetric in a and e.

Bins:

- a numeric variable: the deciles of the reference values (``BINS`` = 10 quantile bins; ties merged,
  so a column that is mostly 0 has a bin for "0 or less" and a constant column two bins, at and
  above its value; bins are closed on the right), plus one bin for missing values (NaN);
- a one-hot block (a categorical column such as ``type=deposit``, ``type=withdrawal``...): one bin
  per level, plus one for "no level" (a value never seen in training is encoded as all zeros);
- sequences (``X`` of shape ``(n, steps, features)`` with a mask of real steps): each feature over
  the **real steps of every customer** pooled (padding never counts), and one more variable,
  ``(real steps)``, the number of real steps per customer (how long the histories are).

The score is the model's output (binary: the score the threshold applies to; multi-class: the
probability of the most probable class). Its reference is the **validation** part, not train: a
model can score the rows it was fitted on more confidently than any others (the more it overfits,
the more), and that would read as drift of every new data set. Validation rows were never fitted,
and the threshold was chosen on them, so the predicted-positive rate's reference is validation's
too. The features and the positive rate are referred to train. (At training, the train part's own
score PSI against validation is reported: how much the in-sample scores differ.)

The warning rules, the words, and the stage that train, evaluate and predict run are in
``drift_check.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BINS = 10
EPSILON = 1e-4
PSI_WARN = 0.25
RATE_WARN = 0.5  # a rate moving by more than half: |new / reference - 1| > 0.5
TOP = 10  # features shown
SAMPLE = 200_000  # reference values used to place the quantile edges (all values are counted)
STEPS = "(real steps)"  # the per-customer history length of sequence data
VERSION = 1


# --------------------------------------------------------------------------- PSI and bins
def psi(expected: np.ndarray | list[float], actual: np.ndarray | list[float], eps: float = EPSILON) -> float:
    """Population stability index of two share vectors over the same bins (each floored at ``eps``)."""
    e = np.maximum(np.asarray(expected, dtype=np.float64), eps)
    a = np.maximum(np.asarray(actual, dtype=np.float64), eps)
    return float(np.sum((a - e) * np.log(a / e)))


def quantile_edges(values: np.ndarray, bins: int = BINS) -> list[float]:
    """Inner edges of ``bins`` quantile bins of the finite values, ties merged."""
    finite = values[np.isfinite(values)].astype(np.float64)
    if len(finite) == 0:
        return []
    if len(finite) > SAMPLE:  # the edges from a seeded sample; every value is still counted
        finite = np.random.default_rng(0).choice(finite, SAMPLE, replace=False)
    return np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])).tolist()


def numeric_counts(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Counts per bin ``(-inf, e1], (e1, e2], ..., (ek, inf)``, then the missing values."""
    values = np.asarray(values, dtype=np.float64).ravel()
    missing = np.isnan(values)
    index = np.searchsorted(np.asarray(edges, dtype=np.float64), values[~missing], side="left")
    return np.append(np.bincount(index, minlength=len(edges) + 1), missing.sum())


def level_counts(block: np.ndarray) -> np.ndarray:
    """Counts per level of a one-hot block ``(rows, levels)``, then rows with no level set."""
    block = np.nan_to_num(np.asarray(block, dtype=np.float64).reshape(-1, block.shape[-1]))
    none = block.max(axis=1, initial=0.0) <= 0
    index = np.where(none, block.shape[1], block.argmax(axis=1))
    return np.bincount(index, minlength=block.shape[1] + 1)


def shares(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return (counts / total).tolist() if total else [0.0] * len(counts)


# --------------------------------------------------------------------------- the variables
def _variables(
    X: np.ndarray, mask: np.ndarray | None, names: list[str], groups: list[list[int]]
) -> list[dict[str, Any]]:
    """What is binned: every numeric feature, every one-hot block, and the history length."""
    grouped = {i for group in groups for i in group}
    found: list[dict[str, Any]] = [
        {"name": names[group[0]].split("=", 1)[0], "kind": "levels", "columns": list(group),
         "levels": [names[i].split("=", 1)[-1] for i in group]}
        for group in groups
    ]  # fmt: skip
    numeric = [i for i in range(X.shape[-1]) if i not in grouped]
    found += [{"name": names[i], "kind": "numeric", "columns": [i]} for i in numeric]
    if mask is not None:
        found.append({"name": STEPS, "kind": "numeric", "columns": []})
    return found


def _values(variable: dict[str, Any], X: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """The values of one variable: real steps only for sequences."""
    if variable["name"] == STEPS and not variable["columns"]:
        return np.asarray(mask).sum(axis=1).astype(np.float64)
    columns = variable["columns"]
    picked = X[..., columns] if variable["kind"] == "levels" else X[..., columns[0]]
    return picked[mask] if mask is not None else picked


def _counts(variable: dict[str, Any], values: np.ndarray) -> np.ndarray:
    if variable["kind"] == "levels":
        return level_counts(values)
    return numeric_counts(values, variable["edges"])


# --------------------------------------------------------------------------- reference and comparison
def rates(y: np.ndarray | None, predicted: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """Rows, and the true (labelled data only) and predicted shares of the classes. ``predicted``
    may cover a sample of the rows ``y`` labels (the training part): then ``scored_rows`` says how
    many were scored."""
    k = len(classes)
    labelled = y is not None and len(y) > 0 and bool((np.asarray(y) >= 0).all())
    out: dict[str, Any] = {"rows": len(y) if y is not None and labelled else len(predicted)}
    if out["rows"] != len(predicted):
        out["scored_rows"] = len(predicted)
    label_shares = shares(np.bincount(np.asarray(y, dtype=int), minlength=k)) if labelled else None
    predicted_shares = shares(np.bincount(np.asarray(predicted, dtype=int), minlength=k))
    if k == 2:
        out["positive_rate"] = label_shares[1] if label_shares is not None else None
        out["predicted_positive_rate"] = predicted_shares[1]
    else:
        out["class_shares"] = dict(zip(classes, label_shares, strict=True)) if label_shares else None
        out["predicted_shares"] = dict(zip(classes, predicted_shares, strict=True))
    return out


def reference(
    X: np.ndarray,
    mask: np.ndarray | None,
    feature_names: list[str],
    onehot_groups: list[list[int]],
    *,
    train_rates: dict[str, Any],
    score: np.ndarray,
    score_rates: dict[str, Any],
    classes: list[str],
    threshold: float | None,
) -> dict[str, Any]:
    """What later data is compared with: feature bins and shares of the training rows (``X``, raw,
    unscaled), the score's bins and shares on validation (``score``), and the rates of both."""
    features = []
    for variable in _variables(X, mask, feature_names, onehot_groups):
        values = _values(variable, X, mask)
        if variable["kind"] == "numeric":
            variable["edges"] = quantile_edges(values)
        variable["shares"] = shares(_counts(variable, values))
        features.append(variable)
    return {
        "version": VERSION,
        "bins": BINS,
        "epsilon": EPSILON,
        "classes": classes,
        "threshold": threshold,
        "train": train_rates,  # the reference of the positive rate (class shares)
        "val": score_rates,  # of the predicted-positive rate (predicted class shares) and the score
        "score": score_reference(score),
        "features": features,
        "feature_rows": int(mask.sum()) if mask is not None else len(X),
    }


def score_reference(score: np.ndarray) -> dict[str, Any]:
    """The score's bins and shares on validation."""
    edges = quantile_edges(np.asarray(score, dtype=np.float64))
    return {"part": "val", "rows": len(score), "edges": edges, "shares": shares(numeric_counts(score, edges))}


def score_psi(score_ref: dict[str, Any], score: np.ndarray) -> float:
    counts = numeric_counts(np.asarray(score, dtype=np.float64), score_ref["edges"])
    return psi(score_ref["shares"], shares(counts))


def compare(
    ref: dict[str, Any],
    X: np.ndarray,
    mask: np.ndarray | None,
    *,
    score: np.ndarray,
    part_rates: dict[str, Any],
) -> dict[str, Any]:
    """One part against the reference: its rates, the score's PSI and every feature's, largest first
    (multi-class: also the PSI of its class shares, true and predicted)."""
    feature_psi = {
        variable["name"]: psi(variable["shares"], shares(_counts(variable, _values(variable, X, mask))))
        for variable in ref["features"]
    }
    classes = {}  # multi-class: the PSI of the class shares (against train) and predicted ones (validation)
    for key, base in (("class_shares", ref["train"]), ("predicted_shares", ref["val"])):
        if part_rates.get(key) and base.get(key):
            classes[f"{key}_psi"] = psi(list(base[key].values()), list(part_rates[key].values()))
    return {
        **part_rates,
        **classes,
        "score_psi": score_psi(ref["score"], score),
        "feature_psi": dict(sorted(feature_psi.items(), key=lambda kv: -kv[1])),
        "feature_rows": int(mask.sum()) if mask is not None else len(X),
    }
