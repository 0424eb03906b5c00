"""Custom Keras layers, registered so that saved models reload with ``safe_mode=True``.

Importing this module registers them (``seqexp.models.keras_estimator`` does, before loading).
Keep them few and small: every layer here is code a model file refers to by name.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="seqexp")
class StepMask(layers.Layer):
    """Carry the padding mask of the raw input onto derived step features (after Conv1D, pooling).

    Called on ``[features, raw]``: returns ``features`` with padded steps set to exactly 0 and a
    Keras mask attached, so the next recurrent layer skips them. A step is padding when every raw
    feature is 0 (the scaled input's convention). ``pool_size`` > 1 pools the mask the way a
    ``MaxPooling1D(pool_size, padding="same")`` pools the features: a pooled step is real when any
    of its steps is.
    """

    def __init__(self, pool_size: int = 1, **kwargs: Any):
        super().__init__(**kwargs)
        self.pool_size = pool_size
        self.supports_masking = True

    def _mask(self, raw: Any) -> Any:
        real = ops.cast(ops.any(ops.not_equal(raw, 0.0), axis=-1), "float32")
        if self.pool_size > 1:
            pooled = ops.max_pool(real[..., None], self.pool_size, self.pool_size, padding="same")
            real = ops.squeeze(pooled, axis=-1)
        return real

    def call(self, inputs: list[Any]) -> Any:
        features, raw = inputs
        return features * ops.cast(self._mask(raw), features.dtype)[..., None]

    def compute_mask(self, inputs: list[Any], mask: Any = None) -> Any:
        return ops.cast(self._mask(inputs[1]), "bool")

    def compute_output_shape(self, input_shape: list[tuple]) -> tuple:
        return input_shape[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": self.pool_size}


@keras.saving.register_keras_serializable(package="seqexp")
class PositionalEmbedding(layers.Layer):
    """Adds a learned embedding of each step's distance from the END of the sequence.

    Sequences are pre-padded, so counting from the end gives a customer's latest event the same
    position whatever the padding; the input mask passes through unchanged.
    """

    def __init__(self, max_length: int, dim: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.dim = dim
        self.supports_masking = True
        self.embedding = layers.Embedding(max_length, dim, name="positions")

    def build(self, input_shape: tuple) -> None:
        self.embedding.build((None,))
        super().build(input_shape)

    def call(self, inputs: Any) -> Any:
        steps = ops.shape(inputs)[1]
        from_end = ops.flip(ops.arange(steps), axis=0)
        return inputs + ops.cast(self.embedding(from_end), inputs.dtype)[None, ...]

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return mask

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_length": self.max_length, "dim": self.dim}


@keras.saving.register_keras_serializable(package="seqexp")
class PaddingMask(layers.Layer):
    """The real-step mask of a raw padded input (a step is padding when all its features are 0).

    ``for_attention=False`` gives ``(batch, steps)`` for pooling; ``True`` gives
    ``(batch, 1, steps)``, an attention mask that hides padded keys from every query. Passing it
    explicitly is sturdier than relying on implicit Keras masks, which MultiHeadAttention strips
    from its inputs (a second block would then attend to padding).
    """

    def __init__(self, for_attention: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.for_attention = for_attention

    def call(self, inputs: Any) -> Any:
        real = ops.any(ops.not_equal(inputs, 0.0), axis=-1)
        return real[:, None, :] if self.for_attention else real

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        steps = input_shape[1]
        return (input_shape[0], 1, steps) if self.for_attention else (input_shape[0], steps)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "for_attention": self.for_attention}


@keras.saving.register_keras_serializable(package="seqexp")
class Columns(layers.Layer):
    """Columns ``[start, stop)`` of a table input: the ``gnn`` model's branch for one block of
    features (the customer's own, or one hop of the graph's propagated features)."""

    def __init__(self, start: int, stop: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.start, self.stop = int(start), int(stop)

    def call(self, inputs: Any) -> Any:
        return inputs[:, self.start : self.stop]

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], self.stop - self.start)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "start": self.start, "stop": self.stop}
