"""Event log -> pre-padded 3-D sequence array, vectorized (no Python loop over customers).

Sort once, rank each event from the end of its customer's history, keep the last N, and
scatter them into ``(customers, N, features)``: the last event lands in step N-1. Derived
per-step features (days since the previous event, days before the reference date, day of week)
and per-customer aggregates come from the same sorted arrays, without a second sort.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from seqexp.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # imported on first use: light commands never pay for it


@dataclass(frozen=True)
class Sequences:
    X: np.ndarray  # (customers, length, features) float32
    mask: np.ndarray  # (customers, length) bool
    ids: np.ndarray  # (customers,)
    feature_names: list[str]
    onehot_groups: list[list[int]]
    events_per_customer: np.ndarray  # before truncation
    aggregates: np.ndarray | None = None  # (customers, k) float32, over ALL events (not only the last N)
    aggregate_names: list[str] = field(default_factory=list)


DERIVED = ("days_since_previous", "days_before_reference", "day_of_week")
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
DAY = 86400.0


def build_sequences(
    events: pd.DataFrame,
    *,
    id_col: str,
    time_col: str,
    length: int,
    numeric: list[str],
    categorical: dict[str, list[str]] | None = None,
    derived: tuple[str, ...] | list[str] = (),
    reference: np.datetime64 | None = None,
    log_days: bool = True,
    aggregates: bool = False,
) -> Sequences:
    """Keep the last ``length`` events per customer, pre-padded.

    ``numeric`` columns are copied as float32 (NaN stays NaN, for imputation on train); each
    ``categorical`` column becomes a one-hot block over the given levels (a level outside the list
    is all-zeros, never an error). ``derived`` adds per-step features from ``DERIVED``: day counts
    (``log1p`` of them when ``log_days``) and a day-of-week one-hot block (Monday first).
    ``aggregates`` adds per customer, over all its events: count, recency and tenure in days
    before ``reference``, and the total and mean of each numeric column.
    """
    categorical = categorical or {}
    unknown = [d for d in derived if d not in DERIVED]
    if unknown:
        raise ValueError(f"unknown derived feature(s) {unknown}; known: {DERIVED}")
    if reference is None and ("days_before_reference" in derived or aggregates):
        raise ValueError("days_before_reference and aggregates need a reference date")
    all_codes, uniques = customer_codes(events[id_col])
    times_all = _as_int(events[time_col])
    order = sort_order(all_codes, times_all, len(uniques))
    codes = all_codes[order]  # non-decreasing: each customer's events are contiguous
    del all_codes  # keep peak memory low on large logs
    n = len(codes)
    counts = np.bincount(codes, minlength=len(uniques))
    starts = np.cumsum(counts) - counts
    from_end = (starts + counts)[codes]  # one past the customer's last event...
    from_end -= np.arange(1, n + 1, dtype=from_end.dtype)  # ...minus one past this event
    keep = from_end < length
    # Flat position of each kept event in (customers * length): rows are sorted, so the
    # scatters below write memory in order.
    slot = codes[keep] * length
    slot += (length - 1) - from_end[keep]
    del from_end
    kept = order[keep]
    times = times_all[order] if (derived or aggregates) else None
    del times_all

    # Seconds since the epoch (the reference is a datetime64 of any unit).
    ref = None if reference is None else int(reference.astype("datetime64[s]").astype(np.int64))
    day_columns = [d for d in derived if d != "day_of_week"]
    prefix = "log1p_" if log_days else ""

    names = list(numeric) + [prefix + d for d in day_columns]
    groups: list[list[int]] = []
    if "day_of_week" in derived:
        categorical = {**categorical, "day_of_week": WEEKDAYS}
    n_features = len(names) + sum(len(levels) for levels in categorical.values())
    X = np.zeros((len(uniques), length, n_features), dtype=np.float32)
    flat = X.reshape(len(uniques) * length, n_features)  # a view
    if numeric:
        # One gather of contiguous rows (one cache miss per event, not one per column).
        columns = np.empty((n, len(numeric)), dtype=np.float32)
        for j, column in enumerate(numeric):
            columns[:, j] = events[column].to_numpy()
        flat[slot, : len(numeric)] = columns[kept]
        del columns
    for j, name in enumerate(day_columns, start=len(numeric)):
        assert times is not None  # read above whenever derived columns are asked for
        if name == "days_since_previous":
            days = np.diff(times, prepend=times[:1]) / DAY
            days[starts] = 0.0  # a customer's first event has no previous one
        else:
            assert ref is not None, "days_before_reference needs a reference date"
            days = (ref - times) / DAY
        days = days[keep]
        flat[slot, j] = np.log1p(np.maximum(days, 0.0)) if log_days else days
    offset = len(names)
    for column, levels in categorical.items():
        if column == "day_of_week" and column not in events:
            assert times is not None
            level_codes = ((times[keep] // 86400 + 3) % 7).astype(np.int64)  # 1970-01-01 was a Thursday
        elif isinstance(events[column].dtype, pd.CategoricalDtype):  # codes, no per-row strings
            values = events[column]
            if list(values.cat.categories) != list(levels):
                values = values.cat.set_categories(levels)
            level_codes = values.cat.codes.to_numpy()[kept]
        else:
            level_codes = pd.Categorical(events[column].to_numpy()[kept], categories=levels).codes
        known = level_codes >= 0
        flat[slot[known], offset + level_codes[known]] = 1.0
        groups.append(list(range(offset, offset + len(levels))))
        names.extend(f"{column}={level}" for level in levels)
        offset += len(levels)
    mask = np.zeros((len(uniques), length), dtype=bool)
    mask.reshape(-1)[slot] = True
    agg: np.ndarray | None = None
    agg_names: list[str] = []
    if aggregates:
        assert times is not None and ref is not None  # both checked on entry when aggregates are asked
        agg, agg_names = _aggregates(events, numeric, order, codes, counts, starts, times, ref)
    return Sequences(X, mask, np.asarray(uniques), names, groups, counts, agg, agg_names)


def _aggregates(
    events: pd.DataFrame,
    numeric: list[str],
    order: np.ndarray,
    codes: np.ndarray,
    counts: np.ndarray,
    starts: np.ndarray,
    times: np.ndarray,
    ref: int,
) -> tuple[np.ndarray, list[str]]:
    """Per customer: event count, days since the last and the first event, total and mean of each
    numeric column (NaN values skipped; a customer with none gets NaN, imputed later)."""
    n = len(counts)
    last = times[starts + counts - 1]
    first = times[starts]
    columns = [counts.astype(np.float64), (ref - last) / DAY, (ref - first) / DAY]
    names = ["count", "recency_days", "tenure_days"]
    for column in numeric:
        values = events[column].to_numpy(dtype=np.float64)[order]
        present = ~np.isnan(values)
        total = np.bincount(codes, weights=np.where(present, values, 0.0), minlength=n)
        seen = np.bincount(codes, weights=present.astype(np.float64), minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(seen > 0, total / seen, np.nan)
        columns += [np.where(seen > 0, total, np.nan), mean]
        names += [f"{column}_total", f"{column}_mean"]
    return np.column_stack(columns).astype(np.float32), names


def customer_codes(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Customer index of each event (0..customers-1, in sorted id order) and the sorted ids.

    Integer ids in a compact range take an O(n) path (offset + bincount); others go through
    ``pd.factorize`` and a sort of the (few) distinct ids.
    """
    values = ids.to_numpy()
    if np.issubdtype(values.dtype, np.integer) and len(values):
        low, high = int(values.min()), int(values.max())
        if high - low <= 4 * len(values) + 1024:
            offset = values - low
            present = np.bincount(offset, minlength=high - low + 1) > 0
            remap = np.cumsum(present) - 1
            return remap[offset], np.flatnonzero(present) + low
    codes, uniques = pd.factorize(ids, sort=False)
    rank = np.argsort(np.asarray(uniques), kind="stable")
    inverse = np.empty_like(rank)
    inverse[rank] = np.arange(len(rank))
    return inverse[codes], np.asarray(uniques)[rank]


