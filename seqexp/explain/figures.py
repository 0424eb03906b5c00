"""The two importance figures: PR-AUC drop by feature (largest first) and by event age."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqexp.explain.importance import Importance
from seqexp.reporting.figures import DPI, pyplot, save

MAX_BARS = 25  # features shown; the CSV has them all


def plot_feature_importance(
    rows: list[Importance], base: float, path: Path, title: str | None = None
) -> None:
    """Horizontal bars, most important on top, one standard deviation as the whisker."""
    rows = sorted((r for r in rows if r.kind == "feature"), key=lambda r: r.drop, reverse=True)[:MAX_BARS]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 1.6 + 0.28 * max(len(rows), 1)), dpi=DPI)
    names = [r.name for r in rows][::-1]
    ax.barh(names, [r.drop for r in rows][::-1], xerr=[r.std for r in rows][::-1], color="#4c72b0",
            error_kw={"lw": 0.8, "capsize": 2})  # fmt: skip
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel(f"drop in validation PR-AUC when shuffled (unshuffled {base:.3f})")
    head = "permutation importance by feature"
    ax.set_title(f"{head}\n{title}" if title else head, fontsize=10)
    save(fig, path)


def plot_step_importance(rows: list[Importance], base: float, path: Path, title: str | None = None) -> None:
    """Bars by event age, the oldest on the left and the latest event on the right."""
    rows = sorted((r for r in rows if r.kind == "step"), key=lambda r: -(r.age or 0))
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=DPI)
    ages = np.array([r.age or 0 for r in rows])
    ax.bar(range(len(rows)), [r.drop for r in rows], yerr=[r.std for r in rows], color="#dd8452",
           error_kw={"lw": 0.8, "capsize": 2})  # fmt: skip
    ax.set_xticks(range(len(rows)), [str(a) for a in ages], fontsize=7 if len(rows) > 20 else 9)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("event before the cutoff (1 = the latest)")
    ax.set_ylabel(f"drop in validation PR-AUC (unshuffled {base:.3f})")
    head = "permutation importance by time step"
    ax.set_title(f"{head}\n{title}" if title else head, fontsize=10)
    save(fig, path)
