"""``npz``: arrays prepared elsewhere, ``X`` (2-D table or 3-D sequences) and ``y`` in one .npz file.

Loaded with ``allow_pickle=False`` (an .npz can carry pickled objects: they are refused). Every
feature is numeric and scaled on the training split; NaN values are imputed like a table's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from seqexp.config.section import ConfigPath, Section
from seqexp.data.dataset import Dataset
from seqexp.data.readers import check_two_classes
from seqexp.errors import DataError
from seqexp.registry import DATA_SOURCES


class NpzConfig(Section):
    """Arrays X (customers x features, or customers x steps x features) and y (0/1) from an .npz file."""

    name: Literal["npz"] = "npz"
    path: ConfigPath = Field("data.npz", description="The .npz file (numpy.savez).")
    x: str = Field("X", description="Key of the feature array.")
    y: str = Field("y", description="Key of the 0/1 label array.")
    ids: str | None = Field("ids", description="Key of customer ids, if present (else row numbers).")
    mask: str | None = Field(
        "mask", description="Key of a (customers x steps) bool array marking real steps, if present."
    )
    feature_names: list[str] | None = Field(None, description="Names of the last axis (default f0, f1...).")
    impute: Literal["mean", "median"] = Field(
        "mean", description="How NaN values are filled (train statistic)."
    )


def _load(path: str) -> Any:
    if not Path(path).is_file():
        raise DataError(f"data.path: no such file {path}")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise DataError(f"data.path: cannot read {path} as .npz (without pickle): {exc}") from None


@DATA_SOURCES.register(NpzConfig, tags=("file",))
def build_npz(cfg: NpzConfig, *, seed: int, schema: dict | None = None, labelled: bool = True) -> Dataset:
    """Load the arrays; with ``schema``, check they have the shape the run was trained on."""
    arrays = _load(cfg.path)
    keys = list(arrays.files)
    if cfg.x not in keys:
        raise DataError(f"data.x: no array '{cfg.x}' in {cfg.path}; it holds: {', '.join(keys) or 'nothing'}")
    X = np.asarray(arrays[cfg.x])
    if X.ndim not in (2, 3) or X.shape[0] == 0 or not np.issubdtype(X.dtype, np.number):
        raise DataError(
            f"data.x: '{cfg.x}' must be a non-empty numeric 2-D or 3-D array, got {X.dtype} {X.shape}"
        )
    X = X.astype(np.float32)
    n = len(X)
    names = cfg.feature_names or [f"f{i}" for i in range(X.shape[-1])]
    if len(names) != X.shape[-1]:
        raise DataError(f"data.feature_names: {len(names)} names for {X.shape[-1]} features")
    if schema is not None and list(schema["shape"]) != list(X.shape[1:]):
        raise DataError(
            f"data.x: rows have shape {list(X.shape[1:])}, the run was trained on {schema['shape']}"
        )

    def optional(key: str | None, what: str, shape: tuple[int, ...]) -> np.ndarray | None:
        if key is None or key not in keys:
            return None
        value = np.asarray(arrays[key])
        if value.shape != shape:
            raise DataError(f"data.{what}: '{key}' has shape {value.shape}, expected {shape}")
        return value

    ids = optional(cfg.ids, "ids", (n,))
    mask = optional(cfg.mask, "mask", X.shape[:2]) if X.ndim == 3 else None
    if mask is not None:
        mask = mask.astype(bool)
        X[~mask] = 0.0
    report: dict[str, Any] = {"rows": n, "shape": list(X.shape), "missing_values": int(np.isnan(X).sum())}
    if labelled:
        if cfg.y not in keys:
            raise DataError(f"data.y: no array '{cfg.y}' in {cfg.path}; it holds: {', '.join(keys)}")
        y = np.asarray(arrays[cfg.y]).reshape(-1)
        if len(y) != n:
            raise DataError(f"data.y: '{cfg.y}' has {len(y)} values for {n} rows of '{cfg.x}'")
        if not np.isin(y, (0, 1)).all():
            raise DataError(f"data.y: labels must be 0 or 1, found {np.unique(y)[:10].tolist()}")
        y = y.astype(np.int64)
        check_two_classes(y, column=f"data.y '{cfg.y}'")
        report["positive_rate"] = round(float(y.mean()), 4)
    else:
        y = np.full(n, -1, dtype=np.int64)
    schema = schema or {
        "source": "npz",
        "shape": list(X.shape[1:]),
        "feature_names": names,
        "impute": cfg.impute,
    }
    return Dataset(
        X=X,
        y=y,
        ids=ids if ids is not None else np.arange(n),
        feature_names=list(schema["feature_names"]),
        mask=mask,
        report=report,
        schema=schema,
    )
