"""Point-in-time aggregates: one vector per customer from ALL its events before the reference date.

Vectorized like the sequence builder, with no loop over customers: one sort of (customer, time)
(``sort_order``). The windows (and, for trends, twice each) cut every customer's history into
disjoint age bands: band 0 is the newest window, band j what window j adds to window j - 1, the last
band what is older than every window. Events are in time order within a customer, so each (customer,
band) is one contiguous run of the sorted arrays, and ONE segment reduction (``np.add.reduceat``,
``np.maximum.reduceat``...) per statistic gives every band; a cumulative sum (or maximum) across the
bands then gives every window and all history, exactly. Loops run over statistics and columns only.

The features, in this order (``W`` a window, ``c`` a numeric column, ``f`` a flag, ``k`` a level):
``count, active_days, recency_days, tenure_days, events_per_day``; ``count_Wd`` (and
``count_trend_Wd``); ``gap_days_mean, gap_days_std, gap_days_last``; ``c_<stat>`` over all history and
``c_<stat>_Wd`` per window (and ``c_sum_trend_Wd``); ``days_since_last_f``; ``col=k_count``. Values
are raw (never log1p'd before aggregating); ``spec["log1p"]`` applies ``sign(x) log(1 + |x|)`` after.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from seqexp.data.readers import MISSING_LEVEL, OTHER_CLASS
from seqexp.data.sequences import DAY, _as_int, customer_codes, sort_order
from seqexp.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # imported on first use: light commands never pay for it

BASE = ["count", "active_days", "recency_days", "tenure_days", "events_per_day"]
GAPS = ["gap_days_mean", "gap_days_std", "gap_days_last"]


@dataclass(frozen=True)
class Aggregates:
    X: np.ndarray  # (customers, features) float32
    ids: np.ndarray  # (customers,) sorted, as the sequence builder orders them
    names: list[str]
    counts: np.ndarray  # events per customer


def window_label(days: float) -> str:
    return f"{days:g}d"


def _distinct(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes (-1: missing) and the text of each distinct value, as one-hot blocks name levels; the
    per-row work is one factorize, only the distinct values become text."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, pd.Series(np.asarray(uniques, dtype=object), dtype=object).astype(str).tolist()


def level_index(values: pd.Series, levels: list[str]) -> np.ndarray:
    """Index of each value's level in ``levels`` (missing values are ``(missing)``); a value outside
    them is the last level, ``(other)``."""
    codes, text = _distinct(values)
    position = {level: i for i, level in enumerate(levels)}
    other = position[OTHER_CLASS]
    mapping = np.array([position.get(v, other) for v in text] + [position.get(MISSING_LEVEL, other)])
    return mapping[codes]  # code -1 (missing) picks the appended last entry


def learn_top_levels(values: pd.Series, k: int) -> list[str]:
    """The ``k`` levels with the most events (ties alphabetical), sorted as text, then ``(other)``."""
    codes, text = _distinct(values)
    counts = np.bincount(codes + 1, minlength=len(text) + 1)  # slot 0: missing values
    seen = [(int(n), level) for n, level in zip(counts, [MISSING_LEVEL, *text], strict=True) if n]
    ranked = [level for _, level in sorted(seen, key=lambda pair: (-pair[0], pair[1]))]
    return sorted(ranked[:k]) + [OTHER_CLASS]


def feature_names(spec: dict[str, Any]) -> list[str]:
    """The names ``build_aggregates`` gives its columns, from the spec alone (for the schema)."""
    windows = [window_label(w) for w in spec["windows_days"]]
    names = list(BASE)
    for w in windows:
        names += [f"count_{w}"] + ([f"count_trend_{w}"] if spec["trend"] else [])
    names += GAPS if spec["gaps"] != "none" else []
    for column in spec["numeric"]:
        names += [f"{column}_{stat}" for stat in spec["stats"]]
        for w in windows:
            names += [f"{column}_{stat}_{w}" for stat in spec["stats"]]
            names += [f"{column}_sum_trend_{w}"] if spec["trend"] else []
    names += [f"days_since_last_{flag}" for flag in spec["flags"]]
    for column, levels in spec["levels"].items():
        names += [f"{column}={level}_count" for level in levels]
    if spec.get("log1p"):
        names = [n if "_trend_" in n else f"log1p_{n}" for n in names]
    return names


def _trend(last: np.ndarray, previous: np.ndarray) -> np.ndarray:
    scale = np.abs(last)
    scale += np.abs(previous)
    change = last - previous
    return np.divide(change, scale, out=np.zeros_like(change), where=scale > 0)


class _Bands:
    """The (customer, age band) runs of the sorted events, and reductions over them. Tables are
    (bands + 1, customers): row j is window ``spans[j]``, the last row all history."""

    def __init__(self, starts: np.ndarray, times: np.ndarray, ref: int, spans: list[float]):
        self.spans = sorted(set(spans))  # days, ascending; the last band is "older than all of them"
        self.customers, self.n = len(starts), len(times)
        # Window W holds ref - W days <= t: band = how many windows' lower bounds lie after t.
        bounds = np.sort(ref - np.asarray(self.spans, dtype=np.float64) * DAY)
        band = (len(bounds) - np.searchsorted(bounds, times, side="right")).astype(np.int8)
        change = np.ones(self.n, dtype=bool)
        np.not_equal(band[1:], band[:-1], out=change[1:])
        change[starts] = True
        self.run_start = np.flatnonzero(change)
        change[:] = False
        change[starts] = True  # now: a customer's first event
        self.run_code = np.cumsum(change[self.run_start], dtype=np.int64) - 1
        del change
        self.run_band = band[self.run_start]
        del band
        lengths = np.diff(self.run_start, append=self.n).astype(np.float64)
        self.spare: list[np.ndarray] = []  # tables handed back, reused (no fresh pages per column)
        self.count = self.table(np.add, lengths, 0.0)

    def table(self, ufunc: np.ufunc, values: np.ndarray, identity: float) -> np.ndarray:
        """Per-run ``values`` -> (bands + 1, customers), cumulated from the newest band."""
        if self.spare:
            grid = self.spare.pop()
            grid.fill(identity)
        else:
            grid = np.full((len(self.spans) + 1, self.customers), identity, dtype=np.float64)
        grid[self.run_band, self.run_code] = values
        for j in range(1, len(grid)):  # row by row: contiguous, faster than accumulate(axis=0)
            ufunc(grid[j - 1], grid[j], out=grid[j])
        return grid

    def reduce(self, ufunc: np.ufunc, values: np.ndarray, identity: float) -> np.ndarray:
        return self.table(ufunc, ufunc.reduceat(values, self.run_start), identity)

    def row(self, days: float | None) -> int:
        return len(self.spans) if days is None else self.spans.index(days)


class _Columns:
    """The output matrix, filled in ``feature_names`` order through a small column-major block (a
    column written straight into the row-major matrix would touch one cache line per customer)."""

    BLOCK = 8

    def __init__(self, rows: int, names: list[str]):
        self.X = np.empty((rows, len(names)), dtype=np.float32)
        self.block = np.empty((self.BLOCK, rows), dtype=np.float32)
        self.names, self.at, self.held = names, 0, 0

    def put(self, *columns: np.ndarray) -> None:
        for column in columns:
            self.block[self.held] = column
            self.held += 1
            if self.held == self.BLOCK:
                self.flush()

    def flush(self) -> None:
        self.X[:, self.at : self.at + self.held] = self.block[: self.held].T
        self.at += self.held
        self.held = 0


def _gaps(moments: np.ndarray, counts: np.ndarray, unit: float) -> list[np.ndarray]:
    """Mean, std and last of the gaps between consecutive ``moments`` (int64, in ``unit`` per day)
    of each customer; ``counts``: each customer's number of moments (NaN for fewer than two)."""
    ends = np.cumsum(counts)
    starts = ends - counts
    gap = np.empty(len(moments), dtype=np.float64)
    np.subtract(moments[1:], moments[:-1], out=gap[1:])
    gap[starts] = 0.0  # a customer's first moment has no previous one
    gap *= gap
    square = np.add.reduceat(gap, starts)
    del gap
    many = counts >= 2
    pairs = np.where(many, counts - 1, 1)
    last_two = moments[ends - 1] - moments[np.maximum(ends - 2, 0)]
    mean = (moments[ends - 1] - moments[starts]) / pairs
    std = np.sqrt(np.maximum(square / pairs - mean * mean, 0.0))
    return [np.where(many, values / unit, np.nan) for values in (mean, std, last_two)]


