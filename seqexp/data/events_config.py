"""The ``events`` source's config: the log's columns, and where labels come from (a file, a window
after a cutoff, or the category of the next basket in that window)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from seqexp.config.section import ConfigPath, Section
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
        late = isinstance(labels, WindowLabels) and next_spec(labels) is not None and reference is not None
        if (
            late
            and isinstance(labels, WindowLabels)
            and reference is not None
            and moment(reference) > moment(labels.cutoff)
        ):
            raise ValueError(
                "reference_date: after labels.cutoff, so the sequences would see the next basket; "
                "remove reference_date (it defaults to the cutoff)"
            )
        return self


def next_spec(labels: FileLabels | WindowLabels | None) -> NextCategory | None:
    """The next-category settings of window labels, if they ask for a multi-class label."""
    return labels.next_category if isinstance(labels, WindowLabels) else None


def moment(value: dt.date | dt.datetime) -> dt.datetime:
    """A date as its midnight, so that dates and datetimes compare (without importing pandas)."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
    return moment.replace(tzinfo=None)
