"""Scoring customers held in memory with a saved run: rows of a table, or events of a log, in a
DataFrame, encoded with the run's schema exactly as ``seqexp predict`` encodes a file of them, scaled,
scored, calibrated and decided as ``predict`` does (the same task rows: ``id, score, probability,
y_pred, risk`` for a binary run, ``id, y_pred, p_pred`` for a multi-class one).

The one scorer behind ``seqexp serve`` and the exported MLflow model. The model is loaded once, when
the scorer is made (safe mode: a pickled model only with ``trust``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.pipeline.encode import encode_frame, frame_encoder, unseen_levels
from seqexp.pipeline.scoring import bands_for, score_chunks
from seqexp.runfolder.reader import SavedRun, open_run
from seqexp.serving.requests import RawColumns, raw_columns

FLOAT_COLUMNS = frozenset({"score", "probability", "p_pred"})  # predict writes them with 6 decimals


@dataclass
class Batch:
    """What scoring one batch of customers gave."""

    rows: list[dict[str, Any]]  # one per customer scored, predict's columns
    as_of: str | None = None  # events: histories were built strictly before it
    unseen_levels: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Scorer:
    """A completed run, its model loaded, ready to score DataFrames of raw rows or events."""

    def __init__(self, run: SavedRun):
        frame_encoder(run)  # a run whose source generates its data is refused here, in one line
        self.run = run
        self.columns: RawColumns = raw_columns(run.schema)
        self.task = run.task
        self.decision = run.decision
        self.bands = bands_for(run)
        self.header = self.task.predict_header()
        # The model loads now (a Keras one traced), not on the first request; one thread per call:
        # requests are small, and more processes (--workers), not threads, share the cores.
        self._score = run.estimator.batch_scorer(threads=1)
        self._lock = threading.Lock()  # one model call at a time: the libraries' own threads do the rest
        self._warm_up()

    @classmethod
    def open(cls, folder: Path, *, trust: bool = False) -> Scorer:
        return cls(open_run(folder, trust=trust))

    def _warm_up(self) -> None:
        """One call on one row of zeros, so the first request does not pay for tracing."""
        shape = self.run.record.get("input_shape")  # what train recorded (an ensemble has none)
        if shape:
            self._score(np.zeros((1, *shape), dtype=np.float32))

    def score_frame(
        self, frame: Any, *, as_of: str | None = None, where: str = "request", explain: int | None = None
    ) -> Batch:
        """Score the customers of ``frame`` (a table's rows, or a log's events); ``as_of`` as
        ``predict --as-of``; ``explain`` K adds each customer's top K ``reasons``, as ``predict
        --explain K`` writes them. Raises a ``UserError`` (a ``DataError``) for data that cannot be
        encoded, or a run whose model cannot be explained."""
        if explain:
            from seqexp.explain.columns import check_reasons

            check_reasons(self.run, explain)  # before any work: the run's model can give reasons
        data = encode_frame(self.run, frame, as_of=as_of, where=where, option="as_of")
        scored = self.task.new_scored(Path(where), self.decision, self.bands)
        rows: list[tuple[Any, ...]] = []
        for ids, scores in self._chunks(data):
            probabilities = self.run.probabilities(scores)
            rows += self.task.predict_rows(ids, scores, probabilities, self.decision, self.bands, scored)
        kinds = [float if name in FLOAT_COLUMNS else None for name in self.header]
        header = self.header
        typed = [{n: k(v) if k else v for n, k, v in zip(header, kinds, row, strict=True)} for row in rows]
        if explain:
            self._add_reasons(data, typed, explain)
        reference = data.report.get("reference_date")
        return Batch(typed, str(reference)[:19] if reference else None, unseen_levels(data),
                     list(data.report.get("notes", [])))  # fmt: skip

    def _chunks(self, data: Any) -> list[tuple[np.ndarray, np.ndarray]]:
        with self._lock:
            return list(score_chunks(self.run, data, score=self._score))

    def _add_reasons(self, data: Any, rows: list[dict[str, Any]], top: int) -> None:
        """``reasons`` on each row: the customer's top ``top`` reason texts (seqexp/explain), the rows
        being in the data's order as the scores are."""
        from seqexp.explain.layout import Layout
        from seqexp.explain.rows import explain_chunks

        with self._lock:
            parts = list(explain_chunks(self.run, data, Layout.of_run(self.run), top))
        texts = [[r.text for r in reasons] for part in parts for reasons in part.reasons]
        for row, reasons in zip(rows, texts, strict=True):
            row["reasons"] = reasons
