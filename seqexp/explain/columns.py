"""``seqexp predict --explain K``: ``reason_1..reason_K`` columns beside the scores.

The scores CSV predict wrote is read back row by row, in step with the data chunk by chunk (the
rows are in the data's order), and rewritten under a temporary name with each customer's top K
reasons appended, then renamed: memory stays flat, and the file is never half-written.
"""

from __future__ import annotations

import csv
from pathlib import Path

from seqexp.data.dataset import Dataset
from seqexp.errors import UserError
from seqexp.explain.contributions import require_explainable
from seqexp.explain.layout import Layout
from seqexp.explain.rows import CHUNK, explain_chunks
from seqexp.runfolder.atomic import atomic_path
from seqexp.runfolder.reader import SavedRun

MAX_REASONS = 20


def check_reasons(run: SavedRun, top: int) -> None:
    """Before anything is scored: the run can be explained and K is sensible."""
    if not 1 <= top <= MAX_REASONS:
        raise UserError(f"--explain: give 1 to {MAX_REASONS} reasons per customer (got {top})")
    require_explainable(run)


def add_reason_columns(run: SavedRun, data: Dataset, output: Path, top: int, *, chunk: int = CHUNK) -> None:
    """Append ``reason_1..reason_K`` to the scores CSV at ``output`` (one row per row of ``data``)."""
    layout = Layout.of_run(run)
    with output.open(newline="") as source, atomic_path(output) as tmp, tmp.open("w", newline="") as handle:
        reader, writer = csv.reader(source), csv.writer(handle)
        writer.writerow([*next(reader), *(f"reason_{k}" for k in range(1, top + 1))])
        for part in explain_chunks(run, data, layout, top, chunk=chunk):
            for who, reasons in zip(part.ids, part.reasons, strict=True):
                row = next(reader)
                if row[0] != str(who):  # the scores were written in the data's order
                    raise UserError(f"{output}: row for {row[0]} where {who} was expected; score again")
                texts = [r.text for r in reasons]
                writer.writerow([*row, *texts, *[""] * (top - len(texts))])
