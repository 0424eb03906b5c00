"""A tabular network: dense + dropout blocks with L2. Sequences are flattened or pooled first; a static
vector beside the sequence (a second input) is joined with that before the hidden layers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from seqexp.config.section import Section
from seqexp.models.base import InputSpec
from seqexp.models.blocks import Activation, dense_head, keras_model, static_input, with_static
from seqexp.models.keras_family import keras_architecture


class DenseConfig(Section):
    """Dense network for tables (sequences are flattened, mean-pooled or cut to the last step)."""

    name: Literal["dense"] = "dense"
    num_hidden_layers: int = Field(2, ge=0, le=20, description="Number of dense + dropout blocks.")
    hidden_layer_size: int = Field(64, ge=1, le=8192, description="Units of each hidden layer.")
    activation: Activation = Field("relu", description="Activation of the hidden layers.")
    dropout_rate: float = Field(0.2, ge=0, lt=1, description="Dropout after each hidden layer.")
    l2_strength: float = Field(1e-4, ge=0, le=1, description="L2 penalty on the hidden layers' weights.")
    sequence_input: Literal["flatten", "mean", "last"] = Field(
        "flatten",
        description="Sequences only: flatten all steps, average the real steps, or keep the last step.",
    )


@keras_architecture(DenseConfig, tags=("sequence", "table"))
def build_dense(cfg: DenseConfig, spec: InputSpec) -> Any:
    import keras
    from keras import layers

    inputs = keras.Input(shape=spec.shape, name="events" if spec.is_sequence else "features")
    static = static_input(spec)
    x = inputs
    if spec.is_sequence:
        if cfg.sequence_input == "flatten":
            x = layers.Flatten()(x)  # padded steps are 0: they add nothing to the first layer
        elif cfg.sequence_input == "mean":
            x = layers.Masking(0.0)(x) if spec.masked else x
            x = layers.GlobalAveragePooling1D()(x)  # averages real steps only
        else:
            x = layers.Flatten()(layers.Cropping1D((spec.shape[0] - 1, 0))(x))  # latest event
    hidden = [cfg.hidden_layer_size] * cfg.num_hidden_layers
    outputs = dense_head(
        with_static(x, static),
        hidden,
        activation=cfg.activation,
        dropout=cfg.dropout_rate,
        l2=cfg.l2_strength,
        n_classes=spec.n_classes,
    )
    return keras_model(inputs, static, outputs, cfg.name)
