"""What every model family provides: the input it is built for, and a common fit/predict face."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.config.sections import TrainConfig
from seqexp.data.inputs import ModelInput


@dataclass(frozen=True)
class InputSpec:
    """Shape of one example (no batch axis), whether sequences carry padding, how many classes
    the target has (2: binary, one positive-class score; more: one probability per class), and the
    width of the static vector beside the sequence (0: none; ``seqexp.data.inputs``). ``blocks``: the
    widths of the graph's propagated-feature blocks that end the per-customer features, one per hop
    (``data.graph.hops``; the ``gnn`` model gives each its branch); empty without them."""

    shape: tuple[int, ...]
    masked: bool = False
    n_classes: int = 2
    static: int = 0
    blocks: tuple[int, ...] = ()

    @property
    def multiclass(self) -> bool:
        return self.n_classes > 2

    @property
    def is_sequence(self) -> bool:
        return len(self.shape) == 2


@dataclass(frozen=True)
class FitData:
    """Arrays a model is fitted on (``X``: one array, or a sequence beside its static block);
    ``class_weight`` comes from the balancer."""

    X: ModelInput
    y: np.ndarray
    class_weight: dict[int, float] | None = None


class Estimator(ABC):
    """A trained-or-trainable model behind one interface, Keras or scikit-learn alike."""

    kind: str
    # True when ``fit`` takes Keras callbacks (early stopping, TensorBoard, progress).
    keras_callbacks: bool = False

    @abstractmethod
    def fit(
        self, train: FitData, val: FitData, *, train_cfg: TrainConfig, callbacks: list[Any]
    ) -> list[dict]:
        """Fit and return the history: one dict of metrics per epoch (one row for one-shot fits)."""

    @abstractmethod
    def predict(self, X: ModelInput) -> np.ndarray:
        """Positive-class scores in [0, 1], one per row; for a multi-class target an
        ``(rows, n_classes)`` matrix of class probabilities (each row sums to 1). ``X`` is one
        array, or a ``SequenceAndStatic`` when the data has a static block."""

    @abstractmethod
    def save(self, folder: Path) -> Path:
        """Write the model into ``folder``; return the file written."""

    def batch_scorer(self, threads: int | None = None) -> Callable[[ModelInput], np.ndarray]:
        """A scoring function for many calls on chunks of rows (``predict`` unless a family has a
        faster path); callers build it once and reuse it. ``threads``: at most this many threads per
        call, for families that spread one call over threads (a service of small requests: 1)."""
        return self.predict

    @property
    def architecture(self) -> Any | None:
        """The Keras model to summarise and draw in the run folder, if there is one to show."""
        return None
