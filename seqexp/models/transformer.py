"""A small Transformer encoder over event sequences, respecting padding through the Keras mask; a
static vector beside the sequence (a second input) is joined with the pooled output before the head."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from seqexp.config.section import Section
from seqexp.errors import UserError
from seqexp.models.base import InputSpec
from seqexp.models.blocks import (
    Activation,
    dense_head,
    keras_model,
    sequence_input,
    static_input,
    with_static,
)
from seqexp.models.keras_family import keras_architecture


class TransformerConfig(Section):
    """Transformer encoder: projection + positional embedding, attention blocks, pooling, dense head."""

    name: Literal["transformer"] = "transformer"
    d_model: int = Field(32, ge=4, le=1024, description="Width of each step's representation.")
    heads: int = Field(2, ge=1, le=32, description="Attention heads per block.")
    blocks: int = Field(2, ge=1, le=12, description="Encoder blocks (attention + feed-forward).")
    ff_dim: int = Field(64, ge=1, le=8192, description="Hidden units of each block's feed-forward layer.")
    dropout: float = Field(0.1, ge=0, lt=1, description="Dropout inside the blocks and the head.")
    pooling: Literal["mean", "last"] = Field(
        "mean", description="Sequence summary: mean of the real steps, or the latest step."
    )
    max_length: int = Field(512, ge=1, le=100_000, description="Longest sequence the positions cover.")
    dense: list[int] = Field([32], description="Units of the dense layers before the output.")
    activation: Activation = Field("relu", description="Activation of feed-forward and dense layers.")

    @model_validator(mode="after")
    def _heads_divide_width(self) -> TransformerConfig:
        if self.d_model % self.heads:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of heads ({self.heads})")
        return self


@keras_architecture(TransformerConfig, tags=("sequence",))
def build_transformer(cfg: TransformerConfig, spec: InputSpec) -> Any:
    from keras import layers

    from seqexp.models.layers import PaddingMask, PositionalEmbedding

    inputs, x = sequence_input(spec, cfg.name)
    static = static_input(spec)
    if spec.shape[0] > cfg.max_length:
        raise UserError(
            f"model.max_length: sequences have {spec.shape[0]} steps, more than max_length "
            f"{cfg.max_length}; raise model.max_length"
        )
    # Padded steps are hidden from attention (as keys) and from pooling with explicit masks.
    keys = PaddingMask(for_attention=True, name="attention_mask")(inputs) if spec.masked else None
    steps = PaddingMask(name="step_mask")(inputs) if spec.masked else None
    x = layers.Dense(cfg.d_model, name="project")(x)
    x = PositionalEmbedding(cfg.max_length, cfg.d_model, name="positions")(x)
    for i in range(cfg.blocks):
        attended = layers.MultiHeadAttention(
            cfg.heads, cfg.d_model // cfg.heads, dropout=cfg.dropout, name=f"attention_{i}"
        )(x, x, attention_mask=keys)
        x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, layers.Dropout(cfg.dropout)(attended)]))
        fed = layers.Dense(cfg.ff_dim, activation=cfg.activation)(x)
        fed = layers.Dropout(cfg.dropout)(layers.Dense(cfg.d_model)(fed))
        x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, fed]))
    if cfg.pooling == "mean":
        x = layers.GlobalAveragePooling1D()(x, mask=steps)  # real steps only
    else:
        import warnings

        with warnings.catch_warnings():  # the crop keeps the latest step, which is always real
            warnings.filterwarnings("ignore", message=".*does not support masking.*")
            x = layers.Flatten()(layers.Cropping1D((spec.shape[0] - 1, 0))(x))
    outputs = dense_head(
        with_static(x, static), cfg.dense, activation=cfg.activation, dropout=cfg.dropout,
        n_classes=spec.n_classes,
    )  # fmt: skip
    return keras_model(inputs, static, outputs, cfg.name)