def build_aggregates(
    events: pd.DataFrame, *, id_col: str, time_col: str, reference: np.datetime64, spec: dict[str, Any]
) -> Aggregates:
    """The aggregate vector of every customer in ``events`` (all strictly before ``reference``).

    ``spec``: ``numeric`` (columns summarised), ``stats`` (of sum, mean, max, min, std),
    ``windows_days``, ``flags`` (columns whose value > 0 marks an event), ``levels`` ({column: levels,
    ``(other)`` last}), ``gaps`` (events, days or none), ``trend`` and ``log1p`` (bools). A window
    without events has count and sum 0 and NaN mean/max/min/std (imputed later); so does a column
    whose values in it are all missing. Missing values are skipped by every statistic."""
    codes, ids = customer_codes(events[id_col])
    moments = _as_int(events[time_col])
    ref = int(reference.astype("datetime64[s]").astype(np.int64))
    if len(moments) and moments.max() >= ref:
        raise ValueError("build_aggregates reads events before the reference date only")
    out = _Columns(len(ids), feature_names(spec))
    counts = np.bincount(codes, minlength=len(ids))
    level_counts = []
    for column, levels in spec["levels"].items():  # order-free: before the sort, while codes are here
        flat = codes * len(levels) + level_index(events[column], levels)
        level_counts.append(
            np.bincount(flat, minlength=len(ids) * len(levels)).reshape(len(ids), len(levels))
        )
        del flat
    order = sort_order(codes, moments, len(ids))
    del codes
    times = moments[order]
    del moments
    ends = np.cumsum(counts)
    starts = ends - counts
    windows = list(spec["windows_days"])
    bands = _Bands(starts, times, ref, windows + ([2 * w for w in windows] if spec["trend"] else []))

    day = times // 86400
    new_day = np.ones(len(times), dtype=bool)
    np.not_equal(day[1:], day[:-1], out=new_day[1:])
    new_day[starts] = True
    active = np.add.reduceat(new_day, starts, dtype=np.int64)
    recency = (ref - times[ends - 1]) / DAY
    tenure = (ref - times[starts]) / DAY
    out.put(counts, active, recency, tenure, counts / np.maximum(tenure, 1.0))
    for w in windows:
        within = bands.count[bands.row(w)]
        out.put(within)
        if spec["trend"]:
            out.put(_trend(within, bands.count[bands.row(2 * w)] - within))
    if spec["gaps"] == "events":
        out.put(*_gaps(times, counts, DAY))
    elif spec["gaps"] == "days":
        out.put(*_gaps(day[new_day], active, 1.0))
    del day, new_day

    since: dict[str, np.ndarray] = {}
    for column in dict.fromkeys([*spec["numeric"], *spec["flags"]]):  # each column gathered once
        values = events[column].to_numpy(dtype=np.float64)[order]
        if column in spec["numeric"]:
            _column_stats(out, bands, values, spec)
        if column in spec["flags"]:
            marked = np.flatnonzero(values > 0)
            last = np.searchsorted(marked, ends, side="left") - 1  # the last marked event before the end
            found = last >= 0
            found[found] = marked[last[found]] >= starts[found]
            days = (ref - times[marked[np.maximum(last, 0)]]) / DAY if len(marked) else tenure
            since[column] = np.where(found, days, tenure)  # never: at least the tenure
        del values
    out.put(*(since[flag] for flag in spec["flags"]))
    for table in level_counts:
        out.put(*table.T)
    out.flush()
    assert out.at == len(out.names), "feature_names and the builder disagree"
    X = out.X
    if spec.get("log1p"):
        for j, name in enumerate(out.names):
            if "_trend_" not in name:
                X[:, j] = np.sign(X[:, j]) * np.log1p(np.abs(X[:, j]))
    return Aggregates(X, np.asarray(ids), out.names, counts)


