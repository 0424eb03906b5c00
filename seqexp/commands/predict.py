"""``seqexp predict``: score unlabelled customers with a completed run.

Per customer the run's task writes its columns: binary runs ``id, score, y_pred`` (at the run's
validation-chosen threshold) and ``risk`` (a level from score bands); multi-class runs ``id, y_pred,
p_pred`` (the most probable class and its probability; no threshold, no risk bands). Rows are
scaled, scored and written chunk by chunk, so memory beyond the input stays flat (one chunk's scaled
copy and scores), and the CSV is written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from seqexp.data.dataset import Dataset
from seqexp.errors import UserError
from seqexp.pipeline.encode import build_input, data_config_for, unseen_levels
from seqexp.pipeline.scoring import CHUNK, bands_for, score_chunks
from seqexp.runfolder.atomic import atomic_path
from seqexp.runfolder.reader import SavedRun, open_run
from seqexp.tasks import Scored
from seqexp.tasks.binary import RiskBands


def run(
    run_dir: Path,
    source: Path,
    *,
    output: Path,
    bands: str | None,
    levels: str | None,
    trust: bool,
    quiet: bool,
    fmt: str = "table",
    as_of: str | None = None,
    explain: int | None = None,
) -> None:
    from seqexp.reporting import tables
    from seqexp.reporting.console import print_document, print_json, result, say_for, warn

    names = [x.strip() for x in levels.split(",")] if levels is not None else None
    cuts = _floats(bands, "--bands")
    summary = predict_run(
        run_dir, source, output, cuts=cuts, levels=names, trust=trust, as_of=as_of, explain=explain
    )
    if fmt == "json":
        print_json(tables.prediction_document(summary))
    elif fmt == "csv":
        print_document(tables.prediction_csv(summary))
    else:
        say = say_for(quiet)
        for line in summary.lines():
            say(line)
    for line in [] if quiet else (summary.drift or {}).get("warnings", []):
        warn(f"drift: {line}")  # on stderr: stdout stays the document
    if fmt == "table":
        result(summary.output)


def _floats(text: str | None, option: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UserError(
            f"{option}: expected comma-separated numbers such as 0.3,0.7 (got {text!r})"
        ) from None


def write_scores(
    run: SavedRun, data: Dataset, output: Path, bands: RiskBands | None = None, *, chunk: int = CHUNK
) -> Scored:
    """Score ``data`` chunk by chunk into ``output`` (CSV, written atomically); then measure its
    drift against the run's reference (the scores are kept for that: one number per customer)."""
    from seqexp.pipeline.drift_check import against_run

    task, decision = run.task, run.decision
    bands = bands or bands_for(run)
    scored = task.new_scored(output, decision, bands)
    scored.threshold_probability = run.metrics.get("threshold_probability")
    output.parent.mkdir(parents=True, exist_ok=True)
    kept: list[np.ndarray] = []
    with atomic_path(output) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(task.predict_header())
        for ids, scores in score_chunks(run, data, chunk=chunk):
            rows = task.predict_rows(ids, scores, run.probabilities(scores), decision, bands, scored)
            writer.writerows(rows)
            kept.append(scores)
    scored.drift = against_run(run, data, np.concatenate(kept) if kept else np.zeros(0))
    return scored


def predict_run(
    run_dir: Path,
    source: Path,
    output: Path,
    *,
    cuts: list[float] | None = None,
    levels: list[str] | None = None,
    chunk: int = CHUNK,
    trust: bool = False,
    as_of: str | None = None,
    explain: int | None = None,
) -> Scored:
    """Open the run, encode ``source`` with its schema (histories as of ``as_of`` for event logs),
    score it into ``output``; with ``explain`` K, each customer's top K reasons beside (docs/explain.md)."""
    from seqexp.explain import columns

    run = open_run(run_dir, trust=trust)
    run.task.check_predict_options(cuts, levels)
    if explain:
        columns.check_reasons(run, explain)
    try:
        bands = bands_for(run, cuts, levels)  # used by tasks that decide by threshold
    except ValueError as exc:
        raise UserError(f"--bands/--levels: {exc}") from None
    data = build_input(run, data_config_for(run, source, as_of), labelled=False)
    summary = write_scores(run, data, output, bands, chunk=chunk)
    if explain:
        columns.add_reason_columns(run, data, output, explain, chunk=chunk)
    summary.unseen = unseen_levels(data)
    summary.history = history_line(data.report)
    return summary


def history_line(report: dict) -> str:
    """As of which date histories were built, and who was left out and why (event logs)."""
    if "reference_date" not in report:
        return ""
    left = report.get("customers_without_history", 0)
    line = f"histories as of {str(report['reference_date'])[:10]} (events strictly before it)"
    if report.get("events_from_reference_date"):
        line += f"; {report['events_from_reference_date']} later events not used"
    if left:
        line += f"; {left} customer(s) without events before it left out"
    for key in ("events_removed_by_where", "customers_removed_by_where", "graph_unseen_item_events"):
        if report.get(key):
            line += f"; {report[key]} {key.replace('_', ' ')}"
    return line


def summary_lines(summary: Scored) -> list[str]:
    return summary.lines()
