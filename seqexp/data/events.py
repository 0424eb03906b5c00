"""``events``: an event log (one row per transaction) -> one sequence or aggregate vector per
customer, plus labels.

The steps, in order: read the log (exact duplicates counted); ``derive`` new per-event columns;
keep the events matching ``where`` (what it removes is counted); then, from the events strictly
BEFORE the reference date only, the last-N sequence (``seqexp.data.sequences``) and/or the
point-in-time aggregates (``seqexp.data.aggregates``). Labels come from a separate file (one per
customer) or from the log itself: with ``labels: {cutoff, horizon_days | until, where}`` the label
is 1 when the customer has a matching event in ``[cutoff, end)`` (cutoff included, end excluded;
``horizon_days: null`` runs to the end of the log). With ``next_category: {column, top_k, other}``
among those keys the label is multi-class: the category of the customer's first basket in that
window among the ``top_k`` categories most frequent before the cutoff (see ``NextCategory``).
Every customer left out (no label, no history, no next basket, filtered out) and every duplicate
row is counted in ``Dataset.report``, never dropped silently. With a saved ``schema`` (new data)
the run's derive, where, columns, levels and aggregate settings are used, never re-learned.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqexp.data.aggregates import build_aggregates, feature_names, learn_top_levels
from seqexp.data.dataset import Dataset
from seqexp.data.event_labels import (
    file_labels,
    learn_next_category,
    level_text,
    next_category_labels,
    window_labels,
    window_report,
)
from seqexp.data.events_config import EventsConfig, FileLabels, WindowLabels, moment, next_spec
from seqexp.data.expressions import condition, derive_columns
from seqexp.data.readers import (
    OTHER_CLASS,
    check_two_classes,
    learn_levels,
    numeric_values,
    parse_times,
    read_frame,
    require_columns,
    top_levels,
)
from seqexp.data.sequences import build_sequences
from seqexp.data.table import class_report
from seqexp.errors import DataError
from seqexp.lazy import lazy_module
from seqexp.registry import DATA_SOURCES

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # imported on first use: light commands never pay for it


def _timestamp(value: Any) -> np.datetime64:
    """A config date as the naive moment the parsed log's timestamps are compared with (the label
    window uses the same ``moment``: features end exactly where labels begin)."""
    return np.datetime64(moment(pd.Timestamp(value).to_pydatetime()), "s")


def _read_log(cfg: EventsConfig, report: dict[str, Any], notes: list[str]) -> pd.DataFrame:
    events = read_frame(
        cfg.path, what="data.path", sep=cfg.sep, header=cfg.header, column_names=cfg.column_names
    )
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


def _filtered(
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


def _numeric(events: pd.DataFrame, columns: dict[str, str], path: str) -> pd.DataFrame:
    """The columns as float64 (raw values; NaN kept for imputation); ``columns``: column -> key."""
    out = {c: numeric_values(events[c], where=key, column=c, path=path) for c, key in columns.items()}
    return events.assign(**out)


def _log1p(events: pd.DataFrame, columns: list[str], path: str) -> pd.DataFrame:
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


def _reference(cfg: EventsConfig, events: pd.DataFrame, schema: dict | None, labelled: bool) -> np.datetime64:
    """The date features are built as of: every event used lies strictly before it.

    An explicit ``reference_date`` (``--as-of``) wins. Labels from the log set it to their cutoff
    (features before, labels from then on), at training and for labelled new data alike. Scoring
    unlabelled customers of a saved run defaults to the day after the new log's last event, so a
    newer log is scored on all its history; the log's end is also the default at training.
    """
    if cfg.reference_date is not None:
        return _timestamp(cfg.reference_date)
    if isinstance(cfg.labels, WindowLabels) and (labelled or schema is None):
        return _timestamp(cfg.labels.cutoff)
    return _timestamp(events[cfg.time].max().normalize() + pd.Timedelta(days=1))


def _new_schema(cfg: EventsConfig, reference: np.datetime64) -> dict[str, Any]:
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


def _columns(schema: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The columns each config key names (checked to exist, after derive), key first."""
    keys = [("data.numeric", list(schema["numeric"])), ("data.categorical", list(schema["categorical"]))]
    spec = schema.get("aggregates")
    if spec:
        keys += [("data.aggregates.numeric", spec["numeric"]), ("data.aggregates.flags", spec["flags"]),
                 ("data.aggregates.categorical", list(spec["levels"]))]  # fmt: skip
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
    for key, columns in _columns(_new_schema(cfg, _timestamp(times.max()))):
        require_columns(sample, columns, where=key, path=cfg.path)
    if isinstance(cfg.labels, WindowLabels) and cfg.labels.where:
        condition(sample, cfg.labels.where, key="data.labels.where", path=cfg.path)
    return f"{len(sample)} sample rows of {Path(cfg.path).name} read: columns, time format, expressions ok"


