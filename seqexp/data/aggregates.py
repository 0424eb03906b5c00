"""Point-in-time aggregates: one vector per customer from ALL its events before the reference date.

Vectorized like the sequence builder, with no loop over customers: one sort of (customer, time)
(``sort_order``), then every statistic is a segment reduction (``np.add.reduceat`` and friends) over
each customer's run of events. Within a run events are in time order, so a time window (the last W
days) is a suffix of it: its start is the run's end minus the events in the window, and the window's
statistics are reductions over ``[start, end)``. Loops run over windows and columns only.

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
    scale = np.abs(last) + np.abs(previous)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, (last - previous) / np.where(scale > 0, scale, 1.0), 0.0)


class _Runs:
    """Each customer's run of events in the sorted arrays: ``[starts, ends)``, and window suffixes."""

    def __init__(self, counts: np.ndarray, times: np.ndarray, ref: int):
        self.counts = counts
        self.ends = np.cumsum(counts)
        self.starts = self.ends - counts
        self.times, self.ref, self.n = times, ref, len(times)
        self._within: dict[float, np.ndarray] = {}

    def within(self, days: float) -> np.ndarray:
        """Events per customer in the last ``days`` days (``ref - days <= t < ref``)."""
        if days not in self._within:
            recent = self.times >= self.ref - days * DAY
            self._within[days] = np.add.reduceat(recent, self.starts, dtype=np.int64)
        return self._within[days]

    def reduce(self, ufunc: np.ufunc, buffer: np.ndarray, days: float | None) -> np.ndarray:
        """``ufunc`` over each customer's events (``days``: those in the window only); ``buffer`` has
        one element beyond the events, the ufunc's identity, which a customer without an event in the
        window gets (reduceat would give the element at its bound)."""
        if days is None:
            return ufunc.reduceat(buffer[: self.n], self.starts)
        within = self.within(days)
        bounds = np.empty(2 * len(self.counts), dtype=np.int64)
        bounds[0::2] = self.ends - within
        bounds[1::2] = self.ends
        out = ufunc.reduceat(buffer, bounds)[0::2]
        out[within == 0] = buffer[-1]
        return out


def _gaps(runs: _Runs, moments: np.ndarray, counts: np.ndarray) -> list[np.ndarray]:
    """Mean, std and last of the gaps (days) between consecutive ``moments`` of each customer;
    ``counts`` gives each customer's number of moments (NaN for fewer than two)."""
    ends = np.cumsum(counts)
    starts = ends - counts
    gap = np.zeros(len(moments), dtype=np.float64)
    gap[1:] = np.diff(moments)
    gap[starts] = 0.0  # a customer's first moment has no previous one
    many = counts >= 2
    pairs = np.where(many, counts - 1, 1)
    with np.errstate(invalid="ignore"):
        mean = np.where(many, (moments[ends - 1] - moments[starts]) / pairs, np.nan)
        square = np.add.reduceat(gap * gap, starts) / pairs
        std = np.where(many, np.sqrt(np.maximum(square - mean * mean, 0.0)), np.nan)
        last = np.where(many, gap[ends - 1], np.nan)
    return [mean, std, last]


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
    order = sort_order(codes, moments, len(ids))
    counts = np.bincount(codes, minlength=len(ids))
    times = moments[order]
    del moments
    runs = _Runs(counts, times, ref)
    windows = list(spec["windows_days"])
    columns: list[np.ndarray] = []

    day = times // 86400
    new_day = np.ones(len(times), dtype=bool)
    new_day[1:] = day[1:] != day[:-1]
    new_day[runs.starts] = True
    active = np.add.reduceat(new_day, runs.starts, dtype=np.int64)
    recency = (ref - times[runs.ends - 1]) / DAY
    tenure = (ref - times[runs.starts]) / DAY
    columns += [counts, active, recency, tenure, counts / np.maximum(tenure, 1.0)]
    for w in windows:
        columns.append(runs.within(w))
        if spec["trend"]:
            columns.append(_trend(runs.within(w), runs.within(2 * w) - runs.within(w)))
    if spec["gaps"] == "events":
        columns += _gaps(runs, times / DAY, counts)
    elif spec["gaps"] == "days":
        columns += _gaps(runs, day[new_day].astype(np.float64), active)
    del day, new_day

    for column in spec["numeric"]:
        columns += _column_stats(runs, events[column].to_numpy(dtype=np.float64)[order], spec)
    for flag in spec["flags"]:
        marked = np.flatnonzero(events[flag].to_numpy(dtype=np.float64)[order] > 0)
        last = np.searchsorted(marked, runs.ends, side="left") - 1  # the last marked event before the end
        found = last >= 0
        found[found] = marked[last[found]] >= runs.starts[found]
        since = (ref - times[marked[np.maximum(last, 0)]]) / DAY if len(marked) else tenure
        columns.append(np.where(found, since, tenure))  # never: at least the tenure
    for column, levels in spec["levels"].items():
        index = level_index(events[column], levels)
        flat = np.bincount(codes * len(levels) + index, minlength=len(ids) * len(levels))
        columns += list(flat.reshape(len(ids), len(levels)).T)
    X = np.column_stack(columns) if columns else np.zeros((len(ids), 0))
    names = feature_names(spec)
    if spec.get("log1p"):
        scaled = [j for j, n in enumerate(names) if "_trend_" not in n]
        X[:, scaled] = np.sign(X[:, scaled]) * np.log1p(np.abs(X[:, scaled]))
    return Aggregates(X.astype(np.float32), np.asarray(ids), names, counts)


