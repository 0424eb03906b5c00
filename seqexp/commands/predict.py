"""``seqexp predict``: score unlabelled customers with a completed run.

Per customer: ``id, score, y_pred`` (at the run's validation-chosen threshold) and ``risk`` (a level
from score bands); for a multi-class run ``id, y_pred, p_pred`` (the most probable class and its
probability; no threshold, no risk bands). Rows are scaled, scored and written chunk by chunk, so
memory beyond the input stays flat (one chunk's scaled copy and scores), and the CSV is written to a
temporary name and renamed when complete.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.data.dataset import Dataset
from seqexp.runfolder.atomic import atomic_path
from seqexp.runfolder.reader import (
    SavedRun,
    build_input,
    data_config_for,
    describe_unseen,
    open_run,
    unseen_levels,
)

CHUNK = 8192  # rows scaled and scored at a time; big enough to keep the model's matmuls efficient


@dataclass(frozen=True)
class RiskBands:
    """``levels[i]`` for scores in ``[cuts[i-1], cuts[i])``: default low < 0.3 <= medium < 0.7 <= high."""

    cuts: tuple[float, ...] = (0.3, 0.7)
    levels: tuple[str, ...] = ("low", "medium", "high")

    def __post_init__(self) -> None:
        from seqexp.config import check_risk_bands

        check_risk_bands(list(self.cuts), list(self.levels))

    def assign(self, scores: np.ndarray) -> np.ndarray:
        return np.asarray(self.levels, dtype=object)[np.searchsorted(self.cuts, scores, side="right")]


@dataclass
class PredictSummary:
    output: Path
    rows: int = 0
    predicted_positive: int = 0
    threshold: float | None = 0.5  # None for a multi-class run (argmax)
    levels: Counter = field(default_factory=Counter)
    unseen: dict[str, int] = field(default_factory=dict)
    classes: Counter | None = None  # multi-class runs: customers per predicted class


def scorer(estimator: Any) -> Callable[[np.ndarray], np.ndarray]:
    """A fast batch scoring function for the estimator.

    For Keras models a traced ``tf.function`` over the model call avoids ``model.predict``'s
    per-call set-up (a data pipeline and callbacks), which dominates on chunks of a few thousand
    rows; the signature leaves the batch axis free, so a smaller last chunk is not retraced.
    """
    if getattr(estimator, "kind", None) != "keras":
        return estimator.predict
    from seqexp.runtime.backend import tensorflow

    tf = tensorflow()
    model = estimator.model
    spec = tf.TensorSpec([None, *model.input_shape[1:]], tf.float32)
    call = tf.function(lambda x: model(x, training=False), input_signature=[spec])

    def score(X: np.ndarray) -> np.ndarray:
        from seqexp.models.keras_estimator import as_scores

        return as_scores(call(tf.convert_to_tensor(X, dtype=tf.float32)).numpy(), len(X))

    return score


def score_chunks(
    run: SavedRun, data: Dataset, *, chunk: int = CHUNK, score: Callable | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(ids, scores)`` per chunk: the run's saved scaling, then the model."""
    score = score or run.scorer
    for start in range(0, len(data.y), chunk):
        stop = start + chunk
        mask = None if data.mask is None else data.mask[start:stop]
        yield data.ids[start:stop], score(run.scaler.transform(data.X[start:stop], mask))


def write_scores(
    run: SavedRun, data: Dataset, output: Path, bands: RiskBands, *, chunk: int = CHUNK
) -> PredictSummary:
    """Score ``data`` chunk by chunk into ``output`` (CSV, written atomically)."""
    threshold = run.threshold
    summary = PredictSummary(
        output=output, threshold=threshold, levels=Counter(dict.fromkeys(bands.levels, 0))
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(output) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "score", "y_pred", "risk"])
        for ids, scores in score_chunks(run, data, chunk=chunk):
            predicted = (scores >= threshold).astype(int)
            risk = bands.assign(scores)
            writer.writerows(zip(ids.tolist(), np.char.mod("%.6f", scores).tolist(),
                                 predicted.tolist(), risk.tolist(), strict=True))  # fmt: skip
            summary.rows += len(ids)
            summary.predicted_positive += int(predicted.sum())
            summary.levels.update(risk.tolist())
    return summary


