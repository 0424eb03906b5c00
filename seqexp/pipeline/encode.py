"""New data encoded exactly the way a saved run's training data was encoded.

New data comes from a data config (YAML: a whole experiment config with a ``data`` section, or just
the data section) or from a data file: the run's own data section with its ``path`` replaced. Either
way it goes through the source registry's builder contract
``build(cfg, *, seed, schema=run's data_schema.json, labelled=...)``, so any source works.

A run on synthetic data reads files through the events section equivalent to its source
(``file_section``): the generated log goes through the events builder at training too.

Runs saved before the static block existed were trained on ``sequence_and_aggregates`` with the
aggregates repeated on every real step; ``as_trained`` rebuilds that layout for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np

from seqexp.config.experiment import Component
from seqexp.data.dataset import Dataset
from seqexp.data.inputs import ModelInput
from seqexp.errors import DataError, UserError
from seqexp.runfolder.reader import SavedRun

CONFIG_SUFFIXES = (".yaml", ".yml")


def data_config_for(
    run: SavedRun, source: Path, as_of: str | None = None, *, labelled: bool = False
) -> Component:
    """The data section that reads ``source``: a YAML data config, or a data file put in place of
    the path of the run's own data section (``file_section``); ``as_of`` (a date) sets the reference
    date features are built before (and, for labels from the log, the cutoff the label window starts
    at). ``labelled``: the data must bring labels (evaluate); a file to score needs none, so a run
    whose labels came from a separate file scores a bare log."""
    return with_as_of(_data_config(run, source, labelled), as_of)


def with_as_of(data_cfg: Component, as_of: str | None, option: str = "--as-of") -> Component:
    """The data section with ``reference_date`` set to ``as_of`` (``option`` names where it came from)."""
    if as_of is None:
        return data_cfg
    if "reference_date" not in type(data_cfg).model_fields:
        raise UserError(f"{option}: the run's data source '{data_cfg.name}' has no dates; leave {option} out")
    values = data_cfg.model_dump(mode="json", by_alias=True)
    values["reference_date"] = as_of
    labels = values.get("labels")
    if isinstance(labels, dict) and "cutoff" in labels:
        labels["cutoff"] = as_of
    if values.get("snapshots") is not None:  # one date given: one snapshot at it, labelled from it on
        values["snapshots"] = None
    try:
        return type(data_cfg).model_validate(values)
    except Exception as exc:  # pydantic ValidationError: name the option
        first = [line for line in str(exc).splitlines() if "errors.pydantic.dev" not in line]
        raise UserError(
            f"{option}: {as_of!r} is not a date such as 2001-03-01 ({first[-1].strip()})"
        ) from None


def _data_config(run: SavedRun, source: Path, labelled: bool) -> Component:
    from seqexp.config.loading import validate_config
    from seqexp.config.yaml_io import read_yaml

    source = Path(source)
    if not source.exists():
        raise UserError(f"{source}: no such file")
    if source.suffix.lower() in CONFIG_SUFFIXES:
        raw = read_yaml(source)
        if not isinstance(raw, dict):
            raise UserError(f"{source}: expected a config with a 'data' section (or a data section)")
        section = raw.get("data", raw if "name" in raw else None)
        if not isinstance(section, dict):
            raise UserError(f"{source}: no 'data' section; write data: {{name: ..., ...}}")
        whole = run.cfg.model_dump(mode="json", by_alias=True)
        whole["data"] = section
        return validate_config(whole, source=str(source), config_dir=source.parent).data
    data_cfg = file_section(run)
    if "path" not in type(data_cfg).model_fields:
        raise UserError(
            f"{source}: the run's data source '{data_cfg.name}' does not read files; give a data "
            f"config YAML instead (data: {{name: ..., ...}})"
        )
    values = {**data_cfg.model_dump(mode="json", by_alias=True), "path": str(source.resolve())}
    labels = getattr(data_cfg, "labels", None)
    if labels is not None and getattr(labels, "path", None):
        if labelled:
            raise UserError(
                f"{source}: the run's labels come from a separate file; give a data config YAML naming "
                "both the data and its labels (seqexp generate writes one beside its files: data.yaml)"
            )
        values["labels"] = None  # customers to score: the label file of training has nothing to say
    try:
        return type(data_cfg).model_validate(values)
    except Exception as exc:  # pydantic ValidationError: a short first line is enough here
        raise UserError(f"{source}: cannot be read as '{data_cfg.name}' data ({exc})") from None


def file_section(run: SavedRun) -> Component:
    """The data section that reads files as the run's training data was read: the run's own, or for
    a source that generates an event log (extra ``events``), the events section that reads that
    log's files (``seqexp generate`` writes them), so a synthetic run scores them like real logs."""
    from seqexp.data.generated_log import events_section, is_events_schema
    from seqexp.registry import DATA_SOURCES

    data_cfg = run.cfg.data
    as_events = DATA_SOURCES.get(data_cfg.name).extras.get("events")
    if "path" in type(data_cfg).model_fields or as_events is None:
        return data_cfg
    if not is_events_schema(run.schema):
        raise UserError(
            f"{run.folder}: the run was saved when '{data_cfg.name}' did not encode its data as an event "
            "log, so it scores no file of events; give a data config YAML, or train the run again"
        )
    return cast(Component, events_section(as_events(data_cfg)))  # a data section like any other


