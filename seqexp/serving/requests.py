"""The request model of ``POST /predict``, generated from a run's ``data_schema.json``: the raw columns
the run's data config reads, each typed and described, so the OpenAPI schema says what to send.

- A **table** run takes ``{"customers": [row, ...]}``, a row holding the table's columns: the id
  column (when the run has one), every numeric column (a number, or ``null`` for a missing value,
  imputed as at training) and every categorical column (a value; ``null`` is the missing level; a
  value never seen in training is counted and encoded as all zeros, as ``seqexp predict`` does).
- An **events** run takes ``{"customers": [{ID: ..., "events": [event, ...]}, ...], "as_of": DATE}``,
  an event holding the log's time column, its numeric and categorical columns and the columns the
  run's ``derive``/``where`` expressions read; histories are built strictly before ``as_of``
  (default: the day after the newest event in the request, as ``seqexp predict`` does).

Every column is required (``null`` where the value is missing): a misspelt key is then a 422 naming
the column, not a silent missing value. Other keys of a row or an event are ignored, as the other
columns of a file are; other keys of the request are refused.

The model is a ``TypedDict`` validated straight from the JSON bytes (pydantic-core, no model instance
per row): 1,000 customers of 18 events each validate in about 25 ms, against 180 ms as model classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, NotRequired, cast

from pydantic import ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict  # pydantic needs typing_extensions' on Python < 3.12

from seqexp.data.expressions import check_syntax

Scalar = str | int | float | bool
LEVELS_SHOWN = 30  # category levels listed in a field's description


@dataclass(frozen=True)
class RawColumns:
    """The raw columns a run's data source reads, from its saved schema."""

    kind: str  # "table" (one row per customer) or "events" (rows of a log)
    id: str | None
    numeric: list[str]
    categorical: dict[str, list[str]]  # column -> the levels seen in training
    time: str | None = None
    time_format: str | None = None
    other: list[str] = field(default_factory=list)  # read by derive/where expressions, any value
    where: str | None = None  # the run's event filter

    def expected(self, column: str) -> str:
        """What a value of ``column`` should be, in words (for error messages)."""
        if column == self.id:
            return "the customer's id (text or a number)"
        if column == self.time:
            if self.time_format:
                return f"a timestamp in the run's format {self.time_format!r}"
            return "a timestamp such as 2025-01-31 or 2025-01-31T12:30:00"
        if column in self.numeric:
            return "a number, or null for a missing value"
        if column in self.categorical:
            return f"a category such as {', '.join(map(repr, self.categorical[column][:5]))}, or null"
        if column in self.other:
            return "a value the run's expressions read (number, text or true/false), or null"
        return ""

    def describe(self) -> dict[str, Any]:
        """The columns as ``GET /metadata`` shows them."""
        out: dict[str, Any] = {"kind": self.kind, "id": self.id, "numeric": self.numeric,
                               "categorical": self.categorical}  # fmt: skip
        if self.kind == "events":
            out.update(time=self.time, time_format=self.time_format, expression_columns=self.other)
        return out


def raw_columns(schema: dict[str, Any]) -> RawColumns:
    """The raw columns of a ``table`` or ``events`` schema (``ValueError`` for another source)."""
    source = schema.get("source")
    if source == "table":
        return RawColumns("table", schema.get("id"), list(schema["numeric"]), dict(schema["categorical"]))
    if source != "events":
        raise ValueError(f"no raw columns for a '{source}' schema")
    derived = set(schema.get("derive") or {})
    taken = {schema["id"], schema["time"], *derived}
    spec = schema.get("aggregates") or {}
    graph = schema.get("graph") or {}  # data.graph: its item column (any value) and weight column
    weight = [graph["weight"]] if graph.get("weight", "count") != "count" else []
    listed = [*schema["numeric"], *spec.get("numeric", []), *spec.get("flags", []), *weight]
    numeric = [c for c in dict.fromkeys(listed) if c not in taken]
    categorical: dict[str, list[str]] = {}
    for column, levels in [*schema["categorical"].items(), *spec.get("levels", {}).items()]:
        if column not in taken:
            categorical[column] = list(dict.fromkeys([*categorical.get(column, []), *levels]))
    expressions = [
        *(schema.get("derive") or {}).values(),
        *([schema["where"]] if schema.get("where") else []),
    ]
    read = [c for e in expressions for c in check_syntax(e)] + ([graph["item"]] if graph else [])
    other = [c for c in dict.fromkeys(read) if c not in taken and c not in numeric and c not in categorical]
    return RawColumns("events", schema["id"], numeric, categorical, schema["time"], schema.get("time_format"),
                      other, schema.get("where"))  # fmt: skip


