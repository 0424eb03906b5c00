"""Scoring rows with a saved run's model: a fast batch scorer and chunked scoring with its scaling."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from seqexp.data.dataset import Dataset
from seqexp.runfolder.reader import SavedRun
from seqexp.tasks.binary import RiskBands

CHUNK = 8192  # rows scaled and scored at a time; big enough to keep the model's matmuls efficient


def score_chunks(
    run: SavedRun, data: Dataset, *, chunk: int = CHUNK, score: Callable | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(ids, scores)`` per chunk: the run's saved scaling, then the model."""
    score = score or run.scorer
    for start in range(0, len(data.y), chunk):
        rows = data.subset(np.arange(start, min(start + chunk, len(data.y))))
        yield rows.ids, score(run.scaler.inputs(rows))


def bands_for(run: SavedRun, cuts: list[float] | None = None, levels: list[str] | None = None) -> RiskBands:
    """Bands from the command line, else the run config's ``evaluate.risk_bands``/``risk_levels``,
    on calibrated probabilities. The top level starts no lower than the decision threshold (in
    probability) unless ``evaluate.risk_below_threshold``, so "high" never holds a customer the
    decision leaves out."""
    evaluate = run.cfg.evaluate
    cuts = cuts if cuts is not None else list(getattr(evaluate, "risk_bands", RiskBands.cuts))
    if levels is None:
        configured = list(getattr(evaluate, "risk_levels", RiskBands.levels))
        levels = configured if len(configured) == len(cuts) + 1 else _default_levels(len(cuts))
    at = run.metrics.get("threshold_probability")
    if at is not None and cuts and not getattr(evaluate, "risk_below_threshold", False):
        below = cuts[-2] if len(cuts) > 1 else 0.0
        cuts = [*cuts[:-1], min(max(cuts[-1], float(at)), 1 - 1e-9)]
        if cuts[-1] <= below:  # the threshold sits under the level below: keep the cuts increasing
            cuts[-1] = below + 1e-9
    return RiskBands(tuple(cuts), tuple(levels))


def _default_levels(n_cuts: int) -> list[str]:
    return ["low", "medium", "high"] if n_cuts == 2 else [f"band{i + 1}" for i in range(n_cuts + 1)]