def build_input(run: SavedRun, data_cfg: Component, *, labelled: bool) -> Dataset:
    """Build data with the source's builder and the run's schema; check it fits the model."""
    from seqexp.registry import DATA_SOURCES

    data = DATA_SOURCES.get(data_cfg.name).builder(
        data_cfg, seed=run.cfg.seed, schema=run.schema or None, labelled=labelled
    )
    data = as_trained(run, data)
    check_shape(run, data)
    return data


def frame_encoder(run: SavedRun) -> Any:
    """The encoder of in-memory rows, ``(cfg, frame, *, schema, labelled)``, of the source that reads
    the run's files (``file_section``); a ``UserError`` for sources that generate data that is not
    an event log (nothing to send them)."""
    from seqexp.registry import DATA_SOURCES

    name = file_section(run).name
    encoder = DATA_SOURCES.get(name).extras.get("frame")
    if encoder is None:
        readers = ", ".join(e.name for e in DATA_SOURCES if "frame" in e.extras)
        raise UserError(
            f"{run.folder}: the run's data source '{name}' builds its own data, so there are no raw "
            f"columns to send it; serve or export a run trained on {readers} data"
        )
    return encoder


def encode_frame(
    run: SavedRun, frame: Any, *, as_of: str | None = None, where: str = "request", option: str = "as_of"
) -> Dataset:
    """Rows (a table's) or events (a log's) already in a DataFrame, encoded with the run's schema
    exactly as ``seqexp predict`` encodes a file of them (``as_of`` as ``--as-of``); ``where`` names
    them in messages."""
    cfg = with_as_of(file_section(run), as_of, option)
    if "path" in type(cfg).model_fields:
        cfg = cfg.model_copy(update={"path": where})  # messages say where the rows came from
    data = as_trained(run, frame_encoder(run)(cfg, frame, schema=run.schema or None, labelled=False))
    check_shape(run, data)
    return data


def as_trained(run: SavedRun, data: Dataset) -> Dataset:
    """``data`` in the layout the run was trained on: with the graph's columns (``data.graph``) from
    its own edges and the factors saved at training; a run whose scaling has no static block but
    data that has one is a run saved before the static input, trained with the static vector
    repeated on every real step of the sequence (padded steps zero) after the step features. A
    synthetic run saved before its source went through the events builder gets its own feature names
    back (the source's extra ``saved``; the numbers are the same)."""
    from seqexp.registry import DATA_SOURCES

    saved = DATA_SOURCES.get(run.cfg.data.name).extras.get("saved")
    if saved is not None:
        data = saved(data, run.schema or None)
    data = with_graph(run, data)
    if data.static is None or run.scaler.static is not None:
        return data
    from dataclasses import replace

    real = np.ones(data.X.shape[:2], dtype=bool) if data.mask is None else data.mask
    repeated = np.where(real[..., None], data.static[:, None, :], 0.0).astype(np.float32)
    names = [*data.feature_names, *data.static_names]
    X = np.concatenate([data.X, repeated], axis=-1)
    return replace(data, X=X, feature_names=names, static=None, static_names=[])


def with_graph(run: SavedRun, data: Dataset) -> Dataset:
    """The graph's columns appended (read from the run's graph.npz, never refitted), when it has one."""
    if data.edges is None:
        return data
    from seqexp.pipeline.graph_features import GraphFeatures, graph_file

    return GraphFeatures.load(graph_file(run.folder, run.record)).apply(data)


def _same_names(expected: list[str], got: list[str], what: str) -> None:
    if list(got) != list(expected):
        missing = [name for name in expected if name not in got]
        extra = [name for name in got if name not in expected]
        parts = [f"missing {', '.join(missing[:8])}" if missing else "",
                 f"unexpected {', '.join(extra[:8])}" if extra else ""]  # fmt: skip
        detail = "; ".join(p for p in parts if p) or "columns in a different order"
        raise DataError(f"the data does not have the {what} the model was trained on ({detail})")


def check_shape(run: SavedRun, data: Dataset) -> None:
    _same_names(run.scaler.feature_names, data.feature_names, "features")
    trained = run.scaler.static
    if trained is not None and data.static is None:
        raise DataError(
            "the model was trained on a sequence beside a static vector (data.output: "
            "sequence_and_aggregates); the data has no static vector"
        )
    if trained is not None:
        _same_names(trained.feature_names, data.static_names, "static features")
    shape = run.record.get("input_shape")
    if shape is not None and list(data.X.shape[1:]) != list(shape):
        raise DataError(
            f"the data has shape {list(data.X.shape[1:])} per customer, the model expects {shape} "
            "(same sequence length and features as in training)"
        )
    if len(data.y) == 0:
        raise DataError("the data holds no customers")


def unseen_levels(data: Dataset) -> dict[str, int]:
    """Per categorical column, how many values were outside the levels seen in training.

    Sources encode such a value as an all-zero one-hot block (never an error); here those blocks
    are counted on real (unmasked) steps, plus whatever the source itself reported.
    """
    counts: dict[str, int] = {}
    for group in data.onehot_groups:
        block = data.X[..., group].sum(axis=-1) == 0
        if data.mask is not None:
            block &= data.mask
        n = int(block.sum())
        if n:
            counts[data.feature_names[group[0]].split("=", 1)[0]] = n
    for column, n in (data.report.get("unseen_levels") or {}).items():
        counts[column] = max(counts.get(column, 0), int(n))
    return counts


def scaled(run: SavedRun, data: Dataset) -> ModelInput:
    """What the run's model reads for ``data`` (in the run's layout), with the run's saved scaling."""
    return run.scaler.inputs(data)
