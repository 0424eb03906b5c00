"""Figures a campaign is decided by: cumulative gains, lift, calibration before and after, and profit
by threshold. Drawn for every binary run (and evaluation) beside the ranking curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqexp.reporting.figures import pyplot, save
from seqexp.runfolder import files
from seqexp.tasks.business import TOP_PERCENTS, gains_curve, profit_curve

Scores = dict[str, tuple[np.ndarray, np.ndarray]]


def plot_gains_and_lift(parts: Scores, path: Path) -> None:
    """Share of positives captured, and lift, against the share of customers contacted."""
    plt = pyplot()
    fig, (gain_ax, lift_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for name, (y, s) in parts.items():
        contacted, captured = gains_curve(y, s)
        gain_ax.plot(contacted, captured, label=name)
        with np.errstate(invalid="ignore", divide="ignore"):
            lift = np.where(contacted > 0, captured / contacted, np.nan)
        lift_ax.plot(contacted[1:], lift[1:], label=name)
    gain_ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="random")
    lift_ax.axhline(1.0, color="k", ls="--", lw=0.8, label="random")
    for k in TOP_PERCENTS:
        for ax in (gain_ax, lift_ax):
            ax.axvline(k / 100, color="0.85", lw=0.6, zorder=0)
    gain_ax.set(
        xlabel="share of customers contacted (best scores first)",
        ylabel="share of positives captured",
        title="cumulative gains",
        xlim=(0, 1),
        ylim=(0, 1.02),
    )
    lift_ax.set(xlabel="share of customers contacted", ylabel="lift over random", title="lift", xlim=(0, 1))
    gain_ax.legend(loc="lower right", fontsize=8)
    lift_ax.legend(loc="upper right", fontsize=8)
    save(fig, path)


def plot_calibration(parts: Scores, probabilities: Scores, path: Path, method: str, bins: int = 10) -> None:
    """Observed positive rate against the mean score (before) and the calibrated probability (after)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
    for ax, shown, title in ((axes[0], parts, "model scores"), (axes[1], probabilities, f"after {method}")):
        for name, (y, p) in shown.items():
            order = np.argsort(p, kind="stable")
            chunks = [c for c in np.array_split(order, min(bins, len(order))) if len(c)]
            ax.plot([p[c].mean() for c in chunks], [y[c].mean() for c in chunks], marker="o", label=name)
        ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="perfectly calibrated")
        ax.set(xlabel="mean predicted (equal-count bins)", title=title, xlim=(0, 1), ylim=(0, 1))
        ax.legend(loc="upper left", fontsize=8)
    axes[0].set_ylabel("observed positive rate")
    save(fig, path)


def plot_profit(parts: Scores, costs: Any, threshold: float, path: Path) -> None:
    """Profit of acting on everyone at or above each threshold, with the chosen one marked."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, (y, s) in parts.items():
        thresholds, values = profit_curve(y, s, costs)
        ax.plot(thresholds, values / len(y), label=name)
    ax.axvline(threshold, color="k", ls="--", lw=1, label=f"threshold {threshold:.3f}")
    ax.axhline(0.0, color="0.6", lw=0.6)
    values_of = f"tp {costs.tp:g}, fp {costs.fp:g}, fn {costs.fn:g}, tn {costs.tn:g}"
    ax.set(
        xlabel="threshold (score)", ylabel="profit per customer", title=f"profit by threshold ({values_of})"
    )
    ax.legend(loc="best", fontsize=8)
    save(fig, path)


def write_decision_figures(
    folder: Path, parts: Scores, threshold: float, *, calibrator: Any = None, costs: Any = None
) -> list[str]:
    """Gains/lift always; calibration before/after with a calibrator; profit with costs."""
    labelled = {k: (y, s) for k, (y, s) in parts.items() if len(np.unique(y)) == 2}
    if not labelled:
        return []
    plot_gains_and_lift(labelled, folder / files.GAINS_PNG)
    written = [files.GAINS_PNG]
    if calibrator is not None and calibrator.method != "none":
        probabilities = {k: (y, calibrator.apply(s)) for k, (y, s) in labelled.items()}
        plot_calibration(labelled, probabilities, folder / files.CALIBRATION_PNG, calibrator.method)
        written.append(files.CALIBRATION_PNG)
    if costs is not None:
        plot_profit(labelled, costs, threshold, folder / files.PROFIT_PNG)
        written.append(files.PROFIT_PNG)
    return written
