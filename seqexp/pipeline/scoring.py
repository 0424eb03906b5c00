"""Scoring rows with a saved run's model: a fast batch scorer and chunked scoring with its scaling."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from seqexp.data.dataset import Dataset
from seqexp.runfolder.reader import SavedRun

CHUNK = 8192  # rows scaled and scored at a time; big enough to keep the model's matmuls efficient


def score_chunks(
    run: SavedRun, data: Dataset, *, chunk: int = CHUNK, score: Callable | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(ids, scores)`` per chunk: the run's saved scaling, then the model."""
    score = score or run.scorer
    for start in range(0, len(data.y), chunk):
        rows = data.subset(np.arange(start, min(start + chunk, len(data.y))))
        yield rows.ids, score(run.scaler.inputs(rows))
