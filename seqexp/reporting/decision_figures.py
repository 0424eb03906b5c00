"""Figures a campaign is decided by: cumulative gains, lift, calibration before and after, and profit
by threshold. Drawn for every binary run (and evaluation) beside the ranking curves, with the run's
title above and one legend below the axes (``figures.two_panels``, ``figures.legend_under``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqexp.reporting.figures import legend_below, legend_under, panel, save, two_panels
from seqexp.runfolder import files
from seqexp.tasks.business import TOP_PERCENTS, gains_curve, profit_curve

Scores = dict[str, tuple[np.ndarray, np.ndarray]]


def plot_gains_and_lift(parts: Scores, path: Path, title: str | None = None) -> None:
    """Share of positives captured, and lift, against the share of customers contacted."""
    fig, (gain_ax, lift_ax) = two_panels(("cumulative gains", "lift"), title)
    for name, (y, s) in parts.items():
        contacted, captured = gains_curve(y, s)
        (line,) = gain_ax.plot(contacted, captured, label=name)
        with np.errstate(invalid="ignore", divide="ignore"):
            lift = np.where(contacted > 0, captured / contacted, np.nan)
        lift_ax.plot(contacted[1:], lift[1:], color=line.get_color())
    gain_ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="random")
    lift_ax.axhline(1.0, color="k", ls="--", lw=0.8)
    for k in TOP_PERCENTS:
        for ax in (gain_ax, lift_ax):
            ax.axvline(k / 100, color="0.85", lw=0.6, zorder=0)
    gain_ax.set(xlabel="share of customers contacted (best scores first)",
                ylabel="share of positives captured", xlim=(0, 1), ylim=(0, 1.02))  # fmt: skip
    lift_ax.set(xlabel="share of customers contacted", ylabel="lift over random", xlim=(0, 1))
    legend_under(fig, gain_ax)
    save(fig, path, tight=False)


def plot_calibration(
    parts: Scores, probabilities: Scores, path: Path, method: str, bins: int = 10, title: str | None = None
) -> None:
    """Observed positive rate against the mean score (before) and the calibrated probability (after)."""
    fig, axes = two_panels(("model scores", f"after {method}"), title, sharey=True)
    for ax, shown in ((axes[0], parts), (axes[1], probabilities)):
        for i, (name, (y, p)) in enumerate(shown.items()):
            order = np.argsort(p, kind="stable")
            chunks = [c for c in np.array_split(order, min(bins, len(order))) if len(c)]
            ax.plot([p[c].mean() for c in chunks], [y[c].mean() for c in chunks], marker="o", ms=4,
                    color=f"C{i}", label=name)  # fmt: skip
        ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="perfectly calibrated")
        ax.set(xlabel="mean predicted (equal-count bins)", xlim=(0, 1), ylim=(0, 1))
    axes[0].set_ylabel("observed positive rate")
    legend_under(fig, axes[0])
    save(fig, path, tight=False)


def plot_profit(parts: Scores, costs: Any, threshold: float, path: Path, title: str | None = None) -> None:
    """Profit of acting on everyone at or above each threshold, with the chosen one marked."""
    values_of = f"tp {costs.tp:g}, fp {costs.fp:g}, fn {costs.fn:g}, tn {costs.tn:g}"
    fig, ax = panel(f"profit by threshold ({values_of})", title)
    for name, (y, s) in parts.items():
        thresholds, values = profit_curve(y, s, costs)
        ax.plot(thresholds, values / len(y), label=name)
    ax.axvline(threshold, color="k", ls="--", lw=1, label=f"threshold {threshold:.3f}")
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set(xlabel="threshold (score)", ylabel="profit per customer")
    legend_below(ax, columns=3)
    save(fig, path, tight=False)


def write_decision_figures(
    folder: Path, parts: Scores, threshold: float, *, calibrator: Any = None, costs: Any = None,
    title: str | None = None,
) -> list[str]:  # fmt: skip
    """Gains/lift always; calibration before/after with a calibrator; profit with costs."""
    labelled = {k: (y, s) for k, (y, s) in parts.items() if len(np.unique(y)) == 2}
    if not labelled:
        return []
    plot_gains_and_lift(labelled, folder / files.GAINS_PNG, title)
    written = [files.GAINS_PNG]
    if calibrator is not None and calibrator.method != "none":
        probabilities = {k: (y, calibrator.apply(s)) for k, (y, s) in labelled.items()}
        plot_calibration(labelled, probabilities, folder / files.CALIBRATION_PNG, calibrator.method,
                         title=title)  # fmt: skip
        written.append(files.CALIBRATION_PNG)
    if costs is not None:
        plot_profit(labelled, costs, threshold, folder / files.PROFIT_PNG, title)
        written.append(files.PROFIT_PNG)
    return written
