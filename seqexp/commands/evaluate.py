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

from seqexp.data.dataset import Dataset
from seqexp.data.inputs import ModelInput
from seqexp.errors import DataError, UserError
from seqexp.pipeline.encode import as_trained, build_input, data_config_for, scaled, unseen_levels
from seqexp.runfolder import atomic, files, lifecycle
from seqexp.runfolder.reader import SavedRun, open_run
from seqexp.tasks import Decision
from seqexp.tasks.base import describe_unseen


def run(
    run_dir: Path,
    *,
    data: Path | None,
    threshold: float | None,
    trust: bool,
    quiet: bool,
    fmt: str = "table",
    as_of: str | None = None,
) -> None:
    from seqexp.reporting import tables
    from seqexp.reporting.console import out, print_document, print_json, result, say_for, warn

    evaluated = evaluate_run(run_dir, data=data, threshold=threshold, trust=trust, as_of=as_of)
    say = say_for(quiet)
    for note in evaluated.notes:
        say(f"note: {note}")
    drift = evaluated.drift or {}
    for line in drift.get("lines", []):
        say(line)
    for line in [] if quiet else drift.get("warnings", []):
        warn(f"drift: {line}")  # on stderr: stdout stays the document
    shown = (evaluated.metrics, evaluated.part, evaluated.run_metrics)
    if fmt == "json":
        print_json(
            tables.evaluation_document(*shown, folder=evaluated.folder, notes=evaluated.notes, drift=drift)
        )
    elif fmt == "csv":
        print_document(tables.evaluation_csv(*shown))
    else:
        if not quiet:
            out.print(tables.evaluation_table(*shown))
        result(evaluated.folder)


@dataclass(frozen=True)
class EvaluationResult:
    folder: Path
    metrics: dict[str, Any]
    notes: list[str]
    part: str = "test"
    run_metrics: dict[str, Any] | None = None  # the run's own metrics.json, to show beside
    drift: dict[str, Any] | None = None  # the data against the run's drift reference (drift_check)


def evaluate_run(
    run_dir: Path,
    *,
    data: Path | None = None,
    threshold: float | None = None,
    trust: bool = False,
    as_of: str | None = None,
) -> EvaluationResult:
    """Evaluate a run on its test split (``data`` None) or on a labelled data file or config."""
    run = open_run(run_dir, trust=trust)
    decision = run.decision if threshold is None else run.task.fixed(threshold, "--threshold")
    notes: list[str] = []
    if data is None:
        if as_of is not None:
            raise UserError(
                "--as-of: goes with --data (new labelled data); the run's own test split is as trained"
            )
        part, raw, X, info = _own_test_split(run, notes)
    else:
        part, raw, X, info = _new_data(run, data, notes, as_of)
    run.task.check_labels(raw.y)
    scores = run.estimator.predict(X)
    from seqexp.pipeline.drift_check import against_run

    drift = against_run(run, raw, scores, part)  # at the run's own threshold, as its reference was
    return _write(run, decision, part, raw, scores, info, notes, drift)


def _own_test_split(run: SavedRun, notes: list[str]) -> tuple[str, Dataset, ModelInput, dict]:
    from seqexp.pipeline.prepare import load_dataset, make_split

    data = as_trained(run, load_dataset(run.cfg))
    fingerprint = data.fingerprint()
    if run.record.get("data_fingerprint") not in (None, fingerprint):
        # The config reads a file whose content changed since training: say so, do not pretend.
        notes.append(
            f"the data changed since training (fingerprint {fingerprint}, run has "
            f"{run.record['data_fingerprint']}); these are not the run's test customers"
        )
    test = data.subset(make_split(run.cfg, data).test)
    X = scaled(run, test)
    info = {"source": "the run's own test split", "data_fingerprint": fingerprint}
    return "test", test, X, info


def _new_data(
    run: SavedRun, source: Path, notes: list[str], as_of: str | None = None
) -> tuple[str, Dataset, ModelInput, dict]:
    data_cfg = data_config_for(run, source, as_of, labelled=True)
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
    X = scaled(run, data)
    info = {
        "source": str(source),
        "data": data_cfg.model_dump(mode="json"),
        "data_fingerprint": data.fingerprint(),
        "data_report": data.report,
        "unseen_levels": unseen,
    }
    return "data", data, X, info


def _write(
    run: SavedRun,
    decision: Decision,
    part: str,
    raw: Dataset,
    scores: np.ndarray,
    info: dict[str, Any],
    notes: list[str],
    drift: dict[str, Any],
) -> EvaluationResult:
    task, y, ids = run.task, raw.y, raw.ids
    metrics = {**task.score(decision, {part: (y, scores)}), "model": run.metrics.get("model")}
    if (quality := task.probability_quality(y, scores, run.calibrator)) is not None:
        metrics["calibration"] = {"method": quality.pop("method"), part: quality}
    folder = lifecycle.create_run_dir(
        run.folder / files.EVALUATIONS, part if part == "test" else Path(info["source"]).stem
    )
    task.write_outputs(folder, metrics, ids, y, scores, part=part)
    # The threshold was chosen on the run's validation split: this curve shows where it falls here.
    from seqexp.reporting.figures import figure_title

    title = figure_title(f"{run.folder.name} ({part})", run.metrics.get("model"), run.cfg.data.name)
    task.write_figures(
        folder, {part: (y, scores)}, decision, part, calibrator=run.calibrator,
        costs=run.cfg.evaluate.costs, title=title,
    )  # fmt: skip
    if drift["measured"]:
        atomic.write_json(folder / files.DRIFT, {"against": str(run.folder), **drift})
    atomic.write_json(  # written last: its presence means the evaluation folder is complete
        folder / files.EVALUATION_JSON,
        {"run": str(run.folder), "finished": lifecycle.now_iso(), "split": part, "notes": notes,
         "drift_warnings": drift["warnings"], **info},
    )  # fmt: skip
    return EvaluationResult(folder, metrics, notes, part, run.metrics, drift)
