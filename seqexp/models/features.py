"""Per-customer features for the non-neural baselines: tables pass through, sequences are summarised.

A sequence ``(steps, features)`` with its padding becomes one row: the number of real steps, the
mean, standard deviation, minimum and maximum of each feature over real steps, and the last
``last_steps`` steps flattened (the latest event last). Padded steps are exactly 0 after scaling,
so the mask is recovered from the values when the data is padded.

A sequence beside its static vector (``output: sequence_and_aggregates``) becomes the static vector
(the aggregates of the customer's whole history) followed by the last ``last_steps`` steps
flattened: the summaries over the last N steps are left out, the aggregates cover them.
``last_steps: 0`` reads the static vector alone, as ``output: aggregates`` would.
"""

from __future__ import annotations

import numpy as np

from seqexp.data.inputs import ModelInput, SequenceAndStatic


def step_mask(X: np.ndarray, masked: bool) -> np.ndarray:
    return np.any(X != 0.0, axis=-1) if masked else np.ones(X.shape[:2], dtype=bool)


def _last(X: np.ndarray, last_steps: int) -> np.ndarray:
    return X[:, X.shape[1] - min(last_steps, X.shape[1]) :, :].reshape(len(X), -1)


def table_features(X: ModelInput, *, last_steps: int, masked: bool = True) -> np.ndarray:
    """Tables unchanged; sequences -> aggregates over real steps plus the last steps flattened;
    a sequence beside a static vector -> the static vector plus the last steps flattened."""
    if isinstance(X, SequenceAndStatic):
        return np.hstack([X.static, _last(X.sequence, last_steps)]).astype(np.float64)
    if X.ndim == 2:
        return X.astype(np.float64, copy=False)
    mask = step_mask(X, masked)
    weights = mask[..., None].astype(np.float64)
    count = np.maximum(mask.sum(axis=1, keepdims=True), 1).astype(np.float64)
    mean = (X * weights).sum(axis=1) / count
    std = np.sqrt(((X - mean[:, None, :]) ** 2 * weights).sum(axis=1) / count)
    big = np.finfo(np.float32).max
    low = np.where(mask[..., None], X, big).min(axis=1)
    high = np.where(mask[..., None], X, -big).max(axis=1)
    empty = ~mask.any(axis=1)
    low[empty] = high[empty] = 0.0
    last = _last(X, last_steps)
    return np.hstack([mask.sum(axis=1, keepdims=True), mean, std, low, high, last]).astype(np.float64)
