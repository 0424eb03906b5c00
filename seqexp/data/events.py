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

from collections.abc import Callable
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
from seqexp.data.event_log import (
    check_events,
    clean_log,
    filtered,
    log1p_columns,
    new_schema,
    numeric_columns,
    read_log,
    reference_date,
    schema_columns,
    timestamp,
)
from seqexp.data.events_config import EventsConfig, FileLabels, WindowLabels, next_spec
from seqexp.data.expressions import condition, derive_columns
from seqexp.data.graph import example_edges, graph_note, learn_items, stack_rows
from seqexp.data.readers import OTHER_CLASS, check_two_classes, learn_levels, require_columns, top_levels
from seqexp.data.sequences import build_sequences
from seqexp.data.split import horizon_of
from seqexp.data.table import class_report
from seqexp.errors import DataError
from seqexp.lazy import lazy_module
from seqexp.registry import DATA_SOURCES

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # imported on first use: light commands never pay for it


def events_from_frame(
    cfg: EventsConfig,
    frame: pd.DataFrame,
    *,
    schema: dict | None = None,
    labelled: bool = True,
    labels: pd.DataFrame | None = None,
) -> Dataset:
    """Encode an event log already in memory (a served request, a generated log) exactly as
    ``build_events`` encodes the file's; ``cfg.path`` only names where the events came from in
    messages. ``labels``: the table ``data.labels.path`` would hold, already in memory."""
    return _dataset(cfg, lambda report, notes: clean_log(frame, cfg, report, notes), schema, labelled, labels)


@DATA_SOURCES.register(EventsConfig, tags=("file", "sequence"), check=check_events, frame=events_from_frame)
def build_events(
    cfg: EventsConfig, *, seed: int, schema: dict | None = None, labelled: bool = True
) -> Dataset:
    """Read the log, derive and filter, keep each customer's history before the reference date,
    build sequences and/or aggregates, and the labels."""
    return _dataset(cfg, lambda report, notes: read_log(cfg, report, notes), schema, labelled)


def _dataset(
    cfg: EventsConfig,
    read: Callable[[dict, list], pd.DataFrame],
    schema: dict | None,
    labelled: bool,
    label_table: pd.DataFrame | None = None,
) -> Dataset:
    if labelled and cfg.labels is None:
        raise DataError(
            "data.labels: required to train: {path: labels.csv, column: label} "
            "or {cutoff: 2014-06-01, horizon_days: 90}"
        )
    report: dict[str, Any] = {}
    notes: list[str] = []
    raw = read(report, notes)
    derive = dict(cfg.derive) if schema is None else schema.get("derive", {})
    raw = filtered(derive_columns(raw, derive, path=cfg.path),
                    cfg.where if schema is None else schema.get("where"), cfg, report, notes)  # fmt: skip
    reference = reference_date(cfg, raw, schema, labelled)
    learning = schema is None
    if schema is None:
        schema = new_schema(cfg, reference)
        if next_spec(cfg.labels) is not None:
            info = learn_next_category(raw, cfg)
            schema.update(classes=info.pop("classes"), next_category=info)
    numeric: dict[str, str] = {}  # column -> the config key that names it numeric
    for key, columns in schema_columns(schema):
        require_columns(raw, columns, where=key, path=cfg.path)
        numeric.update(
            {c: numeric.get(c, key) for c in columns if not key.endswith(("categorical", ".item"))}
        )
    events = numeric_columns(raw, numeric, cfg.path)
    report["events"] = len(events)
    report["reference_date"] = str(reference)
    snapshots = cfg.snapshots.dates() if labelled and cfg.snapshots is not None else None
    if labelled and isinstance(cfg.labels, WindowLabels) and snapshots is None:
        window_report(raw, cfg, report, notes)

    times = events[cfg.time].to_numpy()
    before = times < reference
    report["events_from_reference_date"] = int((~before).sum())
    all_customers = pd.unique(events[cfg.id])
    report["customers_in_log"] = len(all_customers)
    if not before.any():
        raise DataError(
            f"data: no event of {cfg.path} lies before the reference date {reference} "
            "(data.reference_date, data.labels.cutoff or the first data.snapshots cutoff)"
        )
    lumped = schema.get("max_levels", {})
    if learning:  # levels from every event a feature may see (before the last cutoff), never later ones
        _learn_levels(events[before], cfg, schema, lumped)
    if snapshots is not None:
        if learning:
            schema["snapshots"] = {"cutoffs": [str(timestamp(c)) for c in snapshots],
                                   "horizon_days": cfg.labels.horizon_days}  # type: ignore[union-attr]  # fmt: skip
        return _snapshot_dataset(raw, events, cfg, schema, snapshots, len(all_customers), report, notes)
    seq, agg, ids, unseen = _examples(events[before], cfg, schema, reference, lumped)
    edges = example_edges(events[before], cfg.id, ids, schema, report)
    if agg is not None:
        report["aggregate_features"] = len(agg.names)
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
            y = file_labels(cfg, ids, report, notes, label_table)
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
            check_two_classes(y, column="data.labels", path=where, fix=_label_fix(cfg))
            report["positive_rate"] = round(float(y.mean()), 4)
    else:
        y = np.full(len(ids), -1, dtype=np.int64)

    X, names, mask, groups, static, static_names = _assemble(seq, agg, schema["output"])
    X, mask, ids = X[keep], None if mask is None else mask[keep], ids[keep]
    static = None if static is None else static[keep]
    edges = None if edges is None else edges[keep]
    report["customers"] = len(ids)
    if seq is not None and schema["output"] != "aggregates":
        _truncation(seq.events_per_customer[keep], schema, report, notes)
    report["unseen_levels"] = unseen
    if unseen:
        notes.append(f"category levels not seen in training (encoded as all zeros): {unseen}")
    graph_note(report, notes)
    report["notes"] = notes
    return Dataset(X=X, y=y, ids=ids, feature_names=names, mask=mask, onehot_groups=groups, report=report,
                   schema=schema, static=static, static_names=static_names, edges=edges)  # fmt: skip


