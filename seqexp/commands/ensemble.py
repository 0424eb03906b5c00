"""``seqexp ensemble``: combine the scores of saved runs trained on the same data and split.

Members are ordinary completed run folders (any model). Their saved validation and test scores
(``val_predictions.csv``, ``predictions.csv``), aligned by customer id, are combined by one of:

- ``mean``: the average score;
- ``weighted``: a weighted average, weights given or fitted on validation (non-negative, sum 1);
- ``rank``: the average of each member's rank, where a score's rank is the share of that member's
  validation scores at or below it (so it is in [0, 1] and does not depend on the batch scored);
- ``stack``: a logistic-regression meta-model on the members' logit scores, fitted on validation.
  Its validation scores are cross-validated (out-of-fold), so the threshold and the validation
  metrics are not measured on rows the meta-model was fitted on.

The threshold is chosen on validation as in any run. The result is an ordinary run folder;
``ensemble.json`` holds what scoring new data needs (member folders, weights, meta-model
coefficients, rank references): see :func:`ensemble_scores`.
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
from seqexp.runfolder import atomic, files, lifecycle

METHODS = ("mean", "weighted", "rank", "stack")
OBJECTIVES = ("pr_auc", "roc_auc")
ENSEMBLE_FILE = "ensemble.json"
GRID_POINTS = 1000  # at most this many weight vectors are tried when fitting weights on the simplex
EXHAUSTIVE_LIMIT = 200  # more member subsets than this: greedy forward selection instead


# --------------------------------------------------------------------------- members


@dataclass(frozen=True)
class Member:
    """A completed run's saved scores, rows sorted by id."""

    path: Path
    run: dict[str, Any]
    metrics: dict[str, Any]
    val_ids: np.ndarray
    val_y: np.ndarray
    val_scores: np.ndarray
    test_ids: np.ndarray
    test_y: np.ndarray
    test_scores: np.ndarray

    @property
    def name(self) -> str:
        return self.path.name