@DATA_SOURCES.register(EventsConfig, tags=("file", "sequence"), check=check_events)
def build_events(
    cfg: EventsConfig, *, seed: int, schema: dict | None = None, labelled: bool = True
) -> Dataset:
    """Read the log, derive and filter, keep each customer's history before the reference date,
    build sequences and/or aggregates, and the labels."""
    if labelled and cfg.labels is None:
        raise DataError(
            "data.labels: required to train: {path: labels.csv, column: label} "
            "or {cutoff: 2014-06-01, horizon_days: 90}"
        )
    report: dict[str, Any] = {}
    notes: list[str] = []
    raw = _read_log(cfg, report, notes)
    derive = dict(cfg.derive) if schema is None else schema.get("derive", {})
    raw = _filtered(derive_columns(raw, derive, path=cfg.path),
                    cfg.where if schema is None else schema.get("where"), cfg, report, notes)  # fmt: skip
    reference = _reference(cfg, raw, schema, labelled)
    learning = schema is None
    if schema is None:
        schema = _new_schema(cfg, reference)
        if next_spec(cfg.labels) is not None:
            info = learn_next_category(raw, cfg)
            schema.update(classes=info.pop("classes"), next_category=info)
    numeric: dict[str, str] = {}  # column -> the config key that names it numeric
    for key, columns in _columns(schema):
        require_columns(raw, columns, where=key, path=cfg.path)
        numeric.update({c: numeric.get(c, key) for c in columns if not key.endswith("categorical")})
    events = _numeric(raw, numeric, cfg.path)
    report["events"] = len(events)
    report["reference_date"] = str(reference)
    if labelled and isinstance(cfg.labels, WindowLabels):
        window_report(raw, cfg, report, notes)

    before = events[cfg.time].to_numpy() < reference
    history = events[before]
    report["events_from_reference_date"] = int((~before).sum())
    all_customers = pd.unique(events[cfg.id])
    report["customers_in_log"] = len(all_customers)
    if history.empty:
        raise DataError(
            f"data: no event of {cfg.path} lies before the reference date {reference} "
            "(data.reference_date or data.labels.cutoff)"
        )
    lumped = schema.get("max_levels", {})
    if learning:
        schema["categorical"] = {
            c: sorted(top_levels(level_text(history[c]), lumped[c])) + [OTHER_CLASS]
            if c in lumped
            else learn_levels(history[c])
            for c in cfg.categorical
        }
        spec = schema.get("aggregates")
        if spec:
            spec["levels"] = {c: learn_top_levels(history[c], spec["top_k"]) for c in spec["levels"]}
            spec["names"] = feature_names(spec)
    seq, unseen = _sequences(history, cfg, schema, reference, lumped)
    agg = None
    if schema.get("aggregates"):
        agg = build_aggregates(history, id_col=cfg.id, time_col=cfg.time, reference=reference,
                               spec=schema["aggregates"])  # fmt: skip
        report["aggregate_features"] = len(agg.names)
        if seq is not None and not np.array_equal(seq.ids, agg.ids):
            raise AssertionError("sequence and aggregate builders ordered customers differently")
    ids = seq.ids if seq is not None else agg.ids  # type: ignore[union-attr]
    no_history = len(all_customers) - len(ids)
    report["customers_without_history"] = no_history
    if no_history:
        notes.append(f"{no_history} customer(s) without events before {reference} left out")

    keep = np.ones(len(ids), dtype=bool)
    classes = schema.get("classes")
    if labelled:
        if classes:
            if next_spec(cfg.labels) is None:
                raise DataError(
                    "data.labels: the run was trained on a next-category label; give labels with "
                    "next_category to score labelled data"
                )
            y = next_category_labels(raw, cfg, ids, schema, report, notes)
        elif next_spec(cfg.labels) is not None:
            raise DataError(
                "data.labels.next_category: the run's target is binary; remove next_category to score "
                "labelled data with it"
            )
        elif isinstance(cfg.labels, FileLabels):
            y = file_labels(cfg, ids, report, notes)
        else:
            y = window_labels(raw, cfg, ids)  # raw values: `where` reads amounts, not log1p
        keep = ~np.isnan(y)
        report["customers_without_label"] = int((~keep).sum())
        if not keep.all() and not classes:
            notes.append(f"{int((~keep).sum())} customer(s) with events but no label left out")
        y = y[keep].astype(np.int64)
        if classes:
            if len(np.unique(y)) < 2:
                raise DataError(
                    f"data.labels: {len(y)} customer(s) with a next basket, all in one class; a classifier "
                    "needs at least two (check data.labels.cutoff and horizon_days)"
                )
            report.update(class_report(y, len(classes)))
        else:
            where = cfg.labels.path if isinstance(cfg.labels, FileLabels) else cfg.path
            check_two_classes(y, column="data.labels", path=where)
            report["positive_rate"] = round(float(y.mean()), 4)
    else:
        y = np.full(len(ids), -1, dtype=np.int64)

    X, names, mask, groups, static, static_names = _assemble(seq, agg, schema["output"])
    X, mask, ids = X[keep], None if mask is None else mask[keep], ids[keep]
    static = None if static is None else static[keep]
    report["customers"] = len(ids)
    if seq is not None and schema["output"] != "aggregates":
        _truncation(seq.events_per_customer[keep], schema, report, notes)
    report["unseen_levels"] = unseen
    if unseen:
        notes.append(f"category levels not seen in training (encoded as all zeros): {unseen}")
    report["notes"] = notes
    return Dataset(X=X, y=y, ids=ids, feature_names=names, mask=mask, onehot_groups=groups, report=report,
                   schema=schema, static=static, static_names=static_names)  # fmt: skip


