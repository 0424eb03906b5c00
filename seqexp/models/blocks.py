"""Pieces every Keras architecture shares: the input (with its padding mask) and the output head."""

from __future__ import annotations

from typing import Any, Literal

from seqexp.errors import UserError
from seqexp.models.base import InputSpec

Activation = Literal["relu", "tanh", "elu", "gelu", "selu"]


def require_sequences(spec: InputSpec, model: str) -> None:
    if not spec.is_sequence:
        raise UserError(
            f"model.name: {model} reads sequences, but the data is a table (one row per customer); "
            "use a table model such as dense, logistic_regression or gradient_boosting"
        )


def sequence_input(spec: InputSpec, model: str) -> tuple[Any, Any]:
    """``(inputs, x)``: ``x`` carries a Keras mask over padded steps when the data has padding.

    Padded steps are exactly 0 after scaling (pre-padded: the latest event is the last step), so
    ``Masking(0.0)`` recovers the mask and every mask-aware layer downstream skips them.
    """
    import keras
    from keras import layers

    require_sequences(spec, model)
    inputs = keras.Input(shape=spec.shape, name="events")
    return inputs, (layers.Masking(mask_value=0.0)(inputs) if spec.masked else inputs)


def static_input(spec: InputSpec) -> Any | None:
    """The second input, ``static`` (the per-customer vector beside the sequence), or None when the
    data has none (``spec.static`` 0)."""
    import keras

    return keras.Input(shape=(spec.static,), name="static") if spec.static else None


def with_static(x: Any, static: Any | None) -> Any:
    """The sequence encoder's output joined with the static vector (when there is one), for the head."""
    from keras import layers

    return x if static is None else layers.Concatenate(name="with_static")([x, static])


def keras_model(events: Any, static: Any | None, outputs: Any, name: str) -> Any:
    """The functional model: one input, or ``[events, static]`` (fed in that order)."""
    import keras

    return keras.Model(events if static is None else [events, static], outputs, name=name)


def dense_head(
    x: Any,
    units: list[int],
    *,
    activation: str,
    dropout: float,
    l2: float = 0.0,
    n_classes: int = 2,
    name: str = "score",
) -> Any:
    """Dense (+ dropout) blocks, then the output layer (``output_layer``)."""
    from keras import layers, regularizers

    regularizer = regularizers.L2(l2) if l2 else None
    for size in units:
        x = layers.Dense(size, activation=activation, kernel_regularizer=regularizer)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    return output_layer(x, n_classes, name=name)


def output_layer(x: Any, n_classes: int = 2, *, name: str = "score") -> Any:
    """The output every Keras classifier ends in: one sigmoid unit (the positive-class score) for a
    binary target, a softmax over ``n_classes`` units (one probability per class) otherwise."""
    from keras import layers

    if n_classes > 2:
        return layers.Dense(n_classes, activation="softmax", name=name)(x)
    return layers.Dense(1, activation="sigmoid", name=name)(x)