def bands_for(run: SavedRun, cuts: list[float] | None = None, levels: list[str] | None = None) -> RiskBands:
    """Bands from the command line, else the run config's ``evaluate.risk_bands``/``risk_levels``."""
    evaluate = run.cfg.evaluate
    cuts = cuts if cuts is not None else list(getattr(evaluate, "risk_bands", RiskBands.cuts))
    if levels is None:
        configured = list(getattr(evaluate, "risk_levels", RiskBands.levels))
        levels = configured if len(configured) == len(cuts) + 1 else _default_levels(len(cuts))
    return RiskBands(tuple(cuts), tuple(levels))


def _default_levels(n_cuts: int) -> list[str]:
    return ["low", "medium", "high"] if n_cuts == 2 else [f"band{i + 1}" for i in range(n_cuts + 1)]


def predict_run(
    run_dir: Path,
    source: Path,
    output: Path,
    *,
    cuts: list[float] | None = None,
    levels: list[str] | None = None,
    chunk: int = CHUNK,
    trust: bool = False,
) -> PredictSummary:
    """Open the run, encode ``source`` with its schema, score it into ``output``."""
    from seqexp.errors import UserError
    from seqexp.tasks.multiclass import is_multiclass

    run = open_run(run_dir, trust=trust)
    if is_multiclass(run.metrics):
        if cuts is not None or levels is not None:
            raise UserError(
                f"--bands/--levels: {run_dir} predicts one of {run.metrics['n_classes']} classes; risk "
                "bands apply to binary scores only. Leave them out"
            )
        data = build_input(run, data_config_for(run, source), labelled=False)
        summary = write_classes(run, data, output, chunk=chunk)
        summary.unseen = unseen_levels(data)
        return summary
    try:
        bands = bands_for(run, cuts, levels)
    except ValueError as exc:
        raise UserError(f"--bands/--levels: {exc}") from None
    data = build_input(run, data_config_for(run, source), labelled=False)
    summary = write_scores(run, data, output, bands, chunk=chunk)
    summary.unseen = unseen_levels(data)
    return summary


def write_classes(run: SavedRun, data: Dataset, output: Path, *, chunk: int = CHUNK) -> PredictSummary:
    """A multi-class run: ``id, y_pred, p_pred`` (the most probable class and its probability)."""
    names = np.asarray(run.metrics["classes"], dtype=object)
    summary = PredictSummary(output=output, threshold=None, classes=Counter())
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(output) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "y_pred", "p_pred"])
        for ids, proba in score_chunks(run, data, chunk=chunk):
            best = proba.argmax(axis=1)
            chosen = names[best]
            p_best = np.char.mod("%.6f", proba[np.arange(len(best)), best])
            writer.writerows(zip(ids.tolist(), chosen.tolist(), p_best.tolist(), strict=True))
            summary.rows += len(ids)
            summary.classes.update(chosen.tolist())
    return summary


def summary_lines(summary: PredictSummary) -> list[str]:
    if summary.classes is not None:
        top = ", ".join(f"{name} {n}" for name, n in summary.classes.most_common(5))
        lines = [f"{summary.rows} customers scored (most probable class); most predicted: {top}"]
        if summary.unseen:
            lines.append("categorical values never seen in training (encoded as all-zeros): "
                         + describe_unseen(summary.unseen))  # fmt: skip
        return lines
    lines = [
        f"{summary.rows} customers scored; {summary.predicted_positive} predicted positive at "
        f"threshold {summary.threshold:.3f}",
        "risk levels: " + ", ".join(f"{k} {v}" for k, v in summary.levels.items()),
    ]
    if summary.unseen:
        lines.append(
            "categorical values never seen in training (encoded as all-zeros): "
            + describe_unseen(summary.unseen)
        )
    return lines
