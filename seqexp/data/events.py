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

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from seqexp.config.section import ConfigPath, Section
from seqexp.data.dataset import Dataset
from seqexp.data.readers import (
    MISSING_LEVEL,
    OTHER_CLASS,
    as_label,
    check_two_classes,
    learn_levels,
    numeric_values,
    parse_times,
    read_frame,
    require_columns,
    shown,
    top_levels,
)
from seqexp.data.sequences import DERIVED, build_sequences
from seqexp.data.table import FileOptions, Scalar, class_report
from seqexp.errors import DataError
from seqexp.lazy import lazy_module
from seqexp.registry import DATA_SOURCES

pd = lazy_module("pandas")  # imported on first use: light commands never pay for it

Derived = Literal["days_since_previous", "days_before_reference", "day_of_week"]
assert set(Derived.__args__) == set(DERIVED)  # type: ignore[attr-defined]


class FileLabels(FileOptions):
    """One label per customer from a separate CSV or Parquet file."""

    path: ConfigPath = Field(description="The label file.")
    id: str | None = Field(None, description="Customer id column in the label file (default: the log's).")
    column: str = Field("label", description="Label column.")
    positive: Scalar = Field(1, description="Label value that counts as positive.")


class NextCategory(Section):
    """A multi-class label from the log: the category of the customer's next basket (their events on
    the first day in the label window) among the ``top_k`` categories with the most events before the
    cutoff. A basket with several of them: the one with the most events in it, ties to the one with
    more events before the cutoff. Customers without a basket in the window are left out."""

    column: str = Field(description="Event column whose value is the class (e.g. PRODUCT_SUBCLASS).")
    top_k: int = Field(
        10, ge=2, le=1000, description="Classes: the K categories with the most events before the cutoff."
    )
    other: Literal["keep", "drop"] = Field(
        "keep",
        description="A next basket with none of the K categories: keep: class '(other)'; drop: leave the "
        "customer out (counted).",
    )

    @model_validator(mode="after")
    def _three_classes(self) -> NextCategory:
        if self.top_k + (self.other == "keep") < 3:
            raise ValueError(
                "top_k: 2 with other: drop leaves two classes; use top_k >= 3 or other: keep (a yes/no "
                "label: leave next_category out)"
            )
        return self


class WindowLabels(Section):
    """Labels from the log itself: did the customer do X within the horizon after the cutoff? With
    ``next_category``: which category does the customer's next basket in that window hold?"""

    cutoff: dt.date | dt.datetime = Field(
        description="Events before it build the sequence; the label looks at events from it on."
    )
    horizon_days: float = Field(gt=0, description="Length of the label window after the cutoff, in days.")
    where: str | None = Field(
        None,
        description="pandas query on event columns selecting the events that count as positive "
        "(e.g. \"type == 'deposit' and amount > 100\"); none: any event. With next_category: the "
        "events that form baskets.",
    )
    next_category: NextCategory | None = Field(
        None,
        description="{column, top_k, other}: a multi-class label, the next basket's category among the "
        "top_k; none: the yes/no label.",
    )