def _label_fix(cfg: EventsConfig) -> str:
    """Where a one-class label comes from: the label file's positive value, or the window's rule."""
    labels = cfg.labels
    if isinstance(labels, FileLabels):
        return f"data.labels.positive ({labels.positive!r}) and the values of column '{labels.column}'"
    assert isinstance(labels, WindowLabels)
    rule = f"data.labels.where {labels.where!r}" if labels.where else "the label window"
    return f"{rule}: does it match events in [cutoff, cutoff + horizon)? and data.labels.horizon_days"


def _learn_levels(history: pd.DataFrame, cfg: EventsConfig, schema: dict[str, Any], lumped: dict) -> None:
    """Category levels (sequence one-hots and aggregate counts) learned from ``history`` alone."""
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
    if schema.get("graph"):
        schema["graph"]["items"] = learn_items(history, cfg.id, schema["graph"])


def _examples(
    history: pd.DataFrame, cfg: EventsConfig, schema: dict[str, Any], reference: np.datetime64, lumped: dict
) -> tuple[Any, Any, np.ndarray, dict[str, int]]:
    """One cutoff's sequences and/or aggregates from ``history`` (events strictly before
    ``reference``), the customers they are for (sorted) and the unseen category levels."""
    seq, unseen = _sequences(history, cfg, schema, reference, lumped)
    agg = None
    if schema.get("aggregates"):
        agg = build_aggregates(history, id_col=cfg.id, time_col=cfg.time, reference=reference,
                               spec=schema["aggregates"])  # fmt: skip
        if seq is not None and not np.array_equal(seq.ids, agg.ids):
            raise AssertionError("sequence and aggregate builders ordered customers differently")
    ids = seq.ids if seq is not None else agg.ids  # type: ignore[union-attr]
    return seq, agg, ids, unseen


