"""Combining member scores into one: the combiners, fitting them on validation, subset search.

- ``mean``: the average score;
- ``weighted``: a weighted average, weights given or fitted on validation (non-negative, sum 1);
- ``rank``: the average of each member's rank, where a score's rank is the share of that member's
  validation scores at or below it (so it is in [0, 1] and does not depend on the batch scored);
- ``stack``: a logistic-regression meta-model on the members' logit scores, fitted on validation.
  Its validation scores are cross-validated (out-of-fold), so the threshold and the validation
  metrics are not measured on rows the meta-model was fitted on.

``ensemble.json`` (written by ``seqexp ensemble``) holds what scoring new data needs: member
folders, weights, meta-model coefficients, rank references; ``load_combiner`` reads it back.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.errors import UserError
from seqexp.runfolder import files

METHODS = ("mean", "weighted", "rank", "stack")
OBJECTIVES = ("pr_auc", "roc_auc")
GRID_POINTS = 1000  # at most this many weight vectors are tried when fitting weights on the simplex
EXHAUSTIVE_LIMIT = 200  # more member subsets than this: greedy forward selection instead


@dataclass
class Combiner:
    """Everything needed to combine member scores into one score (saved as JSON)."""

    method: str
    weights: list[float]
    meta: dict[str, Any] | None = None  # stack: {"coef": [...], "intercept": x}
    rank_reference: list[list[float]] | None = None  # rank: each member's sorted validation scores
    notes: list[str] = field(default_factory=list)
    calibrated: list[bool] = field(default_factory=list)  # per member: its calibrated probabilities are used

    def combine(self, scores: np.ndarray) -> np.ndarray:
        """``scores``: (rows, members) in member order -> one score per row in [0, 1]."""
        scores = np.asarray(scores, dtype=float)
        if scores.ndim != 2 or scores.shape[1] != len(self.weights):
            raise UserError(f"expected scores of {len(self.weights)} members, got shape {scores.shape}")
        if self.method == "stack":
            assert self.meta is not None
            z = _logit(scores) @ np.asarray(self.meta["coef"]) + self.meta["intercept"]
            return 1.0 / (1.0 + np.exp(-z))
        if self.method == "rank":
            assert self.rank_reference is not None
            scores = np.column_stack(
                [_ecdf(np.asarray(ref), scores[:, j]) for j, ref in enumerate(self.rank_reference)]
            )
        return scores @ np.asarray(self.weights)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _ecdf(sorted_reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mid-rank of each value among the reference scores, scaled to [0, 1]."""
    below = np.searchsorted(sorted_reference, values, side="left")
    at_or_below = np.searchsorted(sorted_reference, values, side="right")
    return (below + at_or_below) / (2.0 * len(sorted_reference))


def objective_score(y: np.ndarray, scores: np.ndarray, objective: str) -> float:
    from sklearn.metrics import average_precision_score, roc_auc_score

    return float((average_precision_score if objective == "pr_auc" else roc_auc_score)(y, scores))


def simplex_grid(members: int, max_points: int = GRID_POINTS) -> np.ndarray:
    """Weight vectors on the simplex (non-negative, summing to 1), as fine as ``max_points`` allows."""
    steps = 1
    while steps < 100 and math.comb(steps + 1 + members - 1, members - 1) <= max_points:
        steps += 1
    rows = []
    for bars in itertools.combinations(range(steps + members - 1), members - 1):  # stars and bars
        edges = np.array([-1, *bars, steps + members - 1])
        rows.append((np.diff(edges) - 1) / steps)
    return np.array(rows)


def fit_weights(scores: np.ndarray, y: np.ndarray, objective: str) -> list[float]:
    """The grid point on the simplex with the best validation objective (ties: the first found,
    the grid is ordered so that is the most even mix only by chance; the objective decides)."""
    grid = simplex_grid(scores.shape[1])
    values = [objective_score(y, scores @ w, objective) for w in grid]
    return [float(w) for w in grid[int(np.argmax(values))]]


def fit_combiner(
    method: str, scores: np.ndarray, y: np.ndarray, *, weights: list[float] | None, objective: str, seed: int
) -> tuple[Combiner, np.ndarray]:
    """Fit the combination on validation; return it and the validation scores to threshold on."""
    k = scores.shape[1]
    uniform = [1.0 / k] * k
    if method == "mean":
        combiner = Combiner("mean", uniform)
    elif method == "weighted":
        combiner = Combiner("weighted", weights or fit_weights(scores, y, objective))
        if weights is None:
            combiner.notes.append(
                f"weights fitted on validation ({objective}); its validation figures are optimistic"
            )
    elif method == "rank":
        combiner = Combiner("rank", weights or uniform, rank_reference=[sorted(col) for col in scores.T])
    elif method == "stack":
        return _fit_stack(scores, y, seed)
    else:
        raise UserError(f"--method: '{method}' is not one of {', '.join(METHODS)}")
    return combiner, combiner.combine(scores)


