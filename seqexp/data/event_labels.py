"""Labels of the ``events`` source: from a file (one per customer), or from the log itself after a
cutoff: 1 when a matching event falls in ``[cutoff, end)``, or the category of the customer's first
basket in that window (``next_category``). The end is ``cutoff + horizon_days``, ``until``, or with
``horizon_days: null`` the day after the log's last event. Features never see the window."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqexp.data.events_config import EventsConfig, FileLabels, WindowLabels, moment, next_spec
from seqexp.data.expressions import condition
from seqexp.data.readers import (
    MISSING_LEVEL,
    OTHER_CLASS,
    as_label,
    read_frame,
    require_columns,
    shown,
    top_levels,
)
from seqexp.errors import DataError
from seqexp.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # imported on first use: light commands never pay for it


def same_id_type(left: pd.Series, right: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Ids read from two files may differ in dtype (7 vs '7'): compare them as text then."""
    if pd.api.types.is_numeric_dtype(left) == pd.api.types.is_numeric_dtype(right):
        return left, right
    return left.astype(str), right.astype(str)


def file_labels(
    cfg: EventsConfig,
    ids: np.ndarray,
    report: dict[str, Any],
    notes: list[str],
    table: pd.DataFrame | None = None,
) -> np.ndarray:
    """Each customer's label from ``data.labels.path`` (or ``table``, that file already in memory)."""
    spec = cfg.labels
    assert isinstance(spec, FileLabels)
    id_col = spec.id or cfg.id
    if table is None:
        table = read_frame(spec.path, what="data.labels.path", sep=spec.sep, header=spec.header,
                           column_names=spec.column_names)  # fmt: skip
    require_columns(table, [id_col, spec.column], where="data.labels", path=spec.path)
    if table[id_col].duplicated().any():
        sample = table.loc[table[id_col].duplicated(), id_col].iloc[0]
        raise DataError(f"data.labels: id {shown(sample)} has more than one label in {spec.path}")
    label_ids, log_ids = same_id_type(table[id_col], pd.Series(ids))
    values = as_label(table[spec.column], spec.positive, column=f"data.labels.column '{spec.column}'",
                      path=spec.path)  # fmt: skip
    y = pd.Series(values, index=label_ids.to_numpy()).reindex(log_ids.to_numpy()).to_numpy()
    matched = int(pd.Series(label_ids).isin(log_ids).sum())
    if matched == 0:
        raise DataError(
            f"data.labels: none of the {len(table)} ids in {spec.path} (e.g. {shown(label_ids.iloc[0])}) "
            f"is a customer of the event log (e.g. {shown(log_ids.iloc[0])}); check data.labels.id and "
            "data.id"
        )
    report["labels_without_events"] = len(table) - matched
    if report["labels_without_events"]:
        notes.append(
            f"{report['labels_without_events']} labelled customer(s) have no events and are left out"
        )
    return y


def label_window(events: pd.DataFrame, cfg: EventsConfig) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end)`` of the label window: the cutoff, and ``cutoff + horizon_days``, ``until``, or
    (``horizon_days: null``) the day after the log's last event."""
    spec = cfg.labels
    assert isinstance(spec, WindowLabels) and spec.cutoff is not None  # snapshots label elsewhere
    start = pd.Timestamp(moment(spec.cutoff))  # naive, as the parsed timestamps are
    if spec.until is not None:
        return start, pd.Timestamp(moment(spec.until))
    if spec.horizon_days is not None:
        return start, start + pd.Timedelta(days=spec.horizon_days)
    last = events[cfg.time].max()
    end = last.normalize() + pd.Timedelta(days=1)
    if end <= start:
        raise DataError(
            f"data.labels.horizon_days: null runs the label window to the end of the log, but the last "
            f"event of {Path(cfg.path).name} ({last}) is before the cutoff {start.date()}; set an earlier "
            "labels.cutoff"
        )
    return start, end


def window_report(events: pd.DataFrame, cfg: EventsConfig, report: dict[str, Any], notes: list[str]) -> None:
    """The label window's real bounds and length in the report; a note when it runs past the log."""
    start, end = label_window(events, cfg)
    report["label_window_start"] = str(start)
    report["label_window_end"] = str(end)
    report["label_window_days"] = round((end - start) / pd.Timedelta(days=1), 4)
    spec = cfg.labels
    assert isinstance(spec, WindowLabels)
    if spec.horizon_days is None and spec.until is None:
        notes.append(
            f"label window [{start}, {end}): {report['label_window_days']:g} days, to the end of the log "
            "(labels.horizon_days: null)"
        )
        return
    last = events[cfg.time].max()
    if last < end - pd.Timedelta(days=1):
        observed = max((last.normalize() + pd.Timedelta(days=1) - start) / pd.Timedelta(days=1), 0.0)
        notes.append(
            f"the label window [{start}, {end}) runs past the log's last event ({last}): only about "
            f"{observed:g} of its {report['label_window_days']:g} days can hold events"
        )