def _columns_of(columns: RawColumns) -> dict[str, Any]:
    """Typed, described fields (keyed by column name) of a row (tables) or an event (logs)."""
    fields: dict[str, Any] = {}
    for column in columns.numeric:
        number = Field(description="A number; null: missing (imputed as in training).", allow_inf_nan=False)
        fields[column] = Annotated[float | None, number]
    for column, levels in columns.categorical.items():
        shown = ", ".join(levels[:LEVELS_SHOWN]) + (", ..." if len(levels) > LEVELS_SHOWN else "")
        fields[column] = Annotated[Scalar | None, Field(
            description=f"A category seen in training: {shown}. Another value is counted and encoded as "
            "all zeros; null: the missing level.", examples=levels[:3])]  # fmt: skip
    for column in columns.other:
        fields[column] = Annotated[
            Scalar | None, Field(description="Read by the run's derive/where expressions.")
        ]
    return fields


def _many(item: Any, constraints: Any) -> Any:
    """``Annotated[list[item], constraints]`` for an item type made at run time."""
    return Annotated.__class_getitem__((list.__class_getitem__(item), constraints))  # type: ignore[attr-defined]


def _typed_dict(name: str, fields: dict[str, Any], config: ConfigDict) -> Any:
    made = cast(Any, TypedDict)(name, fields)
    made.__pydantic_config__ = config
    return made


IGNORE = ConfigDict(extra="ignore")  # other keys of a row or an event: ignored, as a file's other columns
FORBID = ConfigDict(extra="forbid")  # other keys of the request: refused (a misspelt as_of says so)
CUSTOMER_ID = Field(description="The customer's id.")


def request_type(columns: RawColumns, *, max_customers: int) -> Any:
    """The ``POST /predict`` body for a run with these raw columns, as a pydantic-validated TypedDict."""
    limit = Field(min_length=1, max_length=max_customers, description=f"1 to {max_customers} customers.")
    reasons = Field(
        ge=0, le=20, description="Each customer's top K reasons (0 or absent: none), as predict --explain K."
    )
    explain = NotRequired[Annotated[int | None, reasons]]
    if columns.kind == "table":
        fields = _columns_of(columns)
        if columns.id:
            fields = {columns.id: Annotated[str | int, CUSTOMER_ID], **fields}
        row = _typed_dict("Customer", fields, IGNORE)
        return _typed_dict("PredictRequest", {"customers": _many(row, limit), "explain": explain}, FORBID)
    assert columns.id is not None and columns.time is not None
    when = columns.time_format or "ISO 8601, e.g. 2025-01-31 or 2025-01-31T12:30:00"
    moment = Annotated[str, Field(description=f"When the event happened ({when}).")]
    event = _typed_dict("Event", {columns.time: moment, **_columns_of(columns)}, IGNORE)
    events = _many(event, Field(min_length=1, description="The customer's events, in any order."))
    customer = _typed_dict(
        "Customer", {columns.id: Annotated[str | int, CUSTOMER_ID], "events": events}, IGNORE
    )
    as_of = NotRequired[Annotated[str | None, Field(
        description="Build histories from the events strictly before this date (default: the day after the "
        "newest event in the request).", examples=["2025-02-01"])]]  # fmt: skip
    fields = {"customers": _many(customer, limit), "as_of": as_of, "explain": explain}
    return _typed_dict("PredictRequest", fields, FORBID)


def validator(columns: RawColumns, *, max_customers: int) -> TypeAdapter:
    """Validates a request's JSON bytes into plain dicts (``pydantic.ValidationError`` when bad)."""
    return TypeAdapter(request_type(columns, max_customers=max_customers))


def frame_of(request: dict[str, Any], columns: RawColumns) -> Any:
    """The request's customers as the DataFrame a file of them would be read as: one row per customer
    (a table) or per event (a log, with the customer's id on each event)."""
    import pandas as pd

    customers = request["customers"]
    names = [*columns.numeric, *columns.categorical, *columns.other]
    if columns.kind == "table":
        names = [columns.id, *names] if columns.id else names
        return pd.DataFrame({name: [row[name] for row in customers] for name in names}, columns=names)
    assert columns.id is not None and columns.time is not None
    events = [event for customer in customers for event in customer["events"]]
    data = {columns.id: [c[columns.id] for c in customers for _ in c["events"]]}
    data.update({name: [event[name] for event in events] for name in [columns.time, *names]})
    return pd.DataFrame(data)


def requested_ids(request: dict[str, Any], columns: RawColumns) -> list[Any]:
    """The customers' ids in request order (positions for a table without an id column)."""
    customers = request["customers"]
    if columns.kind == "table" and not columns.id:
        return list(range(len(customers)))
    return [c[columns.id] for c in customers]
