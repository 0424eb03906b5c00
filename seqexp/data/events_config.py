"""The ``events`` source's config: the log's columns, the event filter and derived columns, the
aggregates, and where labels come from (a file, a window after a cutoff, or the category of the next
basket in that window)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from seqexp.config.section import ConfigPath, Section, moment
from seqexp.data.expressions import check_derive_names, check_syntax
from seqexp.data.graph import GraphOptions
from seqexp.data.sequences import DERIVED
from seqexp.data.table import FileOptions, Scalar

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

    cutoff: dt.date | dt.datetime | None = Field(
        None,
        description="Events before it build the sequence; the label looks at events from it on. Leave it "
        "out with data.snapshots (each snapshot's date is a cutoff).",
    )
    horizon_days: float | None = Field(
        None,
        gt=0,
        description="Length of the label window after the cutoff, in days; null: to the end of the log "
        "(the day after its last event).",
    )
    until: dt.date | dt.datetime | None = Field(
        None, description="Instead of horizon_days: the window's end (excluded): [cutoff, until)."
    )
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

    @field_validator("where")
    @classmethod
    def _expression(cls, value: str | None) -> str | None:
        if value is not None:
            check_syntax(value)
        return value

    @model_validator(mode="after")
    def _window_end(self) -> WindowLabels:
        if self.horizon_days is not None and self.until is not None:
            raise ValueError("horizon_days and until both set; keep one (until: the window's end, excluded)")
        if self.horizon_days is None and self.until is None and "horizon_days" not in self.model_fields_set:
            raise ValueError(
                "give horizon_days (days after the cutoff; null: to the end of the log) or until (a date)"
            )
        if self.until is not None and self.cutoff is not None and moment(self.until) <= moment(self.cutoff):
            raise ValueError(f"until: {self.until} is not after the cutoff {self.cutoff}")
        return self


Stat = Literal["sum", "mean", "max", "min", "std"]


class AggregateOptions(Section):
    """What the per-customer aggregate vector holds (``output: aggregates`` or
    ``sequence_and_aggregates``): all history strictly before the reference date, on raw values."""

    windows_days: list[float] = Field(
        [7, 30, 90, 365],
        description="Time windows: the last W days before the reference date (ref - W days <= t < ref); "
        "counts and column statistics per window, beside those over all history.",
    )
    stats: list[Stat] = Field(
        ["sum", "mean", "max"], description="Statistics of each numeric column: sum, mean, max, min, std."
    )
    numeric: list[str] | None = Field(
        None, description="Columns summarised; default: data.numeric and every data.derive column."
    )
    flags: list[str] = Field(
        [],
        description="0/1 columns (e.g. a derive condition): days since the customer's last event where it "
        "is true (> 0); never: the tenure.",
    )
    categorical: list[str] | None = Field(
        None, description="Columns whose levels are counted per customer; default: data.categorical."
    )
    top_k: int = Field(
        10,
        ge=1,
        le=1000,
        description="Levels counted per column: the K with most events, the rest '(other)'.",
    )
    gaps: Literal["events", "days", "none"] = Field(
        "events",
        description="Gaps (mean, std, last) between consecutive events; days: between distinct days with "
        "events (a line-item log's baskets); none: left out.",
    )
    trend: bool = Field(
        True, description="Per window W: (last W - the W before) / (|last W| + |the W before|), in [-1, 1]."
    )
    log1p: bool = Field(
        False,
        description="Replace each aggregate x (trends excepted) by sign(x) log(1 + |x|), after aggregating.",
    )

    @field_validator("windows_days")
    @classmethod
    def _windows(cls, value: list[float]) -> list[float]:
        if any(w <= 0 for w in value):
            raise ValueError("each window is a positive number of days")
        if len(set(value)) != len(value):
            raise ValueError("a window is listed twice")
        if any(w > 36_500 for w in value):
            raise ValueError("a window is at most 36500 days (100 years); all history is always there too")
        return sorted(value)

    @field_validator("stats")
    @classmethod
    def _stats(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a statistic is listed twice")
        return value


class SnapshotsConfig(Section):
    """Training examples at several cutoffs: one per (customer, cutoff) with history before it."""

    cutoffs: list[dt.date | dt.datetime] | None = Field(
        None, description="The cutoffs, e.g. [2001-01-01, 2001-01-08]; or every_days with from and to."
    )
    every_days: float | None = Field(None, gt=0, description="A cutoff every N days from `from` up to `to`.")
    from_: dt.date | dt.datetime | None = Field(None, alias="from", description="The first cutoff.")
    to: dt.date | dt.datetime | None = Field(None, description="The last cutoff is at or before it.")

    @model_validator(mode="after")
    def _one_way(self) -> SnapshotsConfig:
        spaced = (self.every_days, self.from_, self.to)
        if self.cutoffs is not None:
            if any(v is not None for v in spaced):
                raise ValueError("give cutoffs, or every_days with from and to, not both")
            if len(set(map(moment, self.cutoffs))) != len(self.cutoffs):
                raise ValueError("a cutoff is listed twice")
            return self
        if any(v is None for v in spaced):
            raise ValueError("give cutoffs: [date, ...], or every_days, from and to")
        if moment(self.to) < moment(self.from_):  # type: ignore[arg-type]
            raise ValueError(f"to: {self.to} is before from: {self.from_}")
        if len(self.dates()) > 1000:
            raise ValueError("more than 1000 cutoffs; use a larger every_days")
        return self

    def dates(self) -> list[dt.datetime]:
        """The cutoffs in time order, as naive datetimes."""
        if self.cutoffs is not None:
            return sorted(moment(c) for c in self.cutoffs)
        start, end = moment(self.from_), moment(self.to)  # type: ignore[arg-type]
        step = dt.timedelta(days=self.every_days)  # type: ignore[arg-type]
        out: list[dt.datetime] = []
        while start <= end and len(out) <= 1000:
            out.append(start)
            start += step
        return out


class EventsConfig(FileOptions):
    """An event log (CSV or Parquet, one row per event): the last N events per customer."""

    name: Literal["events"] = "events"
    path: ConfigPath = Field("events.csv", description="The event log (.csv... or .parquet).")
    cache: bool = Field(
        True,
        description="Reuse the arrays built before (user cache folder) while file and section are unchanged.",
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
    log1p: list[str] = Field(
        [],
        description="Numeric columns replaced by log(1 + x) in the sequence's steps (not the aggregates).",
    )
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
    where: str | None = Field(
        None,
        description='Keep only the events matching this pandas query (e.g. "customer_id != 0 and amount > '
        '0"), before anything else: features and labels alike; what it removes is counted.',
    )
    derive: dict[str, str] = Field(
        {},
        description="New numeric event columns: {name: expression on the columns}, e.g. {is_target: "
        "'PRODUCT_SUBCLASS == 100205'} (a condition is 0/1); usable in numeric, where, labels, aggregates.",
    )
    output: Literal["sequence", "aggregates", "sequence_and_aggregates"] = Field(
        "sequence",
        description="sequence: (N steps x features); aggregates: one row per customer, all history "
        "(see aggregates); sequence_and_aggregates: the sequence, and the aggregates beside it as a "
        "second, static input (sequence models join it after their encoder).",
    )
    aggregates: AggregateOptions = Field(
        AggregateOptions(),
        description="{windows_days, stats, numeric, flags, categorical, top_k, gaps, trend, log1p}.",
    )
    graph: GraphOptions | None = Field(
        None,
        description="{item, weight, normalise, dims, hops}: the customer-item graph of the history; "
        "customer vectors from it join the aggregates (or the static block beside the sequence).",
    )
    duplicates: Literal["drop", "keep"] = Field("drop", description="Exact duplicate rows (always counted).")
    impute: Literal["mean", "median"] = Field(
        "mean", description="How missing numeric values are filled (statistic of the training split)."
    )
    labels: FileLabels | WindowLabels | None = Field(
        None,
        description="{path, id, column, positive} or {cutoff, horizon_days (null: to the end of the log) or "
        "until, where, next_category}.",
    )

    snapshots: SnapshotsConfig | None = Field(
        None,
        description="{cutoffs: [...]} or {every_days, from, to}: one example per customer and cutoff, "
        "features from events before it, label from [cutoff, cutoff + labels.horizon_days).",
    )

    @field_validator("where")
    @classmethod
    def _where(cls, value: str | None) -> str | None:
        if value is not None:
            check_syntax(value)
        return value

    @field_validator("derive")
    @classmethod
    def _derive(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        check_derive_names(value, [str(info.data.get("id")), str(info.data.get("time"))])
        return value

    @model_validator(mode="after")
    def _consistent(self) -> EventsConfig:
        stray = [c for c in self.max_levels if c not in self.categorical]
        if stray:
            raise ValueError(f"max_levels: column '{stray[0]}' is not listed under categorical; add it there")
        small = [c for c, n in self.max_levels.items() if n < 1]
        if small:
            raise ValueError(f"max_levels: {small[0]} needs at least 1 level")
        if self.graph is not None and self.output == "sequence":
            raise ValueError(
                "graph: its vectors join the aggregates; set output: aggregates or sequence_and_aggregates"
            )
        labels, reference = self.labels, self.reference_date
        _check_snapshots(self.snapshots, labels, reference)
        # A reference date after the cutoff would put the label window's events into the features.
        late = isinstance(labels, WindowLabels) and next_spec(labels) is not None and reference is not None
        if (
            late
            and isinstance(labels, WindowLabels)
            and reference is not None
            and labels.cutoff is not None
            and moment(reference) > moment(labels.cutoff)
        ):
            raise ValueError(
                "reference_date: after labels.cutoff, so the sequences would see the next basket; "
                "remove reference_date (it defaults to the cutoff)"
            )
        return self


def _check_snapshots(
    snapshots: SnapshotsConfig | None, labels: FileLabels | WindowLabels | None, reference: object
) -> None:
    """Snapshots need labels from the log with a fixed horizon; a single cutoff needs its date."""
    if snapshots is None:
        if isinstance(labels, WindowLabels) and labels.cutoff is None:
            raise ValueError(
                "labels.cutoff: required (the date labels start from), or data.snapshots for many cutoffs"
            )
        return
    if not isinstance(labels, WindowLabels):
        raise ValueError(
            "snapshots: each cutoff's labels come from the log; give labels: {horizon_days: 28, where: ...}"
        )
    if labels.cutoff is not None:
        raise ValueError("labels.cutoff: remove it; with data.snapshots every snapshot date is a cutoff")
    if labels.horizon_days is None:
        raise ValueError(
            "labels.horizon_days: snapshots need a fixed horizon (a number of days), not null/until"
        )
    if labels.next_category is not None:
        raise ValueError("labels.next_category: not available with snapshots; use one labels.cutoff")
    if reference is not None:
        raise ValueError(
            "reference_date: remove it; with snapshots each cutoff is its examples' reference date"
        )


def next_spec(labels: FileLabels | WindowLabels | None) -> NextCategory | None:
    """The next-category settings of window labels, if they ask for a multi-class label."""
    return labels.next_category if isinstance(labels, WindowLabels) else None