def _snapshot_dataset(
    raw: pd.DataFrame,
    events: pd.DataFrame,
    cfg: EventsConfig,
    schema: dict[str, Any],
    cutoffs: list[Any],
    customers: int,
    report: dict[str, Any],
    notes: list[str],
) -> Dataset:
    """One example per (customer, cutoff): features from the events strictly before the cutoff,
    label 1 when a ``labels.where`` event falls in ``[cutoff, cutoff + horizon_days)``.

    The log is read, derived, filtered and sorted by time ONCE; each cutoff's history is then a
    prefix of the sorted events (one ``searchsorted``), and its positives a slice of the sorted
    label events. Customers of the log (``customers`` of them) without an event before a cutoff have
    no example at it (counted)."""
    assert isinstance(cfg.labels, WindowLabels) and cfg.labels.horizon_days is not None
    horizon = horizon_of(cfg.labels.horizon_days)
    moments = [timestamp(c) for c in cutoffs]
    order = np.argsort(events[cfg.time].to_numpy(), kind="stable")
    by_time = events.iloc[order]
    times = by_time[cfg.time].to_numpy()
    label_events = (
        raw
        if not cfg.labels.where
        else raw[condition(raw, cfg.labels.where, key="data.labels.where", path=cfg.path)]
    )
    label_order = np.argsort(label_events[cfg.time].to_numpy(), kind="stable")
    label_times = label_events[cfg.time].to_numpy()[label_order]
    label_ids = label_events[cfg.id].to_numpy()[label_order]
    last_day = pd.Timestamp(times.max()).normalize() + pd.Timedelta(days=1)
    lumped = schema.get("max_levels", {})
    parts: list[tuple[Any, ...]] = []
    rows: list[dict[str, Any]] = []
    unseen_total: dict[str, int] = {}
    for cutoff in moments:
        history = by_time.iloc[: int(np.searchsorted(times, cutoff, side="left"))]
        row: dict[str, Any] = {"cutoff": str(cutoff), "history_events": len(history)}
        if history.empty:
            rows.append({**row, "examples": 0, "positives": 0, "customers_without_history": customers})
            continue
        seq, agg, ids, unseen = _examples(history, cfg, schema, cutoff, lumped)
        lo, hi = np.searchsorted(label_times, [cutoff, cutoff + horizon], side="left")
        y = np.isin(ids, pd.unique(label_ids[lo:hi])).astype(np.int64)
        X, names, mask, groups, static, static_names = _assemble(seq, agg, schema["output"])
        edges = example_edges(history, cfg.id, ids, schema, report)  # this cutoff's own edges
        parts.append((X, y, ids, mask, np.full(len(ids), cutoff, dtype="datetime64[s]"), static, edges))
        for column, count in unseen.items():
            unseen_total[column] = unseen_total.get(column, 0) + count
        row.update(examples=len(ids), positives=int(y.sum()), positive_rate=round(float(y.mean()), 4),
                   customers_without_history=customers - len(ids))  # fmt: skip
        if pd.Timestamp(cutoff + horizon) > last_day:
            row["label_window_past_log_end"] = True
            notes.append(f"cutoff {cutoff}: the label window runs past the log's last day {last_day.date()}; "
                         "its positives are undercounted")  # fmt: skip
        rows.append(row)
    if not parts:
        raise DataError(f"data.snapshots: no cutoff has an event of {cfg.path} before it")
    X = np.concatenate([p[0] for p in parts])
    y, ids, cutoff_of = (np.concatenate([p[i] for p in parts]) for i in (1, 2, 4))
    mask, static = (None if parts[0][i] is None else np.concatenate([p[i] for p in parts]) for i in (3, 5))
    edges = None if parts[0][6] is None else stack_rows([p[6] for p in parts])
    check_two_classes(y, column="data.labels", path=cfg.path, fix=_label_fix(cfg))
    report.update(snapshots=rows, customers=int(len(np.unique(ids))), examples=len(y),
                  positive_rate=round(float(y.mean()), 4), unseen_levels=unseen_total)  # fmt: skip
    notes.append(
        f"{len(moments)} snapshots from {moments[0]} to {moments[-1]}: {len(y)} examples of "
        f"{report['customers']} customers, label window {cfg.labels.horizon_days:g} days"
    )
    graph_note(report, notes)
    report["notes"] = notes
    return Dataset(X=X, y=y, ids=ids, feature_names=names, mask=mask, onehot_groups=groups, report=report,
                   schema=schema, static=static, static_names=static_names, cutoffs=cutoff_of,
                   edges=edges)  # fmt: skip


def _sequences(
    history: pd.DataFrame, cfg: EventsConfig, schema: dict[str, Any], reference: np.datetime64, lumped: dict
) -> tuple[Any, dict[str, int]]:
    """The last-N sequences (None for aggregates alone, unless an older run's schema asks for its
    aggregates, which the sequence builder made), and the unseen category levels."""
    legacy = schema["output"] != "sequence" and "aggregates" not in schema  # a run saved before them
    if schema["output"] == "aggregates" and not legacy:
        return None, {}
    levels = schema["categorical"]
    encoded = log1p_columns(history, schema["log1p"], cfg.path)
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