def window_events(events: pd.DataFrame, cfg: EventsConfig) -> pd.DataFrame:
    """The events of the label window that match ``where`` (all of them without it)."""
    spec = cfg.labels
    assert isinstance(spec, WindowLabels)
    start, end = label_window(events, cfg)
    times = events[cfg.time]
    window = events[(times >= start) & (times < end)]  # cutoff included, end excluded
    if spec.where:
        window = window[condition(window, spec.where, key="data.labels.where", path=cfg.path)]
    return window


def window_labels(events: pd.DataFrame, cfg: EventsConfig, ids: np.ndarray) -> np.ndarray:
    return np.isin(ids, pd.unique(window_events(events, cfg)[cfg.id])).astype(np.float64)


def level_text(values: pd.Series) -> pd.Series:
    """Category values as the text of their level (missing: its own level), as one-hot blocks name them."""
    return values.astype(object).where(values.notna(), MISSING_LEVEL).astype(str)


def learn_next_category(events: pd.DataFrame, cfg: EventsConfig) -> dict[str, Any]:
    """The classes of a next-category label, counted on the events before the cutoff only."""
    spec = next_spec(cfg.labels)
    assert spec is not None and isinstance(cfg.labels, WindowLabels)
    require_columns(events, [spec.column], where="data.labels.next_category.column", path=cfg.path)
    before = (events[cfg.time] < pd.Timestamp(cfg.labels.cutoff)).to_numpy()  # no peeking at the window
    ranked = top_levels(level_text(events.loc[before, spec.column]), spec.top_k)
    classes = sorted(ranked) + ([OTHER_CLASS] if spec.other == "keep" else [])
    if len(classes) < 3:
        raise DataError(
            f"data.labels.next_category.column: column '{spec.column}' of {Path(cfg.path).name} has only "
            f"{len(ranked)} value(s) before the cutoff, which makes {len(classes)} classes; a multi-class "
            "label needs at least 3 (other: keep adds one)"
        )
    return {"column": spec.column, "ranked": ranked, "other": spec.other, "classes": classes}


def next_category_labels(
    events: pd.DataFrame,
    cfg: EventsConfig,
    ids: np.ndarray,
    schema: dict[str, Any],
    report: dict[str, Any],
    notes: list[str],
) -> np.ndarray:
    """Class index of each customer's next basket (NaN: no basket in the window, or dropped as other).

    A basket is a customer's events on one calendar day; the next basket is the first day with events
    in ``[cutoff, cutoff + horizon_days)`` (matching ``where``). Its class is the top-K category with the
    most events in it, ties broken by the frequency before the cutoff (``schema["next_category"]
    ["ranked"]`` order). The classes and that order are the run's (``schema``), never re-learned."""
    spec, info, classes = cfg.labels, schema["next_category"], schema["classes"]
    assert isinstance(spec, WindowLabels)
    require_columns(events, [info["column"]], where="data.labels.next_category.column", path=cfg.path)
    start, end = label_window(events, cfg)
    events = window_events(events, cfg)
    window = pd.DataFrame(
        {
            "id": events[cfg.id].to_numpy(),
            "day": events[cfg.time].dt.normalize().to_numpy(),
            "category": level_text(events[info["column"]]).to_numpy(),
        }
    )
    basket = window[window["day"].to_numpy() == window.groupby("id")["day"].transform("min").to_numpy()]
    ranked = info["ranked"]
    rank = basket["category"].map(pd.Series(np.arange(len(ranked)), index=ranked))
    top = basket.assign(rank=rank)[rank.notna().to_numpy()]
    counts = top.groupby(["id", "rank"], sort=False).size().rename("rows").reset_index()
    # Most events in the basket first, then the globally more frequent category: the first row wins.
    chosen = counts.sort_values(["rows", "rank"], ascending=[False, True], kind="stable")
    chosen = chosen.drop_duplicates("id")
    class_of_rank = np.array([classes.index(level) for level in ranked], dtype=np.float64)
    label = pd.Series(class_of_rank[chosen["rank"].to_numpy(dtype=np.int64)], index=chosen["id"].to_numpy())
    y = label.reindex(pd.Index(ids)).to_numpy(dtype=np.float64, copy=True)
    has_basket = np.isin(ids, pd.unique(basket["id"]))
    other = has_basket & np.isnan(y)
    if info["other"] == "keep":
        y[other] = classes.index(OTHER_CLASS)
    report["customers_without_next_basket"] = int((~has_basket).sum())
    report["customers_next_basket_other"] = int(other.sum())
    if (~has_basket).any():
        notes.append(
            f"{int((~has_basket).sum())} customer(s) without a basket in [{start.date()}, {end.date()}) "
            "left out"
        )
    if other.any():
        action = f"class {OTHER_CLASS}" if info["other"] == "keep" else "left out (next_category.other: drop)"
        notes.append(
            f"{int(other.sum())} customer(s) whose next basket has none of the top {len(ranked)} "
            f"{info['column']} values: {action}"
        )
    return y
