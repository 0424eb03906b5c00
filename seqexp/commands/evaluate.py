"""``seqexp evaluate``: score a completed run again, on its own test split or on new labelled data.

Nothing in the run folder is changed: results go to ``RUN/evaluations/<timestamp>-<what>/``. On its
own test split the numbers equal the run's ``metrics.json`` (same data, same saved scaling, same
model, same stored threshold), which proves the run folder alone reproduces the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.errors import DataError, UserError
from seqexp.runfolder import atomic, files, lifecycle
from seqexp.runfolder.reader import (
    SavedRun,
    build_input,
    data_config_for,
    describe_unseen,
    open_run,
    unseen_levels,
)

EVALUATIONS = "evaluations"
EVALUATION_JSON = "evaluation.json"


@dataclass(frozen=True)
class EvaluationResult:
    folder: Path
    metrics: dict[str, Any]
    notes: list[str]


def evaluate_run(
    run_dir: Path, *, data: Path | None = None, threshold: float | None = None, trust: bool = False
) -> EvaluationResult:
    """Evaluate a run on its test split (``data`` None) or on a labelled data file or config."""
    from seqexp.tasks.multiclass import is_multiclass

    run = open_run(run_dir, trust=trust)
    multiclass = is_multiclass(run.metrics)
    if multiclass and threshold is not None:
        raise UserError(
            f"--threshold: {run_dir} predicts one of {run.metrics['n_classes']} classes by argmax; "
            "thresholds do not apply. Leave --threshold out"
        )
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise UserError(f"--threshold: must lie strictly between 0 and 1 (got {threshold})")
    notes: list[str] = []
    if data is None:
        part, y, ids, X, info = _own_test_split(run, notes)
    else:
        part, y, ids, X, info = _new_data(run, data, notes)
    scores = run.estimator.predict(X)
    if multiclass:
        return _write_multiclass(run, part, y, ids, scores, info, notes)
    return _write(run, part, y, ids, scores, threshold, info, notes)


def _own_test_split(run: SavedRun, notes: list[str]) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, dict]:
    from seqexp.pipeline.train import load_dataset, make_split

    data = load_dataset(run.cfg)
    fingerprint = data.fingerprint()
    if run.record.get("data_fingerprint") not in (None, fingerprint):
        # The config reads a file whose content changed since training: say so, do not pretend.
        notes.append(
            f"the data changed since training (fingerprint {fingerprint}, run has "
            f"{run.record['data_fingerprint']}); these are not the run's test customers"
        )
    test = data.subset(make_split(run.cfg, data.y).test)
    X = run.scaler.transform(test.X, test.mask)
    return (
        "test",
        test.y,
        test.ids,
        X,
        {"source": "the run's own test split", "data_fingerprint": fingerprint},
    )


def _new_data(
    run: SavedRun, source: Path, notes: list[str]
) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, dict]:
    data_cfg = data_config_for(run, source)
    data = build_input(run, data_cfg, labelled=True)
    if (data.y < 0).any():
        raise DataError(
            f"{source}: {int((data.y < 0).sum())} customer(s) have no label; evaluate needs labels"
        )
    unseen = unseen_levels(data)
    if unseen:
        notes.append(
            f"categorical values never seen in training (encoded as all-zeros): {describe_unseen(unseen)}"
        )
    X = run.scaler.transform(data.X, data.mask)
    info = {
        "source": str(source),
        "data": data_cfg.model_dump(mode="json"),
        "data_fingerprint": data.fingerprint(),
        "data_report": data.report,
        "unseen_levels": unseen,
    }
    return "data", data.y, data.ids, X, info


def _write(
    run: SavedRun,
    part: str,
    y: np.ndarray,
    ids: np.ndarray,
    scores: np.ndarray,
    threshold: float | None,
    info: dict[str, Any],
    notes: list[str],
) -> EvaluationResult:
    from seqexp.pipeline.train import write_scored_outputs
    from seqexp.reporting import figures as plots
    from seqexp.tasks.binary_metrics import binary_metrics, classification_report

    used = run.threshold if threshold is None else float(threshold)
    metrics = {
        "threshold": used,
        "threshold_rule": run.metrics.get("threshold_rule")
        if threshold is None
        else f"fixed {used:g} (--threshold)",
        "model": run.metrics.get("model"),
        part: binary_metrics(y, scores, used),
        "classification_report": {part: classification_report(y, scores, used)},
    }
    folder = lifecycle.create_run_dir(
        run.folder / EVALUATIONS, part if part == "test" else Path(info["source"]).stem
    )
    write_scored_outputs(folder, metrics, ids, y, scores, part=part)
    # The threshold was chosen on the run's validation split: this curve shows where it falls here.
    plots.write_score_plots(folder, {part: (y, scores)}, used, part)
    atomic.write_json(  # written last: its presence means the evaluation folder is complete
        folder / EVALUATION_JSON,
        {"run": str(run.folder), "finished": lifecycle.now_iso(), "split": part, "notes": notes, **info},
    )
    return EvaluationResult(folder, metrics, notes)


def _write_multiclass(
    run: SavedRun,
    part: str,
    y: np.ndarray,
    ids: np.ndarray,
    proba: np.ndarray,
    info: dict[str, Any],
    notes: list[str],
) -> EvaluationResult:
    """A multi-class run: argmax decisions, the N x N confusion matrix, per-class probabilities."""
    from seqexp.tasks import multiclass

    names = list(run.metrics["classes"])
    if len(y) and (y.min() < 0 or y.max() >= len(names)):
        raise DataError(f"labels outside the run's {len(names)} classes (indices 0..{len(names) - 1})")
    metrics = {
        "task": "multiclass",
        "n_classes": len(names),
        "classes": names,
        "decision": "argmax",
        "threshold": None,
        "threshold_rule": multiclass.DECISION_RULE,
        "model": run.metrics.get("model"),
        part: multiclass.multiclass_metrics(y, proba),
        "classification_report": {part: multiclass.classification_report(y, proba, names)},
    }
    folder = lifecycle.create_run_dir(
        run.folder / EVALUATIONS, part if part == "test" else Path(info["source"]).stem
    )
    atomic.write_json(folder / files.METRICS, metrics)
    multiclass.write_confusion(folder, y, proba, names, f"{part} ({len(names)} classes, argmax)")
    multiclass.write_predictions(folder / files.PREDICTIONS, ids, y, proba, names)
    atomic.write_json(  # written last: its presence means the evaluation folder is complete
        folder / EVALUATION_JSON,
        {"run": str(run.folder), "finished": lifecycle.now_iso(), "split": part, "notes": notes, **info},
    )
    return EvaluationResult(folder, metrics, notes)


def evaluation_table(result: EvaluationResult, run_metrics: dict[str, Any] | None = None) -> Any:
    """The evaluation's metrics beside the run's own test metrics."""
    from rich.table import Table

    from seqexp.reporting.tables import SHOWN

    part = "test" if "test" in result.metrics else "data"
    rule = result.metrics["threshold_rule"]
    if result.metrics.get("task") == "multiclass":
        from seqexp.tasks.multiclass import SHOWN

        title = f"{part} metrics ({result.metrics['n_classes']} classes, decision: argmax)"
    else:
        title = f"{part} metrics (threshold {result.metrics['threshold']:.3f}: {rule})"
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("now", justify="right")
    if run_metrics:
        table.add_column("at training (test)", justify="right", style="dim")
    for name in SHOWN:
        row = [name, f"{result.metrics[part][name]:.4f}"]
        if run_metrics:
            row.append(f"{run_metrics['test'][name]:.4f}")
        table.add_row(*row)
    table.caption = f"{result.metrics[part]['rows']} customers"
    return table
