"""Reading an event log as every build of the ``events`` source does: read (exact duplicates
counted), derive columns, keep the events matching ``where`` (what it removes counted), make the named
columns numeric; the schema a training build learns; and the sample check ``seqexp validate`` runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqexp.data.events_config import EventsConfig, WindowLabels, moment
from seqexp.data.expressions import condition, derive_columns
from seqexp.data.graph import graph_columns, graph_schema
from seqexp.data.readers import numeric_values, parse_times, read_frame, require_columns
from seqexp.errors import DataError
from seqexp.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # imported on first use: light commands never pay for it


def timestamp(value: Any) -> np.datetime64:
    """A config date as the naive moment the parsed log's timestamps are compared with (the label
    window uses the same ``moment``: features end exactly where labels begin)."""
    return np.datetime64(moment(pd.Timestamp(value).to_pydatetime()), "s")


def read_log(cfg: EventsConfig, report: dict[str, Any], notes: list[str]) -> pd.DataFrame:
    events = read_frame(
        cfg.path, what="data.path", sep=cfg.sep, header=cfg.header, column_names=cfg.column_names
    )
    return clean_log(events, cfg, report, notes)


def clean_log(
    events: pd.DataFrame, cfg: EventsConfig, report: dict[str, Any], notes: list[str]
) -> pd.DataFrame:
    """Events as read: exact duplicates counted (and dropped unless ``duplicates: keep``), ids present,
    timestamps parsed strictly."""
    require_columns(events, [cfg.id, cfg.time], where="data", path=cfg.path)
    duplicated = events.duplicated()
    report["duplicate_rows"] = int(duplicated.sum())
    report["customers_with_duplicate_rows"] = int(events.loc[duplicated, cfg.id].nunique())
    if duplicated.any():
        action = "dropped" if cfg.duplicates == "drop" else "kept (data.duplicates: keep)"
        notes.append(
            f"{report['duplicate_rows']} exact duplicate row(s) in {report['customers_with_duplicate_rows']} "
            f"customer(s) {action}"
        )
        if cfg.duplicates == "drop":
            events = events[~duplicated]
    if events[cfg.id].isna().any():
        raise DataError(f"data.id: column '{cfg.id}' has {int(events[cfg.id].isna().sum())} empty id(s)")
    times = parse_times(events[cfg.time], cfg.time_format, column=f"data.time '{cfg.time}'", path=cfg.path)
    return events.assign(**{cfg.time: times})  # the index keeps each row's place in the file, for messages


def filtered(
    events: pd.DataFrame, where: str | None, cfg: EventsConfig, report: dict[str, Any], notes: list[str]
) -> pd.DataFrame:
    """The events matching ``data.where``; the events and customers it removes are counted."""
    if not where:
        return events
    keep = condition(events, where, key="data.where", path=cfg.path)
    customers = events[cfg.id].nunique()
    kept = events[keep]
    report["where"] = where
    report["events_removed_by_where"] = int((~keep).sum())
    report["customers_removed_by_where"] = int(customers - kept[cfg.id].nunique())
    if kept.empty:
        raise DataError(f"data.where: {where!r} keeps none of the {len(events)} events of {cfg.path}")
    notes.append(
        f"data.where {where!r} removed {report['events_removed_by_where']} of {len(events)} event(s); "
        f"{report['customers_removed_by_where']} customer(s) had no event left and are left out"
    )
    return kept


def numeric_columns(events: pd.DataFrame, columns: dict[str, str], path: str) -> pd.DataFrame:
    """The columns as float64 (raw values; NaN kept for imputation); ``columns``: column -> key."""
    out = {c: numeric_values(events[c], where=key, column=c, path=path) for c, key in columns.items()}
    return events.assign(**out)


def log1p_columns(events: pd.DataFrame, columns: list[str], path: str) -> pd.DataFrame:
    """``log(1 + x)`` of the named columns, for the sequence's steps (aggregates read raw values)."""
    out = {}
    for column in columns:
        values = events[column]
        if (values < 0).any():
            raise DataError(
                f"data.log1p: column '{column}' of {Path(path).name} has {int((values < 0).sum())} "
                "negative value(s); log(1 + x) needs x >= 0"
            )
        out[column] = np.log1p(values)
    return events.assign(**out)


