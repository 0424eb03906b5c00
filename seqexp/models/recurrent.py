"""Recurrent sequence models: stacked LSTM or GRU, LSTM then SimpleRNN, and Conv1D then LSTM.

All read pre-padded sequences with a mask (padded steps skipped) and keep cuDNN-compatible
defaults (tanh/sigmoid activations, no recurrent dropout: dropout sits between layers). With a
static vector beside the sequence (``output: sequence_and_aggregates``) the model has a second input,
joined with the last recurrent layer's output before the dense head.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from seqexp.config.section import Section
from seqexp.models.base import InputSpec
from seqexp.models.blocks import (
    Activation,
    dense_head,
    keras_model,
    require_sequences,
    sequence_input,
    static_input,
    with_static,
)
from seqexp.models.keras_family import keras_architecture

TAGS = ("sequence",)


class LSTMConfig(Section):
    """Stacked LSTM over the event sequence, then a dense head (e.g. LSTM 64 -> LSTM 32 -> Dense 32)."""

    name: Literal["lstm"] = "lstm"
    units: list[int] = Field([64, 32], min_length=1, description="Units of each stacked recurrent layer.")
    dropout: float = Field(0.2, ge=0, lt=1, description="Dropout after each recurrent and dense layer.")
    bidirectional: bool = Field(False, description="Read each sequence both ways.")
    dense: list[int] = Field([32], description="Units of the dense layers before the output.")
    activation: Activation = Field("relu", description="Activation of the dense head.")


class GRUConfig(LSTMConfig):
    """Stacked GRU over the event sequence, then a dense head (the LSTM's shape with GRU cells)."""

    name: Literal["gru"] = "gru"  # type: ignore[assignment]


class RNNConfig(Section):
    """An LSTM followed by a SimpleRNN, then a dense head (a common next-purchase design)."""

    name: Literal["rnn"] = "rnn"
    lstm_units: int = Field(64, ge=1, description="Units of the LSTM layer (returns the whole sequence).")
    rnn_units: int = Field(32, ge=1, description="Units of the SimpleRNN layer that reads it.")
    dropout: float = Field(0.2, ge=0, lt=1, description="Dropout after each recurrent and dense layer.")
    dense: list[int] = Field([32], description="Units of the dense layers before the output.")
    activation: Activation = Field("relu", description="Activation of the dense head.")


class CNNLSTMConfig(Section):
    """Conv1D(32) -> Conv1D(64) -> LSTM(64) -> LSTM(32) -> Dense(32): local patterns, then order."""

    name: Literal["cnn_lstm"] = "cnn_lstm"
    filters: list[int] = Field([32, 64], min_length=1, description="Filters of each Conv1D layer.")
    kernel_size: int = Field(3, ge=1, le=64, description="Steps each convolution looks at (causal).")
    pool_size: int = Field(
        1, ge=1, le=16, description="Max-pool the convolved steps by this factor (1: off)."
    )
    units: list[int] = Field([64, 32], min_length=1, description="Units of each stacked LSTM layer.")
    dropout: float = Field(0.2, ge=0, lt=1, description="Dropout after each recurrent and dense layer.")
    dense: list[int] = Field([32], description="Units of the dense layers before the output.")
    activation: Activation = Field("relu", description="Activation of the convolutions and dense head.")


def recurrent_stack(x: Any, cells: list[tuple[type, int]], *, dropout: float, bidirectional: bool) -> Any:
    """Stack recurrent layers; all but the last return sequences. Masks flow through."""
    from keras import layers

    for i, (cell, units) in enumerate(cells):
        layer = cell(units, return_sequences=i < len(cells) - 1)
        x = layers.Bidirectional(layer)(x) if bidirectional else layer(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    return x


def _stacked(cfg: LSTMConfig, spec: InputSpec, cell_name: str) -> Any:
    from keras import layers

    inputs, x = sequence_input(spec, cfg.name)
    static = static_input(spec)
    cell = {"lstm": layers.LSTM, "gru": layers.GRU}[cell_name]
    x = recurrent_stack(
        x, [(cell, u) for u in cfg.units], dropout=cfg.dropout, bidirectional=cfg.bidirectional
    )
    outputs = dense_head(
        with_static(x, static), cfg.dense, activation=cfg.activation, dropout=cfg.dropout,
        n_classes=spec.n_classes,
    )  # fmt: skip
    return keras_model(inputs, static, outputs, cfg.name)


@keras_architecture(LSTMConfig, tags=TAGS)
def build_lstm(cfg: LSTMConfig, spec: InputSpec) -> Any:
    """An uncompiled Keras model: sigmoid output (binary) or softmax (multi-class)."""
    return _stacked(cfg, spec, "lstm")


@keras_architecture(GRUConfig, tags=TAGS)
def build_gru(cfg: GRUConfig, spec: InputSpec) -> Any:
    return _stacked(cfg, spec, "gru")


@keras_architecture(RNNConfig, tags=TAGS)
def build_rnn(cfg: RNNConfig, spec: InputSpec) -> Any:
    from keras import layers

    inputs, x = sequence_input(spec, cfg.name)
    static = static_input(spec)
    cells = [(layers.LSTM, cfg.lstm_units), (layers.SimpleRNN, cfg.rnn_units)]
    x = recurrent_stack(x, cells, dropout=cfg.dropout, bidirectional=False)
    outputs = dense_head(
        with_static(x, static), cfg.dense, activation=cfg.activation, dropout=cfg.dropout,
        n_classes=spec.n_classes,
    )  # fmt: skip
    return keras_model(inputs, static, outputs, cfg.name)


@keras_architecture(CNNLSTMConfig, tags=TAGS)
def build_cnn_lstm(cfg: CNNLSTMConfig, spec: InputSpec) -> Any:
    import keras
    from keras import layers

    from seqexp.models.layers import StepMask

    require_sequences(spec, cfg.name)
    inputs = keras.Input(shape=spec.shape, name="events")
    static = static_input(spec)
    x = inputs
    for filters in cfg.filters:
        # Causal: a step sees only itself and earlier steps, so pre-padding reads like the zeros
        # the convolution pads with, and no step sees the future.
        x = layers.Conv1D(filters, cfg.kernel_size, padding="causal", activation=cfg.activation)(x)
    if cfg.pool_size > 1:
        x = layers.MaxPooling1D(cfg.pool_size, padding="same")(x)
    if spec.masked:  # Conv1D drops Keras masks: rebuild it from the raw input for the LSTMs
        x = StepMask(pool_size=cfg.pool_size)([x, inputs])
    x = recurrent_stack(x, [(layers.LSTM, u) for u in cfg.units], dropout=cfg.dropout, bidirectional=False)
    outputs = dense_head(
        with_static(x, static), cfg.dense, activation=cfg.activation, dropout=cfg.dropout,
        n_classes=spec.n_classes,
    )  # fmt: skip
    return keras_model(inputs, static, outputs, cfg.name)