def _sequences(
    history: pd.DataFrame, cfg: EventsConfig, schema: dict[str, Any], reference: np.datetime64, lumped: dict
) -> tuple[Any, dict[str, int]]:
    """The last-N sequences (None for aggregates alone, unless an older run's schema asks for its
    aggregates, which the sequence builder made), and the unseen category levels."""
    legacy = schema["output"] != "sequence" and "aggregates" not in schema  # a run saved before them
    if schema["output"] == "aggregates" and not legacy:
        return None, {}
    levels = schema["categorical"]
    encoded = _log1p(history, schema["log1p"], cfg.path)
    encoded = encoded.assign(**{c: level_text(encoded[c]) for c in levels})
    for c in lumped:  # values outside the N most frequent are one level, not unseen
        encoded[c] = encoded[c].where(encoded[c].isin(levels[c]), OTHER_CLASS)
    unseen = {c: int((~encoded[c].isin(lv)).sum()) for c, lv in levels.items()}
    seq = build_sequences(
        encoded,
        id_col=cfg.id,
        time_col=cfg.time,
        length=schema["sequence_length"],
        numeric=schema["numeric"],
        categorical=levels,
        derived=schema["derived"],
        reference=reference,
        log_days=schema["log_days"],
        aggregates=legacy,
    )
    return seq, {c: n for c, n in unseen.items() if n}


def _truncation(
    per_customer: np.ndarray, schema: dict[str, Any], report: dict[str, Any], notes: list[str]
) -> None:
    length = schema["sequence_length"]
    report["customers_shorter_than_sequence"] = int((per_customer < length).sum())
    excess = np.maximum(per_customer - length, 0)
    report["customers_truncated"] = int((excess > 0).sum())
    report["events_truncated"] = int(excess.sum())
    if excess.any():
        notes.append(
            f"{report['customers_truncated']} customer(s) have more than {length} events (at most "
            f"{int(per_customer.max())}): only their last {length} are in the sequence, "
            f"{report['events_truncated']} older event(s) left out"
            + ("" if schema["output"] == "sequence" else " (the aggregates count every event)")
        )


def _assemble(
    seq: Any, agg: Any, output: str
) -> tuple[np.ndarray, list[str], np.ndarray | None, list[list[int]], np.ndarray | None, list[str]]:
    if output == "sequence":
        return seq.X, seq.feature_names, seq.mask, seq.onehot_groups, None, []
    values, names = (agg.X, agg.names) if agg is not None else (seq.aggregates, seq.aggregate_names)
    if output == "aggregates":
        return values, names, None, [], None, []
    # The aggregate vector beside the sequence, as a static block (a second input), not on every step.
    return seq.X, seq.feature_names, seq.mask, seq.onehot_groups, np.asarray(values, np.float32), list(names)
