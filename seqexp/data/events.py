"""``events``: an event log (one row per transaction) -> one sequence per customer, plus labels.

Labels come from a separate file (one per customer) or from the log itself: with
``labels: {cutoff, horizon_days, where}`` only events strictly BEFORE the cutoff build the
sequence, and the label is 1 when the customer has a matching event in ``[cutoff, cutoff +
horizon_days)`` (cutoff included, end excluded). With ``next_category: {column, top_k, other}``
among those keys the label is multi-class: the category of the customer's first basket in that
window among the ``top_k`` categories most frequent before the cutoff (see ``NextCategory``).
Every customer left out (no label, no history, no next basket) and every duplicate row is counted
in ``Dataset.report``, never dropped silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqexp.data.dataset import Dataset
from seqexp.data.event_labels import (
    file_labels,
    learn_next_category,
    level_text,
    next_category_labels,
    window_labels,
)
from seqexp.data.events_config import EventsConfig, FileLabels, WindowLabels, next_spec
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
    return np.datetime64(pd.Timestamp(value).to_datetime64(), "s")


def _read_log(
    cfg: EventsConfig, columns: list[str], report: dict[str, Any], notes: list[str]
) -> pd.DataFrame:
    events = read_frame(
        cfg.path, what="data.path", sep=cfg.sep, header=cfg.header, column_names=cfg.column_names
    )
    require_columns(events, [cfg.id, cfg.time, *columns], where="data", path=cfg.path)
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


def _numeric(events: pd.DataFrame, columns: list[str], log1p: list[str], path: str) -> pd.DataFrame:
    out = {}
    for column in columns:
        values = numeric_values(events[column], where="data.numeric", column=column, path=path)
        if column in log1p:
            if (values < 0).any():
                raise DataError(
                    f"data.log1p: column '{column}' of {Path(path).name} has {int((values < 0).sum())} "
                    "negative value(s); log(1 + x) needs x >= 0"
                )
            values = np.log1p(values)
        out[column] = values.astype(np.float64)
    return events.assign(**out)


def _reference(cfg: EventsConfig, events: pd.DataFrame, schema: dict | None) -> np.datetime64:
    if schema is not None:
        return np.datetime64(schema["reference_date"], "s")
    if cfg.reference_date is not None:
        return _timestamp(cfg.reference_date)
    if isinstance(cfg.labels, WindowLabels):
        return _timestamp(cfg.labels.cutoff)
    return _timestamp(events[cfg.time].max().normalize() + pd.Timedelta(days=1))


@DATA_SOURCES.register(EventsConfig, tags=("file", "sequence"))
def build_events(
    cfg: EventsConfig, *, seed: int, schema: dict | None = None, labelled: bool = True
) -> Dataset:
    """Read the log, keep each customer's history before the reference date, build sequences."""
    if labelled and cfg.labels is None:
        raise DataError(
            "data.labels: required to train: {path: labels.csv, column: label} "
            "or {cutoff: 2014-06-01, horizon_days: 90}"
        )
    report: dict[str, Any] = {}
    notes: list[str] = []
    raw = _read_log(cfg, [*cfg.numeric, *cfg.categorical], report, notes)
    reference = _reference(cfg, raw, schema)
    learning = schema is None
    if schema is None:
        schema = {
            "source": "events",
            "id": cfg.id,
            "time": cfg.time,
            "time_format": cfg.time_format,
            "numeric": list(cfg.numeric),
            "log1p": list(cfg.log1p),
            "categorical": {},  # levels learned below, from the history only
            "sequence_length": cfg.sequence_length,
            "derived": list(cfg.derived),
            "log_days": cfg.log_days,
            "reference_date": str(reference),
            "output": cfg.output,
            "impute": cfg.impute,
        }
        if cfg.max_levels:
            schema["max_levels"] = dict(cfg.max_levels)
        if next_spec(cfg.labels) is not None:
            info = learn_next_category(raw, cfg)
            schema.update(classes=info.pop("classes"), next_category=info)
    else:
        require_columns(raw, [*schema["numeric"], *schema["categorical"]], where="data", path=cfg.path)
    events = _numeric(raw, schema["numeric"], schema["log1p"], cfg.path)
    report["events"] = len(events)
    report["reference_date"] = str(reference)

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
    levels = schema["categorical"]
    encoded = history.assign(**{c: level_text(history[c]) for c in levels})
    for c in lumped:  # values outside the N most frequent are one level, not unseen
        encoded[c] = encoded[c].where(encoded[c].isin(levels[c]), OTHER_CLASS)
    unseen = {c: int((~encoded[c].isin(lv)).sum()) for c, lv in levels.items()}
    unseen = {c: n for c, n in unseen.items() if n}
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
        aggregates=schema["output"] != "sequence",
    )
    no_history = len(all_customers) - len(seq.ids)
    report["customers_without_history"] = no_history
    if no_history:
        notes.append(f"{no_history} customer(s) without events before {reference} left out")

    keep = np.ones(len(seq.ids), dtype=bool)
    classes = schema.get("classes")
    if labelled:
        if classes:
            if next_spec(cfg.labels) is None:
                raise DataError(
                    "data.labels: the run was trained on a next-category label; give labels with "
                    "next_category to score labelled data"
                )
            y = next_category_labels(raw, cfg, seq.ids, schema, report, notes)
        elif next_spec(cfg.labels) is not None:
            raise DataError(
                "data.labels.next_category: the run's target is binary; remove next_category to score "
                "labelled data with it"
            )
        elif isinstance(cfg.labels, FileLabels):
            y = file_labels(cfg, seq.ids, report, notes)
        else:
            y = window_labels(raw, cfg, seq.ids)  # raw values: `where` reads amounts, not log1p
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
        y = np.full(len(seq.ids), -1, dtype=np.int64)

    X, names, mask, groups = _assemble(seq, schema["output"])
    X, mask, ids = X[keep], None if mask is None else mask[keep], seq.ids[keep]
    report["customers"] = len(ids)
    length = schema["sequence_length"]
    report["customers_shorter_than_sequence"] = int((seq.events_per_customer[keep] < length).sum())
    excess = np.maximum(seq.events_per_customer[keep] - length, 0)
    report["customers_truncated"] = int((excess > 0).sum())
    report["events_truncated"] = int(excess.sum())
    if excess.any():
        notes.append(
            f"{report['customers_truncated']} customer(s) have more than {length} events (at most "
            f"{int(seq.events_per_customer[keep].max())}): only their last {length} are in the sequence, "
            f"{report['events_truncated']} older event(s) left out"
            + ("" if schema["output"] == "sequence" else " (the aggregates count every event)")
        )
    report["unseen_levels"] = unseen
    if unseen:
        notes.append(f"category levels not seen in training (encoded as all zeros): {unseen}")
    report["notes"] = notes
    return Dataset(X=X, y=y, ids=ids, feature_names=names, mask=mask, onehot_groups=groups, report=report,
                   schema=schema)  # fmt: skip


def _assemble(seq: Any, output: str) -> tuple[np.ndarray, list[str], np.ndarray | None, list[list[int]]]:
    if output == "sequence":
        return seq.X, seq.feature_names, seq.mask, seq.onehot_groups
    if output == "aggregates":
        return seq.aggregates, seq.aggregate_names, None, []
    # Aggregates repeated on every real step (padding stays zero), so any sequence model sees them.
    repeated = np.where(seq.mask[..., None], seq.aggregates[:, None, :], 0.0).astype(np.float32)
    X = np.concatenate([seq.X, repeated], axis=-1)
    return X, seq.feature_names + seq.aggregate_names, seq.mask, seq.onehot_groups