def _fit_stack(scores: np.ndarray, y: np.ndarray, seed: int) -> tuple[Combiner, np.ndarray]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    features = _logit(scores)
    folds = min(5, int(np.bincount(y).min()))
    if folds < 2:
        raise UserError("stack: the validation split has fewer than 2 positives; use mean or rank")
    meta = LogisticRegression(C=1.0, max_iter=1000)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    out_of_fold = cross_val_predict(meta, features, y, cv=cv, method="predict_proba")[:, 1]
    meta.fit(features, y)
    combiner = Combiner(
        "stack",
        [1.0 / scores.shape[1]] * scores.shape[1],
        meta={
            "coef": meta.coef_[0].tolist(),
            "intercept": float(meta.intercept_[0]),
            "input": "logit(score)",
        },
        notes=[f"meta-model fitted on validation; validation scores are {folds}-fold out-of-fold"],
    )
    return combiner, out_of_fold


def search_members(
    method: str, scores: np.ndarray, y: np.ndarray, *, max_members: int, objective: str, seed: int
) -> tuple[list[int], list[dict[str, Any]]]:
    """Member subsets of size 1..max_members: all of them when few, greedy forward selection when
    many. Returns the best subset (by the validation objective) and every subset tried."""
    k = scores.shape[1]
    tried: list[dict[str, Any]] = []

    def evaluate(subset: tuple[int, ...]) -> float:
        _, val_scores = fit_combiner(
            method, scores[:, list(subset)], y, weights=None, objective=objective, seed=seed
        )
        value = objective_score(y, val_scores, objective)
        tried.append({"members": list(subset), objective: value})
        return value

    sizes = range(1, min(max_members, k) + 1)
    if sum(math.comb(k, r) for r in sizes) <= EXHAUSTIVE_LIMIT:
        best = max((s for r in sizes for s in itertools.combinations(range(k), r)), key=evaluate)
        return list(best), tried
    chosen: list[int] = []
    best_value = -np.inf
    while len(chosen) < min(max_members, k):
        candidates = [tuple(sorted([*chosen, j])) for j in range(k) if j not in chosen]
        values = [evaluate(c) for c in candidates]
        if max(values) <= best_value:
            break
        best_value = max(values)
        chosen = list(candidates[int(np.argmax(values))])
    return chosen, tried


def load_combiner(run_dir: Path) -> tuple[list[str], Combiner]:
    """An ensemble run's member folders (absolute paths, in order) and its combiner."""
    path = Path(run_dir) / files.ENSEMBLE
    if not path.is_file():
        raise UserError(f"{run_dir}: not an ensemble run (no {files.ENSEMBLE})")
    state = json.loads(path.read_text())
    combiner = Combiner(state["method"], state["weights"], state.get("meta"), state.get("rank_reference"))
    # Ensembles made before calibration existed combined raw scores: none of their members is calibrated.
    combiner.calibrated = list(state.get("calibrated_members", [False] * len(state["members"])))
    return state["members"], combiner


def ensemble_scores(run_dir: Path, member_scores: dict[str, np.ndarray]) -> np.ndarray:
    """Score new rows with a saved ensemble, given each member's scores for those rows.

    ``member_scores`` maps each member run folder (its path as listed in ``ensemble.json``, or
    just its folder name) to that member's scores (as its model gives them) for the same rows, in
    the same order; members the ensemble combined as probabilities go through their calibration.
    """
    from seqexp.tasks.calibration import Calibrator

    members, combiner = load_combiner(run_dir)
    columns = []
    for member, calibrated in zip(members, combiner.calibrated, strict=True):
        scores = member_scores.get(member, member_scores.get(Path(member).name))
        if scores is None:
            raise UserError(f"{run_dir}: no scores given for member {member}")
        column = np.asarray(scores, dtype=float)
        if calibrated:
            state = json.loads((Path(member) / files.CALIBRATION).read_text())
            column = Calibrator.from_json(state).apply(column)
        columns.append(column)
    return combiner.combine(np.column_stack(columns))