class EventsConfig(FileOptions):
    """An event log (CSV or Parquet, one row per event): the last N events per customer."""

    name: Literal["events"] = "events"
    path: ConfigPath = Field("events.csv", description="The event log (.csv... or .parquet).")
    cache: bool = Field(
        True, description="Reuse the arrays built before (data/cache/) while file and section are unchanged."
    )
    id: str = Field("customer_id", description="Customer id column.")
    time: str = Field("timestamp", description="Timestamp column.")
    time_format: str | None = Field(
        None, description="strftime format of the timestamps, e.g. '%d-%b-%y'; none: detected."
    )
    numeric: list[str] = Field([], description="Numeric event columns (e.g. amount).")
    categorical: list[str] = Field([], description="Categorical event columns (one-hot per step).")
    max_levels: dict[str, int] = Field(
        {},
        description="Categorical columns with many values (e.g. {PRODUCT_SUBCLASS: 10}): one-hot only the N "
        "most frequent before the reference date, every other value becomes the level '(other)'.",
    )
    log1p: list[str] = Field([], description="Numeric columns replaced by log(1 + x) (skewed amounts).")
    sequence_length: int = Field(20, ge=1, le=10_000, description="Last N events kept per customer.")
    derived: list[Derived] = Field(
        [], description="Per-step features: days_since_previous, days_before_reference, day_of_week."
    )
    log_days: bool = Field(True, description="Use log(1 + days) for the derived day counts.")
    reference_date: dt.date | dt.datetime | None = Field(
        None,
        description="'Now' for day counts; events from it on are left out. Default: the cutoff with "
        "window labels, else the day after the log's last event.",
    )
    output: Literal["sequence", "aggregates", "sequence_and_aggregates"] = Field(
        "sequence",
        description="sequence: (N steps x features); aggregates: one row per customer (count, recency, "
        "tenure, total and mean of each numeric column); sequence_and_aggregates: the aggregates "
        "repeated on every real step.",
    )
    duplicates: Literal["drop", "keep"] = Field("drop", description="Exact duplicate rows (always counted).")
    impute: Literal["mean", "median"] = Field(
        "mean", description="How missing numeric values are filled (statistic of the training split)."
    )
    labels: FileLabels | WindowLabels | None = Field(
        None,
        description="{path, id, column, positive} or {cutoff, horizon_days, where, next_category}.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> EventsConfig:
        stray = [c for c in self.max_levels if c not in self.categorical]
        if stray:
            raise ValueError(f"max_levels: column '{stray[0]}' is not listed under categorical; add it there")
        small = [c for c, n in self.max_levels.items() if n < 1]
        if small:
            raise ValueError(f"max_levels: {small[0]} needs at least 1 level")
        labels, reference = self.labels, self.reference_date
        # A reference date after the cutoff would put the label window's events into the features.
        late = _next_spec(labels) is not None and reference is not None
        if late and _moment(reference) > _moment(labels.cutoff):
            raise ValueError(
                "reference_date: after labels.cutoff, so the sequences would see the next basket; "
                "remove reference_date (it defaults to the cutoff)"
            )
        return self


def _next_spec(labels: FileLabels | WindowLabels | None) -> NextCategory | None:
    """The next-category settings of window labels, if they ask for a multi-class label."""
    return labels.next_category if isinstance(labels, WindowLabels) else None


def _moment(value: dt.date | dt.datetime) -> dt.datetime:
    """A date as its midnight, so that dates and datetimes compare (without importing pandas)."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
    return moment.replace(tzinfo=None)


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


def _same_id_type(left: pd.Series, right: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Ids read from two files may differ in dtype (7 vs '7'): compare them as text then."""
    if pd.api.types.is_numeric_dtype(left) == pd.api.types.is_numeric_dtype(right):
        return left, right
    return left.astype(str), right.astype(str)


def _file_labels(cfg: EventsConfig, ids: np.ndarray, report: dict[str, Any], notes: list[str]) -> np.ndarray:
    spec = cfg.labels
    assert isinstance(spec, FileLabels)
    id_col = spec.id or cfg.id
    table = read_frame(spec.path, what="data.labels.path", sep=spec.sep, header=spec.header,
                       column_names=spec.column_names)  # fmt: skip
    require_columns(table, [id_col, spec.column], where="data.labels", path=spec.path)
    if table[id_col].duplicated().any():
        sample = table.loc[table[id_col].duplicated(), id_col].iloc[0]
        raise DataError(f"data.labels: id {shown(sample)} has more than one label in {spec.path}")
    label_ids, log_ids = _same_id_type(table[id_col], pd.Series(ids))
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


def _window_events(events: pd.DataFrame, cfg: EventsConfig) -> pd.DataFrame:
    """The events of the label window that match ``where`` (all of them without it)."""
    spec = cfg.labels
    assert isinstance(spec, WindowLabels)
    start = pd.Timestamp(spec.cutoff)
    end = start + pd.Timedelta(days=spec.horizon_days)
    times = events[cfg.time]
    window = events[(times >= start) & (times < end)]  # cutoff included, cutoff + horizon excluded
    if spec.where:
        try:
            window = window.query(spec.where)
        except Exception as exc:  # pandas raises many types for a bad expression
            raise DataError(
                f"data.labels.where: cannot evaluate {spec.where!r}: {exc}; "
                f"columns: {', '.join(events.columns)}"
            ) from None
    return window


def _window_labels(events: pd.DataFrame, cfg: EventsConfig, ids: np.ndarray) -> np.ndarray:
    return np.isin(ids, pd.unique(_window_events(events, cfg)[cfg.id])).astype(np.float64)


def level_text(values: pd.Series) -> pd.Series:
    """Category values as the text of their level (missing: its own level), as one-hot blocks name them."""
    return values.astype(object).where(values.notna(), MISSING_LEVEL).astype(str)


def _learn_next_category(events: pd.DataFrame, cfg: EventsConfig) -> dict[str, Any]:
    """The classes of a next-category label, counted on the events before the cutoff only."""
    spec = _next_spec(cfg.labels)
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


def _next_category_labels(
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
    start = pd.Timestamp(spec.cutoff)
    events = _window_events(events, cfg)
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
    end = (start + pd.Timedelta(days=spec.horizon_days)).date()
    if (~has_basket).any():
        notes.append(
            f"{int((~has_basket).sum())} customer(s) without a basket in [{start.date()}, {end}) left out"
        )
    if other.any():
        action = f"class {OTHER_CLASS}" if info["other"] == "keep" else "left out (next_category.other: drop)"
        notes.append(
            f"{int(other.sum())} customer(s) whose next basket has none of the top {len(ranked)} "
            f"{info['column']} values: {action}"
        )
    return y


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
        if _next_spec(cfg.labels) is not None:
            info = _learn_next_category(raw, cfg)
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
            if _next_spec(cfg.labels) is None:
                raise DataError(
                    "data.labels: the run was trained on a next-category label; give labels with "
                    "next_category to score labelled data"
                )
            y = _next_category_labels(raw, cfg, seq.ids, schema, report, notes)
        elif _next_spec(cfg.labels) is not None:
            raise DataError(
                "data.labels.next_category: the run's target is binary; remove next_category to score "
                "labelled data with it"
            )
        elif isinstance(cfg.labels, FileLabels):
            y = _file_labels(cfg, seq.ids, report, notes)
        else:
            y = _window_labels(raw, cfg, seq.ids)  # raw values: `where` reads amounts, not log1p
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
