"""Scaling fitted on the training split only, saved as JSON (never pickle) and reloaded."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from seqexp.data.dataset import Dataset
    from seqexp.data.inputs import ModelInput


@dataclass(frozen=True)
class Standardizer:
    """Per-feature ``(x - mean) / std`` on numeric columns; one-hot columns pass through.

    Missing values (NaN) are filled with ``fill``, the training split's mean or median of the
    column (``impute``), before scaling: the statistics never see validation or test rows.

    For sequences the statistics come from real (unmasked) steps only, and padded steps stay 0,
    so padding never leaks into the statistics nor looks like data after scaling.

    ``static`` is the scaling of the static block beside a sequence (``sequence_and_aggregates``),
    fitted on the same training rows and saved in the same JSON; None for data without one.
    """

    feature_names: list[str]
    mean: list[float]
    std: list[float]
    scaled: list[bool]
    fill: list[float] | None = None  # None: saved before imputation existed, nothing to fill
    impute: str = "mean"
    static: Standardizer | None = None

    @classmethod
    def fit(
        cls,
        X: np.ndarray,
        mask: np.ndarray | None,
        feature_names: list[str],
        passthrough: list[int],
        impute: str = "mean",
    ) -> Standardizer:
        rows = X[mask] if mask is not None else X.reshape(-1, X.shape[-1])
        complete = len(rows) > 0 and not np.isnan(rows).any()
        rows = rows.astype(np.float64)
        if complete:  # no NaN: mean/std give nanmean/nanstd's exact values without their copies
            safe = rows
            mean, std = rows.mean(axis=0), rows.std(axis=0)
        else:
            seen = ~np.isnan(rows).all(axis=0) if len(rows) else np.zeros(X.shape[-1], dtype=bool)
            safe = np.where(seen, rows, 0.0) if len(rows) else rows  # all-NaN columns: mean 0, std 1
            with np.errstate(all="ignore"):
                mean = np.nanmean(safe, axis=0) if len(rows) else np.zeros(X.shape[-1])
                std = np.nanstd(safe, axis=0) if len(rows) else np.ones(X.shape[-1])
        with np.errstate(all="ignore"):
            if impute == "median":
                fill = np.nanmedian(safe, axis=0) if len(rows) else np.zeros(X.shape[-1])
            elif impute == "mean":
                fill = mean
            else:
                raise ValueError(f"unknown imputation {impute!r}")
        std = np.where(std > 1e-12, std, 1.0)  # a constant column stays constant instead of NaN
        scaled = [i not in set(passthrough) for i in range(X.shape[-1])]
        return cls(list(feature_names), mean.tolist(), std.tolist(), scaled, fill.tolist(), impute)

    def transform(self, X: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        if X.shape[-1] != len(self.feature_names):
            raise ValueError(f"expected {len(self.feature_names)} features, got {X.shape[-1]}")
        on = np.asarray(self.scaled)
        mean = np.where(on, self.mean, 0.0).astype(np.float32)
        std = np.where(on, self.std, 1.0).astype(np.float32)
        if self.fill is not None and np.isnan(X).any():
            X = np.where(np.isnan(X), np.asarray(self.fill, dtype=np.float32), X)
        out = X - mean  # a new array: divided in place, one temporary fewer on large inputs
        out /= std
        if mask is not None:
            out[~mask] = 0.0
        return out.astype(np.float32, copy=False)

    def with_static(self, static: np.ndarray, names: list[str]) -> Standardizer:
        """This scaling plus a static block's, fitted on ``static`` (the training rows)."""
        return replace(self, static=Standardizer.fit(static, None, names, passthrough=[], impute=self.impute))

    def scale(self, data: Dataset) -> Dataset:
        """``data`` with its sequence or table and its static block (if any) scaled."""
        if (data.static is None) != (self.static is None):
            has = "has a static block" if data.static is not None else "has no static block"
            raise ValueError(f"the data {has} beside its sequence, the scaling was fitted the other way")
        static = None
        if self.static is not None and data.static is not None:
            static = self.static.transform(data.static, None)
        return replace(data, X=self.transform(data.X, data.mask), static=static)

    def inputs(self, data: Dataset) -> ModelInput:
        """What the model reads for ``data``, scaled: ``X``, or ``X`` beside the static block."""
        return self.scale(data).inputs

    def save(self, path: Path) -> None:
        from seqexp.runfolder.atomic import write_text

        write_text(path, json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> Standardizer:
        return cls.from_json(json.loads(path.read_text()))

    @classmethod
    def from_json(cls, state: dict) -> Standardizer:
        static = state.pop("static", None)  # absent in runs saved before the static block
        return cls(**state, static=None if static is None else cls.from_json(static))