def reference_date(
    cfg: EventsConfig, events: pd.DataFrame, schema: dict | None, labelled: bool
) -> np.datetime64:
    """The date features are built as of: every event used lies strictly before it.

    An explicit ``reference_date`` (``--as-of``) wins. With snapshots it is the last cutoff (each
    example has its own cutoff as well). Labels from the log set it to their cutoff
    (features before, labels from then on), at training and for labelled new data alike. Scoring
    unlabelled customers of a saved run defaults to the day after the new log's last event, so a
    newer log is scored on all its history; the log's end is also the default at training.
    """
    if cfg.reference_date is not None:
        return timestamp(cfg.reference_date)
    if cfg.snapshots is not None and labelled:  # the last snapshot: every feature lies before it
        return timestamp(cfg.snapshots.dates()[-1])
    if (
        isinstance(cfg.labels, WindowLabels)
        and cfg.labels.cutoff is not None
        and (labelled or schema is None)
    ):
        return timestamp(cfg.labels.cutoff)
    return timestamp(events[cfg.time].max().normalize() + pd.Timedelta(days=1))


def new_schema(cfg: EventsConfig, reference: np.datetime64) -> dict[str, Any]:
    """What this build learns and every later build of new data reuses (levels are added later,
    from the history)."""
    schema: dict[str, Any] = {
        "source": "events",
        "id": cfg.id,
        "time": cfg.time,
        "time_format": cfg.time_format,
        "where": cfg.where,
        "derive": dict(cfg.derive),
        "numeric": list(cfg.numeric),
        "log1p": list(cfg.log1p),
        "categorical": {c: [] for c in cfg.categorical},  # levels learned from the history only
        "sequence_length": cfg.sequence_length,
        "derived": list(cfg.derived),
        "log_days": cfg.log_days,
        "reference_date": str(reference),
        "output": cfg.output,
        "impute": cfg.impute,
    }
    if cfg.max_levels:
        schema["max_levels"] = dict(cfg.max_levels)
    if cfg.graph is not None:
        schema["graph"] = graph_schema(cfg.graph)
    if cfg.output != "sequence":
        options = cfg.aggregates
        numeric = options.numeric
        schema["aggregates"] = {
            "numeric": list(dict.fromkeys([*cfg.numeric, *cfg.derive])) if numeric is None else list(numeric),
            "stats": list(options.stats),
            "windows_days": list(options.windows_days),
            "flags": list(options.flags),
            "levels": {
                c: [] for c in (cfg.categorical if options.categorical is None else options.categorical)
            },
            "top_k": options.top_k,
            "gaps": options.gaps,
            "trend": options.trend,
            "log1p": options.log1p,
        }
    return schema


def schema_columns(schema: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The columns each config key names (checked to exist, after derive), key first."""
    keys = [("data.numeric", list(schema["numeric"])), ("data.categorical", list(schema["categorical"]))]
    spec = schema.get("aggregates")
    if spec:
        keys += [("data.aggregates.numeric", spec["numeric"]), ("data.aggregates.flags", spec["flags"]),
                 ("data.aggregates.categorical", list(spec["levels"]))]  # fmt: skip
    if schema.get("graph"):
        keys += graph_columns(schema["graph"])
    return keys


SAMPLE_ROWS = 2000  # what ``seqexp validate`` reads of a log


def check_events(cfg: EventsConfig) -> str:
    """A sample of the log, read as training would: the file, the columns every key names, the time
    format, and ``derive``/``where``/``labels.where`` evaluated on it. Raises a ``DataError``."""
    sample = read_frame(
        cfg.path, what="data.path", sep=cfg.sep, header=cfg.header, column_names=cfg.column_names,
        nrows=SAMPLE_ROWS,
    )  # fmt: skip
    require_columns(sample, [cfg.id, cfg.time], where="data", path=cfg.path)
    times = parse_times(sample[cfg.time], cfg.time_format, column=f"data.time '{cfg.time}'", path=cfg.path)
    sample = derive_columns(sample.assign(**{cfg.time: times}), dict(cfg.derive), path=cfg.path)
    if cfg.where:
        condition(sample, cfg.where, key="data.where", path=cfg.path)
    for key, columns in schema_columns(new_schema(cfg, timestamp(times.max()))):
        require_columns(sample, columns, where=key, path=cfg.path)
    if isinstance(cfg.labels, WindowLabels) and cfg.labels.where:
        condition(sample, cfg.labels.where, key="data.labels.where", path=cfg.path)
    return f"{len(sample)} sample rows of {Path(cfg.path).name} read: columns, time format, expressions ok"