def sort_order(codes: np.ndarray, times: np.ndarray, customers: int) -> np.ndarray:
    """``np.lexsort((times, codes))``: events grouped by customer, by time within, ties in input order.

    Done as two plain sorts of packed int64 keys (value in the high bits, position in the low
    bits), which numpy sorts several times faster than ``lexsort`` or ``argsort`` on large logs.
    Falls back to ``lexsort`` when the values do not fit beside the positions.
    """
    n = len(codes)
    bits = max(1, (n - 1).bit_length())
    span = int(times.max() - times.min()) if n else 0
    if n == 0 or span.bit_length() + bits > 62 or max(customers, 1).bit_length() + bits > 62:
        return np.lexsort((times, codes))
    mask = (1 << bits) - 1
    index = np.arange(n, dtype=np.int64)
    packed = times - times.min()
    packed <<= bits
    packed |= index
    packed.sort()
    by_time = np.bitwise_and(packed, mask, out=packed)  # event indices in time order (stable)
    key = codes[by_time].astype(np.int64)
    key <<= bits
    key |= index
    del index
    key.sort()
    key &= mask  # positions in time order, now grouped by customer
    return by_time[key]


def days_since_previous(events: pd.DataFrame, *, id_col: str, time_col: str) -> np.ndarray:
    """Days between each event and the customer's previous one (0 for the first), in input order."""
    all_codes, _ = pd.factorize(events[id_col])
    times_all = _as_int(events[time_col])
    order = np.lexsort((times_all, all_codes))
    ids = all_codes[order]
    times = times_all[order]
    gaps = np.diff(times, prepend=times[:1]) / 86400.0
    first = np.ones(len(ids), dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    gaps[first] = 0.0
    result = np.empty(len(ids), dtype=np.float64)
    result[order] = gaps
    return result


def _as_int(times: pd.Series) -> np.ndarray:
    """Timestamps as int64 seconds (numbers pass through), for sorting and differences."""
    if pd.api.types.is_datetime64_any_dtype(times):
        return times.to_numpy().astype("datetime64[s]").view(np.int64)
    return times.to_numpy(dtype=np.float64).astype(np.int64)
