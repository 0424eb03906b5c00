"""What ``seqexp validate`` (and ``train``, before it makes a run folder) checks beyond the schema:
the data a config names, on a sample of it, and whether the model can read that kind of data."""

from __future__ import annotations

from seqexp.config.experiment import ExperimentConfig
from seqexp.errors import UserError
from seqexp.registry import DATA_SOURCES, MODELS


def check_data(cfg: ExperimentConfig) -> str | None:
    """Raise a ``UserError`` naming the key or column for a problem found on a sample of the data;
    return what was checked (None for sources that read no file)."""
    _check_model_reads_the_data(cfg)
    check = DATA_SOURCES.get(cfg.data.name).extras.get("check")
    return check(cfg.data) if check is not None else None


def _check_model_reads_the_data(cfg: ExperimentConfig) -> None:
    """A sequence-only model on one row per customer, and the sequence-only autoencoder on a sequence
    beside a static vector, are refused before any data is read."""
    source, model = DATA_SOURCES.get(cfg.data.name), MODELS.get(cfg.model.name)
    output = getattr(cfg.data, "output", "sequence")
    if output == "sequence_and_aggregates" and "anomaly" in model.tags:
        from seqexp.models.autoencoder import STATIC_REFUSAL

        raise UserError(STATIC_REFUSAL)
    graph = getattr(cfg.data, "graph", None)
    if "graph" in model.tags and (graph is None or not graph.hops or output != "aggregates"):
        raise UserError(
            f"model.name: {cfg.model.name} reads the graph's propagated features; give the events source "
            "data.output: aggregates and data.graph: {item: <column>, hops: 2}"
        )
    one_row = "table" in source.tags or output == "aggregates"
    if one_row and "table" not in model.tags:
        readers = ", ".join(e.name for e in MODELS if "table" in e.tags)
        if "table" in source.tags:
            what, other = "a table", ""
        else:
            what, other = "data.output: aggregates (one row per customer)", ", or data.output: sequence"
        raise UserError(
            f"model.name: {cfg.model.name} reads sequences of events, and {what} has none; use one of "
            f"{readers}{other}"
        )
