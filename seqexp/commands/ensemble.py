"""``seqexp ensemble``: combine the scores of saved runs trained on the same data and split.

Members are ordinary completed run folders (any model). Their saved validation and test scores
(``val_predictions.csv``, ``predictions.csv``; calibrated probabilities where a member has a
``calibration.json``), aligned by customer id, are combined by mean, weighted, rank or stack (the
combiners and how each is fitted: seqexp/ensembles/combine.py).

The threshold is chosen on validation as in any run. The result is an ordinary run folder;
``ensemble.json`` holds what scoring new data needs (seqexp/ensembles/combine.py).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.ensembles.combine import METHODS, OBJECTIVES, Combiner, fit_combiner, search_members
from seqexp.ensembles.members import Member, check_compatible, load_member
from seqexp.errors import UserError
from seqexp.runfolder import atomic, files, lifecycle
from seqexp.tasks import Task, task_of

# --------------------------------------------------------------------------- the verb


def run(
    members: list[Path],
    *,
    method: str,
    weights: str | None,
    search: bool,
    max_members: int,
    objective: str,
    from_tune: Path | None,
    top: int,
    threshold: str | None,
    name: str | None,
    runs_dir: Path,
    quiet: bool,
    mlflow: bool,
) -> None:
    from seqexp.reporting.console import out, result, tracker
    from seqexp.reporting.tables import ensemble_table

    track = tracker(mlflow, runs_dir, quiet)
    paths = list(members)
    if from_tune is not None:
        paths += tune_members(from_tune, top, objective)
    built = build_ensemble(
        paths, method=method, weights=parse_weights(weights), search=search, max_members=max_members,
        objective=objective, threshold=threshold, name=name, runs_dir=runs_dir,
    )  # fmt: skip
    if track is not None:
        track(built.run_dir)
    if not quiet:
        out.print(ensemble_table(built.metrics))
    result(built.run_dir)


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


def evaluate_settings(members: list[Member], text: str | None) -> Any:
    """The first member's ``evaluate`` section (its costs draw the profit figure and serve
    ``max_profit``), with ``--threshold`` (YAML) in place of its threshold rule when given."""
    import yaml
    from pydantic import ValidationError

    from seqexp.config.sections import EvaluateConfig

    config = yaml.safe_load((members[0].path / files.CONFIG).read_text()) or {}
    section = config.get("evaluate") or {}
    if text is not None:
        raw, where = yaml.safe_load(text), "--threshold"
    else:
        raw, where = section.get("threshold", 0.5), str(members[0].path / files.CONFIG)
    try:
        return EvaluateConfig(threshold=raw, costs=section.get("costs"))
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
    settings = evaluate_settings(members, threshold)
    rule, costs = settings.threshold, settings.costs
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

    task = task_of(members[0].metrics)  # members were checked: binary, their classes named alike
    decision = task.decide(rule, y_val, val_scores, costs)  # validation only, like any run
    parts = {"val": (y_val, val_scores), "test": (y_test, test_scores)}
    metrics: dict[str, Any] = {
        **task.score(decision, parts, per_class=False),
        "model": f"ensemble ({method})",
        "members": _member_rows(members, combiner),
    }
    metrics.update(task.claims(parts, decision, seed=seed, resamples=1000))
    best = max(members, key=lambda m: float((m.metrics.get("val") or {}).get(objective, float("-inf"))))
    # PR-AUC decides the verdict: no threshold enters it, so the ensemble's decision serves both sides.
    paired = task.versus(
        y_test, test_scores, best.test_scores, (decision, decision), seed=seed, resamples=1000
    )
    if paired is not None:  # the member chosen on validation, compared on the same test rows
        metrics["vs_best_member"] = {"member": best.name, **paired}
    if len(members) == 1:
        combiner.notes.append("the search kept a single member: no combination beat it on validation")
    calibrated = [m.name for m in members if m.calibrated]
    combiner.notes.append(
        f"combined calibrated probabilities of {len(calibrated)} of {len(members)} members"
        + (f" ({', '.join(calibrated)})" if calibrated and len(calibrated) < len(members) else "")
    )
    run_dir = _write_run(
        members, combiner, metrics, val_scores, test_scores, name or f"ensemble-{method}", runs_dir,
        spec={"method": method, "search": search, "max_members": max_members, "objective": objective,
              "threshold": rule if isinstance(rule, float | str) else rule.model_dump()},
        tried=tried, task=task, costs=costs,
    )  # fmt: skip
    return EnsembleResult(run_dir, metrics)


def _member_rows(members: list[Member], combiner: Combiner) -> list[dict[str, Any]]:
    """Each member's own figures and its share of the ensemble. For a stack the combiner uses the
    meta-model's coefficients (on each member's logit score), so those are shown (``coef``) and the
    share is each one's part of their absolute sum; the uniform weights a stack carries are unused."""
    if combiner.meta is not None:
        coefs: list[float | None] = list(combiner.meta["coef"])
        total = sum(abs(c) for c in combiner.meta["coef"]) or 1.0
        shares = [abs(c) / total for c in combiner.meta["coef"]]
    else:
        coefs, shares = [None] * len(members), list(combiner.weights)
    return [
        {
            "run": m.name,
            "model": m.metrics.get("model"),
            "weight": share,
            "coef": coef,
            "val": m.metrics.get("val"),
            "test": m.metrics.get("test"),
        }
        for m, share, coef in zip(members, shares, coefs, strict=True)
    ]


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
    task: Task,
    costs: Any = None,
) -> Path:
    import yaml

    first = members[0]
    member_paths = [str(m.path.resolve()) for m in members]
    config = {
        "name": name,
        "ensemble": {**spec, "members": member_paths, "weights": combiner.weights},
        "evaluate": {"threshold": spec["threshold"], **({"costs": costs.model_dump()} if costs else {})},
    }
    record = lifecycle.create(
        runs_dir, name, yaml.safe_dump(config, sort_keys=False), command="ensemble", estimator="ensemble",
        data_fingerprint=first.run.get("data_fingerprint"),
        split_fingerprint=first.run.get("split_fingerprint"), members=member_paths,
    )  # fmt: skip
    run_dir = record.folder
    with lifecycle.recording(record):
        atomic.write_json(
            run_dir / files.ENSEMBLE,
            {
                "method": combiner.method,
                "members": member_paths,
                "member_estimators": [m.run.get("estimator") for m in members],
                "weights": combiner.weights,
                "meta": combiner.meta,
                "rank_reference": combiner.rank_reference,
                "notes": combiner.notes,
                "calibrated_members": [m.calibrated for m in members],
                "search": tried,
            },
        )
        task.write_outputs(run_dir, metrics, first.test_ids, first.test_y, test_scores)
        decision = task.decision_of(metrics)
        task.write_predictions(
            run_dir / files.VAL_PREDICTIONS, first.val_ids, first.val_y, val_scores, decision
        )
        parts = {"val": (first.val_y, val_scores), "test": (first.test_y, test_scores)}
        _figures(run_dir, task, decision, parts, metrics["model"], first, costs)
        said = _drift(first, task, decision, val_scores, test_scores, run_dir)
        atomic.write_text(run_dir / files.LOG, "".join(f"{note}\n" for note in [*combiner.notes, *said]))
        record.finish("completed", threshold=metrics["threshold"], notes=combiner.notes)
    return run_dir