def _read_scores(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import pandas as pd

    if not path.is_file():
        raise UserError(f"{path.parent}: no {path.name}; retrain it with this version of seqexp")
    frame = pd.read_csv(path, dtype={"id": str})
    if not {"id", "y_true", "score"} <= set(frame.columns):
        raise UserError(f"{path}: expected columns id, y_true, score")
    if not frame["id"].is_unique:
        raise UserError(f"{path}: customer ids are not unique")
    frame = frame.sort_values("id", kind="stable")
    return frame["id"].to_numpy(), frame["y_true"].to_numpy(int), frame["score"].to_numpy(float)


def load_member(path: Path) -> Member:
    """Read one member run; a folder that is not a completed single run is refused."""
    path = Path(path)
    run = lifecycle.read_run(path)
    if "children" in run:
        raise UserError(
            f"{path}: a group of {len(run['children'])} runs ({run.get('kind')}); name its child runs instead"
        )
    if run.get("status") != "completed":
        raise UserError(f"{path}: the run is {run.get('status')!r}, not completed")
    if not run.get("split_fingerprint"):
        raise UserError(f"{path}: run.json has no split_fingerprint; retrain it with this version of seqexp")
    metrics = json.loads((path / files.METRICS).read_text()) if (path / files.METRICS).is_file() else {}
    if metrics.get("task") == "multiclass":
        raise UserError(
            f"{path}: a multi-class run ({metrics.get('n_classes')} classes); ensembles combine binary "
            "scores only in this version"
        )
    return Member(
        path, run, metrics, *_read_scores(path / files.VAL_PREDICTIONS), *_read_scores(path / files.PREDICTIONS)
    )


def check_compatible(members: list[Member]) -> None:
    """Members must share data and split (fingerprints) and score the same customers."""
    if len(members) < 2:
        raise UserError("an ensemble needs at least two member runs")
    paths = [m.path.resolve() for m in members]
    if len(set(paths)) != len(paths):
        raise UserError("the same run is named twice among the members")
    groups: dict[tuple[str, str], list[str]] = {}
    for m in members:
        key = (str(m.run.get("data_fingerprint")), str(m.run.get("split_fingerprint")))
        groups.setdefault(key, []).append(str(m.path))
    if len(groups) > 1:
        parts = [
            f"data {data} / split {split}: {', '.join(names)}" for (data, split), names in groups.items()
        ]
        raise UserError(
            "members must be trained on the same data and split, but their fingerprints differ ("
            + "; ".join(parts)
            + "). Ensemble runs of one config family, or fix split.seed and retrain."
        )
    first = members[0]
    for m in members[1:]:
        for part in ("val", "test"):
            same_ids = np.array_equal(getattr(m, f"{part}_ids"), getattr(first, f"{part}_ids"))
            if not same_ids or not np.array_equal(getattr(m, f"{part}_y"), getattr(first, f"{part}_y")):
                raise UserError(
                    f"{m.path} and {first.path}: their {part} predictions cover different customers or labels"
                )


# --------------------------------------------------------------------------- combining


@dataclass
class Combiner:
    """Everything needed to combine member scores into one score (saved as JSON)."""

    method: str
    weights: list[float]
    meta: dict[str, Any] | None = None  # stack: {"coef": [...], "intercept": x}
    rank_reference: list[list[float]] | None = None  # rank: each member's sorted validation scores
    notes: list[str] = field(default_factory=list)

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


# --------------------------------------------------------------------------- search


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


# --------------------------------------------------------------------------- the verb


@dataclass(frozen=True)
class EnsembleResult:
    run_dir: Path
    metrics: dict[str, Any]


def tune_members(tune_dir: Path, top: int, objective: str = "pr_auc") -> list[Path]:
    """The ``top`` completed runs inside a tune folder, ranked by their validation objective."""
    tune_dir = Path(tune_dir)
    if not tune_dir.is_dir():
        raise UserError(f"--from-tune: {tune_dir} is not a folder")
    ranked = []
    for run_file in sorted(tune_dir.rglob(files.RUN)):
        folder = run_file.parent
        if folder == tune_dir or not (folder / files.VAL_PREDICTIONS).is_file():
            continue
        run = lifecycle.read_run(folder)
        metrics_path = folder / files.METRICS
        if run.get("status") != "completed" or "children" in run or not metrics_path.is_file():
            continue
        value = json.loads(metrics_path.read_text()).get("val", {}).get(objective)
        if value is not None and not math.isnan(value):
            ranked.append((-float(value), str(folder), folder))
    if not ranked:
        raise UserError(f"--from-tune: no completed run folders with validation predictions under {tune_dir}")
    return [folder for _, _, folder in sorted(ranked)[:top]]


def threshold_rule(members: list[Member], text: str | None) -> Any:
    """``--threshold`` (YAML) if given, else the first member's ``evaluate.threshold``."""
    import yaml
    from pydantic import ValidationError

    from seqexp.config import EvaluateConfig

    if text is not None:
        raw, where = yaml.safe_load(text), "--threshold"
    else:
        config = yaml.safe_load((members[0].path / files.CONFIG).read_text()) or {}
        raw, where = (config.get("evaluate") or {}).get("threshold", 0.5), str(members[0].path / files.CONFIG)
    try:
        return EvaluateConfig(threshold=raw).threshold
    except ValidationError as exc:
        raise UserError(f"{where}: {exc.errors()[0]['msg']}") from None


def build_ensemble(
    member_paths: list[Path],
    *,
    method: str = "mean",
    weights: list[float] | None = None,
    search: bool = False,
    max_members: int = 3,
    objective: str = "pr_auc",
    threshold: str | None = None,
    name: str | None = None,
    runs_dir: Path = Path("runs"),
    seed: int = 0,
) -> EnsembleResult:
    """Combine member runs into a new, ordinary run folder."""
    from seqexp.tasks.binary_metrics import binary_metrics, choose_threshold, describe_rule

    if method not in METHODS:
        raise UserError(f"--method: '{method}' is not one of {', '.join(METHODS)}")
    if objective not in OBJECTIVES:
        raise UserError(f"--objective: '{objective}' is not one of {', '.join(OBJECTIVES)}")
    if weights is not None:
        if search or method not in ("weighted", "rank"):
            raise UserError("--weights go with --method weighted (or rank), without --search")
        if len(weights) != len(member_paths) or min(weights) < 0 or sum(weights) <= 0:
            raise UserError(f"--weights: give {len(member_paths)} non-negative numbers, one per member")
        weights = [w / sum(weights) for w in weights]
    members = [load_member(p) for p in member_paths]
    check_compatible(members)
    rule = threshold_rule(members, threshold)
    y_val, y_test = members[0].val_y, members[0].test_y
    val = np.column_stack([m.val_scores for m in members])
    test = np.column_stack([m.test_scores for m in members])

    tried: list[dict[str, Any]] = []
    if search:
        chosen, tried = search_members(
            method, val, y_val, max_members=max_members, objective=objective, seed=seed
        )
        for entry in tried:
            entry["members"] = [members[i].name for i in entry["members"]]
        members, val, test = [members[i] for i in chosen], val[:, chosen], test[:, chosen]
    combiner, val_scores = fit_combiner(method, val, y_val, weights=weights, objective=objective, seed=seed)
    test_scores = combiner.combine(test)

    cut = choose_threshold(rule, y_val, val_scores)  # validation only, like any run
    metrics: dict[str, Any] = {
        "threshold": cut,
        "threshold_rule": describe_rule(rule),
        "val": binary_metrics(y_val, val_scores, cut),
        "test": binary_metrics(y_test, test_scores, cut),
        "model": f"ensemble ({method})",
        "members": [
            {
                "run": m.name,
                "model": m.metrics.get("model"),
                "weight": w,
                "val": m.metrics.get("val"),
                "test": m.metrics.get("test"),
            }
            for m, w in zip(members, combiner.weights, strict=True)
        ],
    }
    if len(members) == 1:
        combiner.notes.append("the search kept a single member: no combination beat it on validation")
    run_dir = _write_run(
        members, combiner, metrics, val_scores, test_scores, name or f"ensemble-{method}", runs_dir,
        spec={"method": method, "search": search, "max_members": max_members, "objective": objective,
              "threshold": rule if isinstance(rule, float | str) else rule.model_dump()},
        tried=tried,
    )  # fmt: skip
    return EnsembleResult(run_dir, metrics)


def _write_run(
    members: list[Member],
    combiner: Combiner,
    metrics: dict[str, Any],
    val_scores: np.ndarray,
    test_scores: np.ndarray,
    name: str,
    runs_dir: Path,
    *,
    spec: dict[str, Any],
    tried: list[dict[str, Any]],
) -> Path:
    import yaml

    from seqexp.pipeline.train import write_predictions, write_scored_outputs

    first = members[0]
    run_dir = lifecycle.create_run_dir(runs_dir, name)
    member_paths = [str(m.path.resolve()) for m in members]
    config = {
        "name": name,
        "ensemble": {**spec, "members": member_paths, "weights": combiner.weights},
        "evaluate": {"threshold": spec["threshold"]},
    }
    atomic.write_text(run_dir / files.CONFIG, yaml.safe_dump(config, sort_keys=False))
    record = lifecycle.RunRecord(
        run_dir,
        name=name,
        command="ensemble",
        estimator="ensemble",
        data_fingerprint=first.run.get("data_fingerprint"),
        split_fingerprint=first.run.get("split_fingerprint"),
        members=member_paths,
    )
    try:
        atomic.write_json(
            run_dir / ENSEMBLE_FILE,
            {
                "method": combiner.method,
                "members": member_paths,
                "member_estimators": [m.run.get("estimator") for m in members],
                "weights": combiner.weights,
                "meta": combiner.meta,
                "rank_reference": combiner.rank_reference,
                "notes": combiner.notes,
                "search": tried,
            },
        )
        write_scored_outputs(run_dir, metrics, first.test_ids, first.test_y, test_scores)
        write_predictions(
            run_dir / files.VAL_PREDICTIONS, first.val_ids, first.val_y, val_scores, metrics["threshold"]
        )
        atomic.write_text(run_dir / files.LOG, "".join(f"{note}\n" for note in combiner.notes))
    except BaseException as exc:
        record.finish("failed", error=f"{type(exc).__name__}: {exc}")
        raise
    record.finish("completed", threshold=metrics["threshold"], notes=combiner.notes)
    return run_dir


# --------------------------------------------------------------------------- scoring new data


def load_combiner(run_dir: Path) -> tuple[list[str], Combiner]:
    """An ensemble run's member folders (absolute paths, in order) and its combiner."""
    path = Path(run_dir) / ENSEMBLE_FILE
    if not path.is_file():
        raise UserError(f"{run_dir}: not an ensemble run (no {ENSEMBLE_FILE})")
    state = json.loads(path.read_text())
    combiner = Combiner(state["method"], state["weights"], state.get("meta"), state.get("rank_reference"))
    return state["members"], combiner


def ensemble_scores(run_dir: Path, member_scores: dict[str, np.ndarray]) -> np.ndarray:
    """Score new rows with a saved ensemble, given each member's scores for those rows.

    ``member_scores`` maps each member run folder (its path as listed in ``ensemble.json``, or
    just its folder name) to that member's scores for the same rows, in the same order.
    """
    members, combiner = load_combiner(run_dir)
    columns = []
    for member in members:
        scores = member_scores.get(member, member_scores.get(Path(member).name))
        if scores is None:
            raise UserError(f"{run_dir}: no scores given for member {member}")
        columns.append(np.asarray(scores, dtype=float))
    return combiner.combine(np.column_stack(columns))


def ensemble_table(metrics: dict[str, Any]) -> Any:
    """The ensemble beside each member (test metrics; each member at its own threshold)."""
    from rich.table import Table

    from seqexp.reporting.tables import SHOWN

    shown = [m for m in metrics["members"] if m.get("test")][:6]
    table = Table(
        title=f"{metrics['model']}, test (threshold {metrics['threshold']:.3f}: {metrics['threshold_rule']})",
        title_justify="left",
        caption="  ".join(f"#{i}: {m['run']}" for i, m in enumerate(shown, 1)),
        caption_justify="left",
    )
    table.add_column("metric")
    table.add_column("ensemble", justify="right", style="bold")
    table.add_column("ensemble (val)", justify="right", style="dim")
    for i, m in enumerate(shown, 1):
        table.add_column(f"#{i} {m.get('model') or ''} w={m['weight']:.2f}", justify="right")
    for name in SHOWN:
        row = [name, f"{metrics['test'][name]:.4f}", f"{metrics['val'][name]:.4f}"]
        row += [f"{m['test'][name]:.4f}" for m in shown]
        table.add_row(*row)
    return table


def parse_weights(text: str | None) -> list[float] | None:
    """``"0.7,0.3"`` -> ``[0.7, 0.3]``; a typo is a user error."""
    if text is None:
        return None
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise UserError(f"--weights: '{text}' is not comma-separated numbers such as 0.7,0.3") from None
