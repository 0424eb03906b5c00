"""Scaling fitted on the training split only, saved as JSON (never pickle) and reloaded."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Standardizer:
    """Per-feature ``(x - mean) / std`` on numeric columns; one-hot columns pass through.

    Missing values (NaN) are filled with ``fill``, the training split's mean or median of the
    column (``impute``), before scaling: the statistics never see validation or test rows.

    For sequences the statistics come from real (unmasked) steps only, and padded steps stay 0,
    so padding never leaks into the statistics nor looks like data after scaling.
    """

    feature_names: list[str]
    mean: list[float]
    std: list[float]
    scaled: list[bool]
    fill: list[float] | None = None  # None: saved before imputation existed, nothing to fill
    impute: str = "mean"

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

    def save(self, path: Path) -> None:
        from seqexp.runfolder.atomic import write_text

        write_text(path, json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> Standardizer:
        return cls(**json.loads(path.read_text()))
