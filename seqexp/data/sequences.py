"""Event log -> pre-padded 3-D sequence array, vectorized (no Python loop over customers).

Sort once, rank each event from the end of its customer's history, keep the last N, and
scatter them into ``(customers, N, features)``: the last event lands in step N-1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Sequences:
    X: np.ndarray  # (customers, length, features) float32
    mask: np.ndarray  # (customers, length) bool
    ids: np.ndarray  # (customers,)
    feature_names: list[str]
    onehot_groups: list[list[int]]
    events_per_customer: np.ndarray  # before truncation


def build_sequences(
    events: pd.DataFrame,
    *,
    id_col: str,
    time_col: str,
    length: int,
    numeric: list[str],
    categorical: dict[str, list[str]] | None = None,
) -> Sequences:
    """Keep the last ``length`` events per customer, pre-padded.

    ``numeric`` columns are copied as float32; each ``categorical`` column becomes a one-hot
    block over the given levels (a level outside the list is all-zeros, never an error).
    """
    categorical = categorical or {}
    all_codes, uniques = pd.factorize(events[id_col], sort=True)
    order = np.lexsort((_as_int(events[time_col]), all_codes))
    codes = all_codes[order]  # non-decreasing: each customer's events are contiguous
    counts = np.bincount(all_codes, minlength=len(uniques))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    position = np.arange(len(codes)) - starts[codes]
    from_end = counts[codes] - 1 - position
    keep = from_end < length
    rows = codes[keep]
    steps = (length - 1 - from_end[keep]).astype(np.int64)
    kept = order[keep]

    names = list(numeric)
    groups: list[list[int]] = []
    n_features = len(numeric) + sum(len(levels) for levels in categorical.values())
    X = np.zeros((len(uniques), length, n_features), dtype=np.float32)
    for j, column in enumerate(numeric):
        X[rows, steps, j] = events[column].to_numpy(dtype=np.float32)[kept]
    offset = len(numeric)
    for column, levels in categorical.items():
        level_codes = pd.Categorical(events[column].to_numpy()[kept], categories=levels).codes
        known = level_codes >= 0
        X[rows[known], steps[known], offset + level_codes[known]] = 1.0
        groups.append(list(range(offset, offset + len(levels))))
        names.extend(f"{column}={level}" for level in levels)
        offset += len(levels)
    mask = np.zeros((len(uniques), length), dtype=bool)
    mask[rows, steps] = True
    return Sequences(X, mask, np.asarray(uniques), names, groups, counts)


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
        return times.to_numpy().astype("datetime64[s]").astype(np.int64)
    return times.to_numpy(dtype=np.float64).astype(np.int64)
