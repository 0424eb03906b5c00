"""What a model reads: one array, or a sequence beside a per-customer static vector.

Most data is one array (a table, or pre-padded sequences). ``output: sequence_and_aggregates`` gives
two: the last N events ``(n, steps, features)`` and the customer's aggregate vector ``(n, static)``,
kept apart so that sequence models read the sequence with their encoder and join the static vector
after it (``seqexp.models.blocks``), and the non-neural models read the static vector
(``seqexp.models.features``). ``SequenceAndStatic`` carries the pair wherever one array travels
(fitting, scoring, chunking by rows), so the code between the data and the model does not need to
know which of the two it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SequenceAndStatic:
    """Rows of a two-input model: ``sequence`` ``(n, steps, features)``, ``static`` ``(n, k)``."""

    sequence: np.ndarray
    static: np.ndarray

    def __post_init__(self) -> None:
        if self.sequence.ndim != 3 or self.static.ndim != 2 or len(self.sequence) != len(self.static):
            raise ValueError(
                f"a sequence (n, steps, features) and a static block (n, k) of the same rows, got "
                f"{self.sequence.shape} and {self.static.shape}"
            )

    def __len__(self) -> int:
        return len(self.sequence)

    def __getitem__(self, index: Any) -> SequenceAndStatic:
        return SequenceAndStatic(self.sequence[index], self.static[index])


ModelInput = np.ndarray | SequenceAndStatic


def model_input(X: np.ndarray, static: np.ndarray | None) -> ModelInput:
    """``X`` alone, or ``X`` beside its static block."""
    return X if static is None else SequenceAndStatic(X, static)
