"""A graph neural network over the customer-item graph, in the SIGN style: message passing is
precomputed (``data.graph.hops``: hop k is the mean over the customer's items of hop k-1 of the
training customers who bought them, ``seqexp.pipeline.graph_features``), so the network is dense
and trains in mini-batches of customers like any table model, however large the graph.

One branch per block of the per-customer features: the customer's own (aggregates and, with
``data.graph.dims``, its graph embedding), then each hop; each branch is a dense layer, the branches
are concatenated, then the head. A customer at predict time needs only its own edges: its hops are
read from the item matrices saved at training."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from seqexp.config.section import Section
from seqexp.errors import UserError
from seqexp.models.base import InputSpec
from seqexp.models.blocks import Activation, dense_head
from seqexp.models.keras_family import keras_architecture


class GNNConfig(Section):
    """Graph network: one dense branch per hop of the graph's propagated features, then a head."""

    name: Literal["gnn"] = "gnn"
    branch_units: int = Field(32, ge=1, le=4096, description="Units of each branch (own features, each hop).")
    hidden: list[int] = Field([64], description="Units of the dense layers after the branches are joined.")
    activation: Activation = Field("relu", description="Activation of the branches and hidden layers.")
    dropout_rate: float = Field(0.2, ge=0, lt=1, description="Dropout after each branch and hidden layer.")
    l2_strength: float = Field(1e-4, ge=0, le=1, description="L2 penalty on every dense layer's weights.")


def branch_bounds(spec: InputSpec) -> list[tuple[int, int]]:
    """``[start, stop)`` of each branch's columns: the own block, then one per hop."""
    if spec.is_sequence or spec.static:
        raise UserError(
            "model.name: gnn reads one row per customer; set data.output: aggregates (with data.graph)"
        )
    if not spec.blocks:
        raise UserError(
            "model.name: gnn needs the graph's propagated features; set data.graph.hops (1 to 3) on an "
            "events source with data.graph.item"
        )
    width = int(spec.shape[0])
    own = width - sum(spec.blocks)
    if own < 0:
        raise UserError(f"model.name: gnn: {sum(spec.blocks)} hop features in a row of {width}")
    stops = [own]
    for block in spec.blocks:
        stops.append(stops[-1] + block)
    return [(start, stop) for start, stop in zip([0, *stops[:-1]], stops, strict=True) if stop > start]


@keras_architecture(GNNConfig, tags=("table", "graph"))
def build_gnn(cfg: GNNConfig, spec: InputSpec) -> Any:
    import keras
    from keras import layers, regularizers

    from seqexp.models.layers import Columns

    bounds = branch_bounds(spec)
    inputs = keras.Input(shape=spec.shape, name="features")
    regularizer = regularizers.L2(cfg.l2_strength) if cfg.l2_strength else None
    branches = []
    for index, (start, stop) in enumerate(bounds):
        name = "own" if index == 0 else f"hop{index}"
        x = Columns(start, stop, name=f"{name}_columns")(inputs)
        x = layers.Dense(cfg.branch_units, activation=cfg.activation, kernel_regularizer=regularizer,
                         name=f"{name}_branch")(x)  # fmt: skip
        branches.append(layers.Dropout(cfg.dropout_rate)(x) if cfg.dropout_rate else x)
    joined = branches[0] if len(branches) == 1 else layers.Concatenate(name="hops")(branches)
    outputs = dense_head(joined, list(cfg.hidden), activation=cfg.activation, dropout=cfg.dropout_rate,
                         l2=cfg.l2_strength, n_classes=spec.n_classes)  # fmt: skip
    return keras.Model(inputs, outputs, name=cfg.name)
