"""The first stage every verb shares: load the data, split it, fit scaling on train only.

Loading goes through the data-source registry (file sources: reused from the array cache when the
file and the data section are unchanged, see seqexp/data/cache.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from seqexp.config.experiment import ExperimentConfig
from seqexp.data.checks import check_features, check_labels
from seqexp.data.dataset import Dataset
from seqexp.data.split import Split, fold_split, ordered_split, stratified_split, time_split
from seqexp.errors import UserError
from seqexp.models.base import InputSpec
from seqexp.pipeline.scaling import Standardizer
from seqexp.registry import DATA_SOURCES
from seqexp.tasks import Task, task_for
from seqexp.tasks.class_names import ClassNames, binary_names


def load_dataset(cfg: ExperimentConfig) -> Dataset:
    """Build the configured data source's arrays."""
    from seqexp.data.cache import cached_build

    return cached_build(cfg.data, lambda: DATA_SOURCES.get(cfg.data.name).builder(cfg.data, seed=cfg.seed))


@dataclass(frozen=True)
class Prepared:
    """Data split and scaled (scaling fitted on train only): what every verb that fits or scores needs.

    ``train``, ``val`` and ``test`` hold scaled arrays; ``split`` indexes rows of ``data``.
    """

    data: Dataset
    split: Split
    scaler: Standardizer
    train: Dataset
    val: Dataset
    test: Dataset
    graph: Any = None  # GraphFeatures fitted on the training rows (data.graph), else None
    names: ClassNames = ClassNames()  # what a binary target's classes are called (figures)

    @property
    def spec(self) -> InputSpec:
        return InputSpec(
            shape=tuple(self.data.X.shape[1:]),
            masked=self.data.mask is not None,
            n_classes=self.data.n_classes,
            static=0 if self.data.static is None else self.data.static.shape[1],
            blocks=() if self.graph is None else self.graph.blocks,
        )

    @property
    def task(self) -> Task:
        """The prediction task the target calls for, chosen here once."""
        return task_for(self.data.schema.get("classes"), self.names)

    @property
    def fingerprints(self) -> dict[str, str]:
        data_fp = self.data.fingerprint()
        return {"data_fingerprint": data_fp, "split_fingerprint": self.split.fingerprint(data_fp)}


def make_split(cfg: ExperimentConfig, data: Dataset) -> Split:
    """The split a config asks for: same config and data, same rows in each part."""
    seed = cfg.split.seed if cfg.split.seed is not None else cfg.seed
    y, method = data.y, cfg.split.method
    if data.cutoffs is not None and method in ("holdout", "kfold"):
        raise UserError(
            f"split.method: {method} would put one customer's examples at different snapshot cutoffs in "
            "different parts at random; use split.method: time (out of time), or one labels.cutoff "
            "without data.snapshots for a random split of customers"
        )
    if method == "time":
        if data.cutoffs is None:
            raise UserError(
                "split.method: time needs examples at several cutoffs: set data.snapshots (event logs); "
                "for a table use split.method: ordered"
            )
        return time_split(data.cutoffs, data.ids, y, data.schema["snapshots"]["horizon_days"], cfg.split)
    if method == "ordered":
        return ordered_split(_order(cfg, data), y, cfg.split)
    if method == "kfold":
        if cfg.split.fold is None:
            raise UserError(
                "split.method: kfold trains one run per fold (seqexp train does it); to use a single "
                "fold here, set split.fold"
            )
        return fold_split(y, cfg.split, seed)
    return stratified_split(y, cfg.split.train, cfg.split.val, cfg.split.test, seed)


def _order(cfg: ExperimentConfig, data: Dataset) -> np.ndarray:
    """Each row's place in time for ``split.method: ordered``: the ``split.by`` column's values
    (numbers, or dates parsed as such) or the row's position in the file."""
    if data.position is None:
        raise UserError(
            "split.method: ordered applies to tables (rows in time order); for an event log use "
            "data.snapshots with split.method: time"
        )
    if cfg.split.by is None:
        return data.position
    from seqexp.data.readers import read_frame, require_columns

    options = {k: getattr(cfg.data, k) for k in ("sep", "header", "column_names")}
    frame = read_frame(cfg.data.path, what="data.path", **options)  # type: ignore[attr-defined]
    require_columns(frame, [cfg.split.by], where="split.by", path=cfg.data.path)  # type: ignore[attr-defined]
    return _sortable(frame[cfg.split.by].to_numpy()[data.position], cfg.split.by)


def _sortable(values: np.ndarray, column: str) -> np.ndarray:
    import pandas as pd

    series = pd.Series(values)
    if not pd.api.types.is_numeric_dtype(series):
        series = pd.to_datetime(series, errors="coerce")
    if series.isna().any():
        raise UserError(
            f"split.by: column '{column}' has {int(series.isna().sum())} empty or unreadable value(s) "
            "(numbers or dates); fill them or order by another column"
        )
    return series.to_numpy()


def prepare(cfg: ExperimentConfig, data: Dataset | None = None) -> Prepared:
    """Load (unless given), split, and scale with statistics from the training split alone."""
    data = data if data is not None else load_dataset(cfg)
    check_labels(data.y, data.n_classes)
    check_features(data)
    split = make_split(cfg, data)
    graph = None
    if data.edges is not None:  # fitted on the training rows' graph; every row folded in from its own edges
        from seqexp.pipeline.graph_features import GraphFeatures

        graph = GraphFeatures.fit(data.subset(split.train), data.schema["graph"])
        data = graph.apply(data)
    parts = [data.subset(index) for index in (split.train, split.val, split.test)]
    scaler = Standardizer.fit(
        parts[0].X,
        parts[0].mask,
        data.feature_names,
        passthrough=data.onehot_columns,
        impute=data.schema.get("impute", "mean"),  # missing values: filled with train statistics
    )
    if parts[0].static is not None:  # the static block beside the sequence: its own train statistics
        scaler = scaler.with_static(parts[0].static, data.static_names)
    train, val, test = (scaler.scale(part) for part in parts)
    names = binary_names(cfg.data, data.schema)
    return Prepared(data, split, scaler, train, val, test, graph=graph, names=names)
