"""Integrated gradients for a binary Keras model, on the log-odds of its score.

For an input ``x`` and a baseline ``b`` (here all padding: an empty history, or the training mean
of a table's scaled columns, both exactly 0 after scaling), the attribution of each input value is
``(x - b) * mean over alpha of d logit(model(b + alpha (x - b))) / dx``, the mean taken at the
midpoints of ``alpha_steps`` equal slices of [0, 1] (alpha never 0: the path never reaches the
all-padding input, whose mask would be empty). The attributions sum to
``logit(model(x)) - logit(model(b))`` up to the integration error, which is measured and reported.

The logit is read before the output layer's sigmoid when the model ends in the shared
``Dense(1, sigmoid)`` named ``score`` (exact), else as ``log p - log(1 - p)``.

A model may read several inputs (a sequence and a static vector beside it): ``inputs`` is a list
of arrays, one per model input, and one attribution array comes back for each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

BATCH_ROWS = 4096  # interpolated rows per gradient call (rows x alpha_steps)


def logit_function(model: Any) -> Callable[[Any], Any]:
    """``x -> (rows,)`` log-odds of the model's positive-class score, differentiable."""
    from seqexp.runtime.backend import tensorflow

    tf = tensorflow()
    import keras

    try:
        layer = model.get_layer("score")
    except ValueError:
        layer = None
    if layer is not None and keras.activations.serialize(layer.activation) == "sigmoid":
        head = keras.Model(model.input, layer.input)
        return lambda x: tf.reshape(tf.matmul(head(x, training=False), layer.kernel) + layer.bias, [-1])

    def from_probability(x: Any) -> Any:
        p = tf.clip_by_value(tf.reshape(model(x, training=False), [-1]), 1e-7, 1 - 1e-7)
        return tf.math.log(p) - tf.math.log1p(-p)

    return from_probability


def integrated_gradients(
    model: Any,
    inputs: Sequence[np.ndarray],
    baselines: Sequence[np.ndarray] | None = None,
    *,
    alpha_steps: int = 32,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """``(attributions per input, logit at x, logit at the baseline)``, all per row."""
    from seqexp.runtime.backend import tensorflow

    tf = tensorflow()
    inputs = [np.asarray(x, dtype=np.float32) for x in inputs]
    bases = [np.zeros_like(x) if baselines is None else np.asarray(b, np.float32).reshape(x.shape)
             for x, b in zip(inputs, baselines or inputs, strict=True)]  # fmt: skip
    single = len(inputs) == 1
    logit = logit_function(model)
    alphas = ((np.arange(alpha_steps) + 0.5) / alpha_steps).astype(np.float32)

    def call(xs: list[Any]) -> Any:
        return logit(xs[0] if single else xs)

    @tf.function(reduce_retracing=True)
    def gradients(xs: list[Any]) -> Any:
        with tf.GradientTape() as tape:
            tape.watch(xs)
            z = call(xs)
        return tape.gradient(z, xs)

    n = len(inputs[0])
    out = [np.zeros_like(x) for x in inputs]
    rows = max(1, BATCH_ROWS // alpha_steps)
    for start in range(0, n, rows):
        part = slice(start, start + rows)
        deltas = [x[part] - b[part] for x, b in zip(inputs, bases, strict=True)]
        path = [
            (b[part][:, None] + alphas.reshape(1, -1, *[1] * (d.ndim - 1)) * d[:, None]).reshape(
                -1, *d.shape[1:]
            )
            for b, d in zip(bases, deltas, strict=True)
        ]
        grads = gradients([tf.convert_to_tensor(p) for p in path])
        for k, (g, d) in enumerate(zip(grads, deltas, strict=True)):
            mean = np.asarray(g).reshape(len(d), alpha_steps, *d.shape[1:]).mean(axis=1)
            out[k][part] = d * mean
    at_x = _in_chunks(call, inputs, tf)
    at_base = _in_chunks(call, bases, tf)
    return out, at_x, at_base


def _in_chunks(call: Callable, arrays: list[np.ndarray], tf: Any) -> np.ndarray:
    n = len(arrays[0])
    parts = [np.asarray(call([tf.convert_to_tensor(a[s : s + BATCH_ROWS]) for a in arrays]))
             for s in range(0, n, BATCH_ROWS)]  # fmt: skip
    return np.concatenate(parts).astype(np.float64) if parts else np.zeros(0)
