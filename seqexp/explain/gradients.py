"""Integrated gradients for a binary Keras model, on the log-odds of its score.

For an input ``x`` and a baseline ``b`` (here all padding: an empty history, or the training mean
of a table's scaled columns, both exactly 0 after scaling), the attribution of each input value is
``(x - b) * mean over alpha of d logit(model(b + alpha (x - b))) / dx``, the mean taken at the
midpoints of ``alpha_steps`` equal slices of [0, 1]. The attributions sum to
``logit(model(x)) - logit(model(b + EPSILON (x - b)))`` up to the integration error, which is
measured and reported (why the path starts just off the baseline: ``IntegratedGradients``).

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
EPSILON = 1e-4  # where the path starts, off the baseline (see IntegratedGradients)


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


class IntegratedGradients:
    """Integrated gradients of one model, traced once and reused for every chunk of rows.

    ``__call__(inputs)`` returns ``(attributions per input, logit at x, logit at the path's start)``.
    The path starts at ``b + EPSILON (x - b)``, not at ``b``: for a masked sequence model the
    all-padding baseline is an empty history, while a step just off it is already a real event
    (the mask is "not exactly 0"), so the score jumps there. The reference a customer is compared
    with is therefore as many events as the customer has, each at the training mean with no
    level: the attributions say what the events' values and types add to that."""

    def __init__(self, model: Any, *, alpha_steps: int = 32):
        from seqexp.runtime.backend import tensorflow

        tf = self.tf = tensorflow()
        self.n_inputs = len(model.inputs)
        self.alpha_steps = alpha_steps
        self.alphas = ((np.arange(alpha_steps) + 0.5) / alpha_steps).astype(np.float32)
        logit = logit_function(model)
        single = self.n_inputs == 1
        specs = [tf.TensorSpec([None, *x.shape[1:]], tf.float32) for x in model.inputs]

        def call(*xs: Any) -> Any:
            return logit(xs[0] if single else list(xs))

        def gradients(*xs: Any) -> Any:
            with tf.GradientTape() as tape:
                tape.watch(xs)
                z = call(*xs)
            return tape.gradient(z, xs)

        self._call = tf.function(call, input_signature=specs)
        self._gradients = tf.function(gradients, input_signature=specs)

    def __call__(
        self, inputs: Sequence[np.ndarray], baselines: Sequence[np.ndarray] | None = None
    ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        inputs = [np.asarray(x, dtype=np.float32) for x in inputs]
        bases = [np.zeros_like(x) if baselines is None else np.asarray(b, np.float32).reshape(x.shape)
                 for x, b in zip(inputs, baselines or inputs, strict=True)]  # fmt: skip
        m, n = self.alpha_steps, len(inputs[0])
        out = [np.zeros_like(x) for x in inputs]
        rows = max(1, BATCH_ROWS // m)
        for start in range(0, n, rows):
            part = slice(start, start + rows)
            deltas = [x[part] - b[part] for x, b in zip(inputs, bases, strict=True)]
            path = [
                (b[part][:, None] + self.alphas.reshape(1, m, *[1] * (d.ndim - 1)) * d[:, None]).reshape(
                    -1, *d.shape[1:]
                )
                for b, d in zip(bases, deltas, strict=True)
            ]
            grads = self._gradients(*path)
            for k, (g, d) in enumerate(zip(grads, deltas, strict=True)):
                out[k][part] = d * np.asarray(g).reshape(len(d), m, *d.shape[1:]).mean(axis=1)
        start_of_path = [b + EPSILON * (x - b) for x, b in zip(inputs, bases, strict=True)]
        return out, self._logits(inputs), self._logits(start_of_path)

    def _logits(self, arrays: list[np.ndarray]) -> np.ndarray:
        n = len(arrays[0])
        parts = [
            np.asarray(self._call(*[a[s : s + BATCH_ROWS] for a in arrays])) for s in range(0, n, BATCH_ROWS)
        ]
        return np.concatenate(parts).astype(np.float64) if parts else np.zeros(0)