def _column_stats(out: _Columns, bands: _Bands, values: np.ndarray, spec: dict[str, Any]) -> None:
    """Each statistic over all history, then over each window (and the sum's trend), for one column
    (its values in the sorted order; missing values skipped)."""
    stats = spec["stats"]
    present = ~np.isnan(values)
    missing = not present.all()
    seen = bands.reduce(np.add, present.astype(np.float64), 0.0) if missing else bands.count
    zeroed = np.where(present, values, 0.0) if missing else values
    tables = {"sum": bands.reduce(np.add, zeroed, 0.0)}  # of the values present (0 without any)
    for stat, ufunc, identity in (("max", np.maximum, -np.inf), ("min", np.minimum, np.inf)):
        if stat in stats:
            tables[stat] = bands.reduce(
                ufunc, np.where(present, values, identity) if missing else values, identity
            )
    if "std" in stats:
        tables["squares"] = bands.reduce(np.add, zeroed * zeroed, 0.0)
    del present, zeroed
    for w in [None, *spec["windows_days"]]:
        j = bands.row(w)
        has = seen[j] > 0
        total = tables["sum"][j]
        mean = np.divide(total, seen[j], out=np.full_like(total, np.nan), where=has)
        columns = {"sum": np.where(has | (bands.count[j] == 0), total, np.nan), "mean": mean}
        for stat in ("max", "min"):
            if stat in stats:
                columns[stat] = np.where(has, tables[stat][j], np.nan)
        if "std" in stats:
            square = np.divide(tables["squares"][j], seen[j], out=np.full_like(total, np.nan), where=has)
            columns["std"] = np.sqrt(np.maximum(square - mean * mean, 0.0))
        out.put(*(columns[stat] for stat in stats))
        if w is not None and spec["trend"]:
            out.put(_trend(total, tables["sum"][bands.row(2 * w)] - total))
    bands.spare += [*tables.values(), *([seen] if missing else [])]