def _column_stats(runs: _Runs, values: np.ndarray, spec: dict[str, Any]) -> list[np.ndarray]:
    """Each statistic over all history, then over each window (and the sum's trend), for one column
    (its values in the sorted order)."""
    stats, windows = spec["stats"], [None, *spec["windows_days"]]
    present = ~np.isnan(values)
    missing = not present.all()
    buffer = np.empty(len(values) + 1, dtype=np.float64)

    def reduce(source: np.ndarray, identity: float, ufunc: np.ufunc, spans: list[float | None]) -> list:
        buffer[:-1] = np.where(present, source, identity) if missing else source
        buffer[-1] = identity
        return [runs.reduce(ufunc, buffer, w) for w in spans]

    events = [runs.counts if w is None else runs.within(w) for w in windows]
    if missing:
        seen = reduce(present.astype(np.float64), 0.0, np.add, windows)
    else:
        seen = [e.astype(np.float64) for e in events]
    has = [s > 0 for s in seen]
    safe = [np.where(h, s, 1.0) for h, s in zip(has, seen, strict=True)]
    totals = reduce(values, 0.0, np.add, windows)  # of the values present (0 without any)
    sums = [
        np.where(e == 0, 0.0, np.where(h, t, np.nan)) for e, h, t in zip(events, has, totals, strict=True)
    ]
    means = [np.where(h, t / n, np.nan) for h, t, n in zip(has, sums, safe, strict=True)]
    out: dict[str, list[np.ndarray]] = {"sum": sums, "mean": means}
    if "max" in stats:
        out["max"] = [
            np.where(h, v, np.nan)
            for h, v in zip(has, reduce(values, -np.inf, np.maximum, windows), strict=True)
        ]
    if "min" in stats:
        out["min"] = [
            np.where(h, v, np.nan)
            for h, v in zip(has, reduce(values, np.inf, np.minimum, windows), strict=True)
        ]
    if "std" in stats:
        squares = reduce(values * values, 0.0, np.add, windows)
        out["std"] = [
            np.where(h, np.sqrt(np.maximum(q / n - m * m, 0.0)), np.nan)
            for h, q, n, m in zip(has, squares, safe, means, strict=True)
        ]
    doubled: list[np.ndarray] = []
    if spec["trend"]:  # the sum over twice each window, for the window before it
        doubled = reduce(values, 0.0, np.add, [2 * w for w in spec["windows_days"]])
    result: list[np.ndarray] = []
    for i, _ in enumerate(windows):
        result += [out[stat][i] for stat in stats]
        if i and spec["trend"]:
            result.append(_trend(totals[i], doubled[i - 1] - totals[i]))
    return result
