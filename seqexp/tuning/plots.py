"""A search's two figures: the objective per trial (with the best so far), and each searched value
against the objective. Axes stay readable whatever the space: trials are whole numbers, an int
range gets whole-number ticks, a log range a few labelled ticks (1, 2, 5 per decade over a short
range, decades over a long one) and unlabelled minor ticks, so labels never overlap."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

from seqexp.runfolder import files


def plot_search(rows: list[dict[str, Any]], tune: Any, folder: Path) -> None:
    """Write ``objective_by_trial.png`` and ``hyperparameters_vs_objective.png`` into ``folder``."""
    from seqexp.reporting.figures import save

    save(objective_figure(rows, tune), folder / files.OBJECTIVE_PNG)
    save(space_figure(rows, tune), folder / files.SPACE_PNG)


def _best_so_far(ys: list[float], direction: str) -> list[float]:
    return list(itertools.accumulate(ys, max if direction == "max" else min))


def objective_figure(rows: list[dict[str, Any]], tune: Any) -> Any:
    """The objective of each trial in start order (numbered from 1), and the best so far."""
    from matplotlib.ticker import MaxNLocator

    from seqexp.reporting.figures import pyplot

    metric, direction = tune.objective.metric, tune.objective.best
    scored = [(i, r["objective"]) for i, r in enumerate(rows, start=1) if r["objective"] is not None]
    fig, ax = pyplot().subplots(figsize=(7, 4))
    if scored:
        trials, ys = (list(t) for t in zip(*scored, strict=True))
        ax.scatter(trials, ys, s=18, label="trial")
        ax.step(trials, _best_so_far(ys, direction), where="post", color="C1", label="best so far")
        ax.legend()
    ax.set_xlim(0.5, max(len(rows), 1) + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel("trial (in start order)")
    ax.set_ylabel(metric)
    ax.set_title(f"{tune.tuner} search: {metric} ({direction})")
    return fig


def space_figure(rows: list[dict[str, Any]], tune: Any) -> Any:
    """One panel per searched key: its value in each trial against the trial's objective."""
    from seqexp.reporting.figures import pyplot

    keys = list(tune.space)
    cols = min(3, len(keys))
    nrows = math.ceil(len(keys) / cols)
    fig, axes = pyplot().subplots(nrows, cols, figsize=(4 * cols, 3.2 * nrows), squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        dist = tune.space[key]
        points = [(r["_values"].get(key), r["objective"]) for r in rows
                  if r["objective"] is not None and key in r["_values"]]  # fmt: skip
        if dist.kind == "choice":
            labels = [_label(v) for v in dist.choice]
            index = {label: i for i, label in enumerate(labels)}
            xs: list[Any] = [index.get(_label(v), -1) for v, _ in points]
            ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
            ax.set_xlim(-0.5, len(labels) - 0.5)
        else:
            xs = [v for v, _ in points]
            _range_axis(ax, dist)
        ax.scatter(xs, [y for _, y in points], s=18)
        ax.set_title(key, fontsize=9)
        ax.set_ylabel(tune.objective.metric, fontsize=8)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    return fig


def _label(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _range_axis(ax: Any, dist: Any) -> None:
    """The whole searched range on the x axis, with ticks that fit it."""
    from matplotlib.ticker import MaxNLocator

    lo, hi = dist.int_range or dist.float_range
    if dist.log:
        _log_axis(ax, float(lo), float(hi))
        return
    pad = (hi - lo) * 0.05
    ax.set_xlim(lo - pad, hi + pad)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=dist.kind == "int"))


def _log_axis(ax: Any, lo: float, hi: float) -> None:
    """A log axis over [lo, hi]: labelled ticks at 1, 2, 5 x 10^k over up to two decades, at
    decades (at most 6 of them) over more, evenly spaced ones over less than half a decade; the
    minor ticks carry no label (matplotlib labels them on short ranges, and they overlap)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    decades = math.log10(hi / lo)
    pad = (hi / lo) ** 0.04
    ax.set_xscale("log")
    ax.set_xlim(lo / pad, hi * pad)
    if decades < 0.5:
        major: Any = MaxNLocator(nbins=4)
    else:
        major = LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 2 else (1.0,), numticks=7)
    ax.xaxis.set_major_locator(major)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_locator(LogLocator(base=10, subs=tuple(range(2, 10)), numticks=12))
    ax.xaxis.set_minor_formatter(NullFormatter())
