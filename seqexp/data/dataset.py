"""The model-ready data every source produces."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from seqexp.data.inputs import ModelInput, model_input


@dataclass(frozen=True)
class Dataset:
    """Arrays for one experiment.

    ``X`` is float32, ``(n, features)`` for tables or ``(n, steps, features)`` for sequences,
    pre-padded: the last real event sits in the last step. ``mask`` marks real steps.
    ``onehot_groups`` lists feature indices that form one one-hot block (never scaled, and kept
    one-hot by the balancers); ``report`` says what the source did, for the run log.
    ``schema`` holds what is needed to encode NEW raw data exactly the same way (columns, category
    levels, sequence length...); it is saved in the run folder and handed back to the source by
    ``evaluate``/``predict``. ``y`` is -1 where labels are unknown (unlabelled data to score).
    ``cutoffs`` (event snapshots) is each example's cutoff, ``datetime64[s]``: its features come from
    events strictly before it, its label from the window starting at it; one customer may have an
    example at several cutoffs. ``position`` (tables) is each row's place in the file.
    ``static`` (with ``static_names``) is a per-customer vector beside the sequence (the aggregates
    of ``output: sequence_and_aggregates``), None when the data has none; ``inputs`` is what a model
    reads (``seqexp.data.inputs``). ``edges`` (``data.graph``) is each example's row of the
    customer-item graph, a ``scipy.sparse`` CSR matrix (examples x item vocabulary) of the events
    strictly before its cutoff (``seqexp.data.graph``); None without a graph.
    """

    X: np.ndarray
    y: np.ndarray
    ids: np.ndarray
    feature_names: list[str]
    mask: np.ndarray | None = None
    onehot_groups: list[list[int]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    schema: dict[str, Any] = field(default_factory=dict)
    static: np.ndarray | None = None
    static_names: list[str] = field(default_factory=list)
    cutoffs: np.ndarray | None = None
    position: np.ndarray | None = None
    edges: Any = None  # scipy.sparse.csr_matrix; typed loosely so that scipy stays off light imports

    def __post_init__(self) -> None:
        n = len(self.y)
        if self.X.shape[0] != n or len(self.ids) != n:
            raise ValueError(f"X, y and ids differ in length: {self.X.shape[0]}, {n}, {len(self.ids)}")
        if self.X.shape[-1] != len(self.feature_names):
            raise ValueError("feature_names does not match X's last axis")
        for name in ("cutoffs", "position"):
            values = getattr(self, name)
            if values is not None and len(values) != n:
                raise ValueError(f"{name} has {len(values)} entries for {n} examples")
        if self.edges is not None and self.edges.shape[0] != n:
            raise ValueError(f"edges has {self.edges.shape[0]} rows for {n} examples")
        if self.static is not None and (self.static.shape != (n, len(self.static_names)) or self.X.ndim != 3):
            raise ValueError("static must be (rows, len(static_names)), beside a sequence X")

    @property
    def is_sequence(self) -> bool:
        return self.X.ndim == 3

    @property
    def inputs(self) -> ModelInput:
        """What a model reads: ``X``, or ``X`` beside the static vector."""
        return model_input(self.X, self.static)

    @property
    def n_classes(self) -> int:
        """2 for a binary target, else the number of classes the source declares."""
        classes = self.schema.get("classes")
        return len(classes) if classes and len(classes) > 2 else 2

    @property
    def onehot_columns(self) -> list[int]:
        return sorted(i for group in self.onehot_groups for i in group)

    def subset(self, index: np.ndarray) -> Dataset:
        return replace(
            self,
            X=self.X[index],
            y=self.y[index],
            ids=self.ids[index],
            mask=None if self.mask is None else self.mask[index],
            cutoffs=None if self.cutoffs is None else self.cutoffs[index],
            position=None if self.position is None else self.position[index],
            static=None if self.static is None else self.static[index],
            edges=None if self.edges is None else self.edges[index],
        )

    def fingerprint(self) -> str:
        """Content hash of the arrays (not of the file they came from): same data, same hash."""
        digest = hashlib.sha256()
        for array in (self.X, self.y, self.ids.astype(str), self.mask, self.static, self.cutoffs):
            if array is not None:
                digest.update(str(array.shape).encode())
                digest.update(np.ascontiguousarray(array).tobytes())
        if self.edges is not None:  # the graph's rows: same edges, same hash
            for part in (self.edges.indptr, self.edges.indices, self.edges.data):
                digest.update(np.ascontiguousarray(part).tobytes())
        digest.update("|".join(self.feature_names).encode())
        if self.static is not None:
            digest.update(("|static|" + "|".join(self.static_names)).encode())
        return digest.hexdigest()[:16]