def _figures(
    run_dir: Path, task: Task, decision: Any, parts: dict[str, Any], model: str, first: Member, costs: Any
) -> None:
    """The figures a train run draws (ranking, calibration, threshold, gains, confusion; profit with
    the members' costs), from the combined probabilities; no history: nothing was trained here."""
    import yaml

    from seqexp.reporting.figures import figure_title

    config = yaml.safe_load((first.path / files.CONFIG).read_text()) or {}
    data = (config.get("data") or {}).get("name")
    title = figure_title(run_dir.name, model, data)
    task.write_figures(run_dir, parts, decision, "val", costs=costs, title=title)


def _drift(
    first: Member, task: Any, decision: Any, val: np.ndarray, test: np.ndarray, run_dir: Path
) -> list[str]:
    """drift.json: the members' feature reference with the ensemble's own score; its log lines."""
    from seqexp.pipeline.drift_check import for_ensemble, summary_lines

    parts = {"val": (first.val_y, val), "test": (first.test_y, test)}
    if (document := for_ensemble(first.path / files.DRIFT, task, decision, parts)) is None:
        return []
    atomic.write_json(run_dir / files.DRIFT, document)
    lines = summary_lines(document["reference"], document["parts"])
    return [*lines, *(f"warning: drift: {line}" for line in document["warnings"])]


def parse_weights(text: str | None) -> list[float] | None:
    """``"0.7,0.3"`` -> ``[0.7, 0.3]``; a typo is a user error."""
    if text is None:
        return None
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise UserError(f"--weights: '{text}' is not comma-separated numbers such as 0.7,0.3") from None
