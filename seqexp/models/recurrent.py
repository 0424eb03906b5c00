"""Recurrent sequence models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from seqexp.errors import UserError
from seqexp.models.base import InputSpec
from seqexp.registry import MODELS
from seqexp.schema import Section


class LSTMConfig(Section):
    """Stacked LSTM over the event sequence, then a dense head (e.g. LSTM 64 -> LSTM 32 -> Dense 32)."""

    name: Literal["lstm"] = "lstm"
    units: list[int] = Field([64, 32], min_length=1, description="Units of each stacked LSTM layer.")
    dropout: float = Field(0.2, ge=0, lt=1, description="Dropout after each recurrent and dense layer.")
    bidirectional: bool = Field(False, description="Read each sequence both ways.")
    dense: list[int] = Field([32], description="Units of the dense layers before the output.")
    activation: Literal["relu", "tanh", "elu", "gelu", "selu"] = Field(
        "relu", description="Activation of the dense head."
    )


def require_sequences(spec: InputSpec, model: str) -> None:
    if not spec.is_sequence:
        raise UserError(
            f"model.name: {model} reads sequences, but the data is a table (one row per customer); "
            "use a table model such as logistic_regression"
        )


@MODELS.register(LSTMConfig, tags=("keras",))
def build_lstm(cfg: LSTMConfig, spec: InputSpec) -> Any:
    """An uncompiled Keras model with a sigmoid output."""
    import keras
    from keras import layers

    require_sequences(spec, "lstm")
    inputs = keras.Input(shape=spec.shape, name="events")
    # Padded steps are all-zero after scaling; Masking makes the LSTM skip them.
    x = layers.Masking(mask_value=0.0)(inputs) if spec.masked else inputs
    for i, units in enumerate(cfg.units):
        layer = layers.LSTM(units, return_sequences=i < len(cfg.units) - 1)
        x = layers.Bidirectional(layer)(x) if cfg.bidirectional else layer(x)
        if cfg.dropout:
            x = layers.Dropout(cfg.dropout)(x)
    for units in cfg.dense:
        x = layers.Dense(units, activation=cfg.activation)(x)
        if cfg.dropout:
            x = layers.Dropout(cfg.dropout)(x)
    outputs = layers.Dense(1, activation="sigmoid", name="score")(x)
    return keras.Model(inputs, outputs, name="lstm")
