"""Checks on model-ready arrays before anything is fitted: faults fail with a message naming them.

Sources turn raw files into a ``Dataset`` (and may impute missing values there, saying so in their
report); whatever still reaches the arrays as NaN or infinity is refused here, naming the feature,
because scaling, resampling and training would otherwise turn it into silent garbage.
"""

from __future__ import annotations

import numpy as np

from seqexp.data.dataset import Dataset
from seqexp.errors import DataError


def check_features(data: Dataset) -> None:
    """Refuse infinite feature values, and NaN unless the source imputes them (its schema names an
    ``impute`` method: missing values are then filled with training-split statistics), naming each
    bad feature. Only real (unpadded) steps count."""
    imputed = "impute" in data.schema
    values = data.X[data.mask] if data.mask is not None else data.X.reshape(-1, data.X.shape[-1])
    blocks = [(values, data.feature_names)]
    if data.static is not None:  # the static vector beside the sequence (sequence_and_aggregates)
        blocks.append((data.static, data.static_names))
    problems = []
    for block, names in blocks:
        bad_nan = np.isnan(block).sum(axis=0)
        bad_inf = np.isinf(block).sum(axis=0)
        for j, name in enumerate(names):
            if bad_nan[j] and not imputed:
                problems.append(f"'{name}' has {int(bad_nan[j])} missing (NaN) value(s)")
            if bad_inf[j]:
                problems.append(f"'{name}' has {int(bad_inf[j])} infinite value(s)")
    if problems:
        raise DataError(
            "data: " + "; ".join(problems) + ". Fill or drop them in the data (or let the source impute "
            "missing values); infinities usually come from a division by zero upstream"
        )


def check_labels(y: np.ndarray, n_classes: int = 2) -> None:
    """Training needs labels 0 and 1 only (``-1`` marks unlabelled rows, which cannot be fitted);
    a multi-class target needs class indices ``0..n_classes-1``."""
    values = np.unique(y)
    if n_classes > 2:
        odd = [int(v) for v in values if not 0 <= v < n_classes]
        if odd:
            raise DataError(
                f"data: the target has {n_classes} classes (indices 0..{n_classes - 1}), but holds "
                f"{odd[:5]} ({int(np.isin(y, odd).sum())} row(s)); -1 means unlabelled, which train "
                "cannot use"
            )
        return
    odd = [int(v) for v in values if v not in (0, 1)]
    if odd:
        raise DataError(
            f"data: the target must be 0 or 1, but holds {odd[:5]} "
            f"({int(np.isin(y, odd).sum())} row(s)); -1 means unlabelled, which train cannot use"
        )
