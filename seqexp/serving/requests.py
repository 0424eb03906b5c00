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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

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

    def expected(self, column: str) -> str:
        """What a value of ``column`` should be, in words (for error messages)."""
        if column == self.id:
            return "the customer's id (text or a number)"
        if column == self.time:
            return f"a timestamp ({self.time_format or 'e.g. 2025-01-31 or 2025-01-31T12:30:00'})"
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
    listed = [*schema["numeric"], *spec.get("numeric", []), *spec.get("flags", [])]
    numeric = [c for c in dict.fromkeys(listed) if c not in taken]
    categorical: dict[str, list[str]] = {}
    for column, levels in [*schema["categorical"].items(), *spec.get("levels", {}).items()]:
        if column not in taken:
            categorical[column] = list(dict.fromkeys([*categorical.get(column, []), *levels]))
    expressions = [
        *(schema.get("derive") or {}).values(),
        *([schema["where"]] if schema.get("where") else []),
    ]
    read = [c for e in expressions for c in check_syntax(e)]
    other = [c for c in dict.fromkeys(read) if c not in taken and c not in numeric and c not in categorical]
    return RawColumns("events", schema["id"], numeric, categorical, schema["time"], schema.get("time_format"),
                      other)  # fmt: skip


def _column_fields(columns: RawColumns) -> dict[str, Any]:
    """Pydantic fields (named c0, c1...; the column name is the alias) for a row or an event."""
    fields: dict[str, Any] = {}

    def add(column: str, kind: Any, description: str, **extra: Any) -> None:
        fields[f"c{len(fields)}"] = (kind, Field(alias=column, description=description, **extra))

    for column in columns.numeric:
        add(column, float | None, "A number; null: missing (imputed as in training).", allow_inf_nan=False)
    for column, levels in columns.categorical.items():
        shown = ", ".join(levels[:LEVELS_SHOWN]) + (", ..." if len(levels) > LEVELS_SHOWN else "")
        add(column, Scalar | None, f"A category seen in training: {shown}. Another value is counted and "
            "encoded as all zeros; null: the missing level.", examples=levels[:3])  # fmt: skip
    for column in columns.other:
        add(column, Scalar | None, "Read by the run's derive/where expressions.")
    return fields


IGNORE = ConfigDict(extra="ignore", populate_by_name=False)
FORBID = ConfigDict(extra="forbid")
EXPLAIN = Field(
    None, ge=0, description="Reason codes per customer: not available in this version (a 422 says so)."
)


def request_model(columns: RawColumns, *, max_customers: int) -> type[BaseModel]:
    """The ``POST /predict`` body for a run with these raw columns."""
    limit = Field(min_length=1, max_length=max_customers, description=f"1 to {max_customers} customers.")
    if columns.kind == "table":
        fields = _column_fields(columns)
        if columns.id:
            fields = {"cid": (str | int, Field(alias=columns.id, description="The customer's id.")), **fields}
        row = create_model("Customer", __config__=IGNORE, **fields)
        return create_model("PredictRequest", __config__=FORBID, customers=(list[row], limit),
                            explain=(int | None, EXPLAIN))  # fmt: skip
    assert columns.id is not None and columns.time is not None
    when = columns.time_format or "ISO 8601, e.g. 2025-01-31 or 2025-01-31T12:30:00"
    event = create_model(
        "Event", __config__=IGNORE,
        tid=(str, Field(alias=columns.time, description=f"When the event happened ({when}).")),
        **_column_fields(columns),
    )  # fmt: skip
    customer = create_model(
        "Customer", __config__=IGNORE,
        cid=(str | int, Field(alias=columns.id, description="The customer's id.")),
        events=(list[event], Field(min_length=1, description="The customer's events, in any order.")),
    )  # fmt: skip
    as_of = Field(None, description="Build histories from the events strictly before this date (default: "
                  "the day after the newest event in the request).", examples=["2025-02-01"])  # fmt: skip
    return create_model("PredictRequest", __config__=FORBID, customers=(list[customer], limit),
                        as_of=(str | None, as_of), explain=(int | None, EXPLAIN))  # fmt: skip


def frame_of(request: BaseModel, columns: RawColumns) -> Any:
    """The request's customers as the DataFrame a file of them would be read as: one row per customer
    (a table) or per event (a log, with the customer's id on each event)."""
    import pandas as pd

    customers = request.customers  # type: ignore[attr-defined]
    names = _names(columns)
    if columns.kind == "table":
        rows = customers
        data: dict[str, list] = {}
    else:
        rows = [event for customer in customers for event in customer.events]
        data = {columns.id: [c.cid for c in customers for _ in c.events]}  # type: ignore[dict-item]
    for attribute, column in names:
        data[column] = [getattr(row, attribute) for row in rows]
    return pd.DataFrame(data)


def _names(columns: RawColumns) -> list[tuple[str, str]]:
    """(pydantic attribute, column) pairs of a row (tables) or an event (logs), in field order."""
    ordered = [*columns.numeric, *columns.categorical, *columns.other]
    pairs = [(f"c{i}", column) for i, column in enumerate(ordered)]
    if columns.kind == "table":
        return ([("cid", columns.id)] if columns.id else []) + pairs
    assert columns.time is not None
    return [("tid", columns.time), *pairs]


def requested_ids(request: BaseModel, columns: RawColumns) -> list[Any]:
    """The customers' ids in request order (positions for a table without an id column)."""
    customers = request.customers  # type: ignore[attr-defined]
    if columns.kind == "table" and not columns.id:
        return list(range(len(customers)))
    return [c.cid for c in customers]
