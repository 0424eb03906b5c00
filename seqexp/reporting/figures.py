"""PNG figures of a run: ranking curves, calibration, metric vs threshold, training history, and the
model's architecture. matplotlib is imported only when a figure is drawn.

Every figure is drawn at 150 dpi with its legend outside the data (below the axes), and takes an
optional ``title``: the run, model and data it shows (``figure_title``), put under the figure's own
title. The cost of a run's figures is kept down (they are most of seqexp's fixed cost over a plain
script): figures are made without pyplot (``new_figure``: a bare ``Figure`` on the Agg canvas, no
global state to close), at fixed margins instead of ``tight_layout`` (which draws the figure once
more to measure it), each drawn once. Files are written under a temporary name and renamed, like
every file of a run folder.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.runfolder import files

DPI = 150
PNG_COMPRESSION = 3  # zlib level: 40% less encoding time than the default 6 for 12% larger files
Scores = dict[str, tuple[np.ndarray, np.ndarray]]  # split name -> (y, scores)
SIZE = (5.6, 4.8)  # inches: one curve panel with its legend below
MARGINS = {"left": 0.13, "right": 0.96, "bottom": 0.2, "top": 0.86}


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no display), imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def new_figure(size: tuple[float, float]) -> Any:
    """A figure outside pyplot (no figure manager, nothing to close), drawn by the Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig


def figure_title(run: str | None = None, model: str | None = None, data: str | None = None) -> str:
    """The line naming what a figure shows: ``run · model · data`` (the parts that are known)."""
    return " · ".join(part for part in (run, model, data) if part)


def save(fig: Any, path: Path, *, tight: bool = True) -> None:
    """Tidy the axes (integer ticks for integer data, readable log ticks), save atomically at
    ``DPI`` and free the figure. ``tight=False`` keeps the figure's own margins."""
    from seqexp.runfolder.atomic import atomic_path

    try:
        for ax in fig.axes:
            tidy_ticks(ax)
        if tight:
            fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=DPI, format="png", pil_kwargs={"compress_level": PNG_COMPRESSION})
    finally:
        if getattr(fig.canvas, "manager", None) is not None:  # made by pyplot: free it there
            pyplot().close(fig)


def tidy_ticks(ax: Any) -> None:
    """An x axis whose plotted values are all whole numbers (trials, epochs, counts) gets whole-number
    ticks; a log-scaled x axis gets small, slanted labels so that neighbours never overlap."""
    from matplotlib.ticker import AutoLocator, MaxNLocator

    if ax.get_xscale() == "log":
        ax.tick_params(axis="x", which="both", labelsize=7, labelrotation=30)
        return
    if type(ax.xaxis.get_major_locator()) is not AutoLocator:  # ticks the caller set stay
        return
    xs = [np.asarray(line.get_xdata(), dtype=float) for line in ax.get_lines()]
    xs += [np.asarray(c.get_offsets(), dtype=float).reshape(-1, 2)[:, 0] for c in ax.collections]
    values = np.concatenate(xs) if xs else np.array([])
    values = values[np.isfinite(values)]
    if set(values.tolist()) == {0.0, 1.0}:  # a rate axis (a perfect ROC curve), not a count
        return
    if values.size and np.all(values == np.round(values)):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def panel(name: str, title: str | None, size: tuple[float, float] = SIZE) -> tuple[Any, Any]:
    """A figure with one axes at fixed margins, titled ``name`` and, below it, ``title``."""
    fig = new_figure(size)
    fig.subplots_adjust(**MARGINS)
    ax = fig.add_subplot()
    # y given: matplotlib then keeps the title there instead of measuring the tick labels to place it
    ax.set_title(f"{name}\n{wrapped(title)}" if title else name, fontsize=10, y=1.0)
    return fig, ax


def two_panels(
    names: tuple[str, str], title: str | None, size: tuple[float, float] = (10, 4.3), *, sharey: bool = False
) -> tuple[Any, Any]:
    """A figure of two axes side by side at fixed margins, named ``names``, with ``title`` above
    both and room below for the x labels and one legend (``legend_under``)."""
    fig = new_figure(size)
    axes = fig.subplots(1, 2, sharey=sharey)
    text = wrapped(title, 110) if title else ""
    above = 0.35 + (0.2 * (text.count("\n") + 1) if text else 0)  # inches: the axes' names, the title
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.9 / size[1], top=1 - above / size[1], wspace=0.22)
    if text:
        fig.suptitle(text, fontsize=10, y=1 - 0.08 / size[1], va="top")
    for ax, name in zip(axes, names, strict=True):
        ax.set_title(name, fontsize=10, y=1.0)
    return fig, axes


def legend_under(fig: Any, ax: Any, columns: int = 4) -> None:
    """One legend for the whole figure (``ax``'s entries), under its axes and their x labels."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.01), ncols=columns,
               fontsize=8, frameon=False)  # fmt: skip


def wrapped(title: str, width: int = 64) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(title, width)) or title


def legend_below(ax: Any, columns: int = 2, below: float = 0.15) -> None:
    """The legend under the axes (and their x label), never over the curves."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -below), ncols=columns, fontsize=8, frameon=False)


def _labelled(parts: Scores) -> Scores:
    """Only splits that hold both classes can draw ranking curves."""
    return {k: (y, s) for k, (y, s) in parts.items() if len(np.unique(y)) == 2}


def roc_points(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """False and true positive rates (corners only) and the area under them."""
    from sklearn.metrics import auc, roc_curve

    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=True)
    return fpr, tpr, float(auc(fpr, tpr))


def pr_points(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Recall and precision along the ranking, and the average precision (PR-AUC)."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    precision, recall, _ = precision_recall_curve(y, s)
    return recall, precision, float(average_precision_score(y, s))


def plot_roc(parts: Scores, path: Path, title: str | None = None) -> None:
    fig, ax = panel("ROC curve", title)
    for name, (y, s) in _labelled(parts).items():
        fpr, tpr, area = roc_points(y, s)
        ax.plot(fpr, tpr, lw=1.5, label=f"{name} (AUC {area:.3f})")
    ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="chance")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="false positive rate", ylabel="true positive rate (recall)")
    legend_below(ax)
    save(fig, path, tight=False)


def plot_pr(parts: Scores, path: Path, title: str | None = None) -> None:
    """Precision-recall curves; the no-skill line is the positive rate (not the ROC diagonal)."""
    fig, ax = panel("precision-recall curve", title)
    for name, (y, s) in _labelled(parts).items():
        recall, precision, ap = pr_points(y, s)
        (line,) = ax.plot(recall, precision, lw=1.5, drawstyle="steps-post", label=f"{name} (AP {ap:.3f})")
        ax.axhline(np.mean(y), ls="--", lw=0.8, color=line.get_color(),
                   label=f"no skill ({name}: positive rate {np.mean(y):.3f})")  # fmt: skip
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision")
    legend_below(ax)
    save(fig, path, tight=False)


def plot_calibration(parts: Scores, path: Path, bins: int = 10, title: str | None = None) -> None:
    from sklearn.calibration import calibration_curve

    fig, ax = panel("calibration (quantile bins)", title)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8, label="perfectly calibrated")
    for name, (y, s) in _labelled(parts).items():
        observed, predicted = calibration_curve(y, np.clip(s, 0, 1), n_bins=bins, strategy="quantile")
        ax.plot(predicted, observed, marker="s", ms=3, lw=1.2, label=name)
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="mean predicted score", ylabel="fraction of positives")
    legend_below(ax, columns=3)
    save(fig, path, tight=False)


def plot_threshold(
    y: np.ndarray, scores: np.ndarray, threshold: float, path: Path, split: str, title: str | None = None
) -> None:
    """Precision, recall and F1 against the threshold, with the chosen threshold marked."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y, scores)
    precision, recall = precision[:-1], recall[:-1]
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0)
    fig, ax = panel(f"metrics vs threshold ({split})", title)
    ax.plot(thresholds, precision, label="precision")
    ax.plot(thresholds, recall, label="recall")
    ax.plot(thresholds, f1, label="F1")
    ax.axvline(threshold, color="k", ls="--", lw=1, label=f"chosen threshold {threshold:.3f}")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="threshold")
    legend_below(ax)
    save(fig, path, tight=False)


def best_epoch(history: list[dict], monitor: str | None, mode: str = "auto") -> int | None:
    """1-based epoch of the best monitored value (the weights early stopping kept)."""
    values = [row.get(monitor) for row in history] if monitor else []
    if monitor is None or not values or any(v is None for v in values):
        return None
    from seqexp.config.sections import monitor_mode

    higher = monitor_mode(monitor, mode) == "max"
    numbers = [float(v) for v in values if v is not None]
    index = int(np.argmax(numbers) if higher else np.argmin(numbers))
    return int(history[index].get("epoch", index + 1))


def plot_history(
    history: list[dict], path: Path, monitor: str | None, mode: str = "auto", title: str | None = None,
    step: str = "epoch",
) -> None:  # fmt: skip
    """Loss and the monitored metric per epoch (``step``: or boosting round), train vs validation,
    best one marked. Markers only while they can be told apart (not on 2,000 boosting rounds)."""
    epochs = [row.get("epoch", i + 1) for i, row in enumerate(history)]
    metric = monitor.removeprefix("val_") if monitor else None
    present = {key for row in history for key in row}
    panels = ["loss"] + ([metric] if metric and metric != "loss" and metric in present else [])
    fig = new_figure((5 * len(panels), 4.0))
    axes = fig.subplots(1, len(panels), squeeze=False)
    fig.subplots_adjust(left=0.12 / len(panels), right=0.98, bottom=0.24, top=0.82, wspace=0.25)
    if title:
        fig.suptitle(wrapped(title, 100), fontsize=10)
    best = best_epoch(history, monitor, mode)
    marks = {"marker": "o", "ms": 3} if len(history) <= 60 else {}
    for ax, name in zip(axes[0], panels, strict=True):
        for key, label in ((name, "train"), (f"val_{name}", "val")):
            values = [row.get(key) for row in history]
            if any(v is not None for v in values):
                ax.plot(epochs, values, label=label, **marks)
        if best is not None:
            ax.axvline(best, color="k", ls="--", lw=1, label=f"best {step} {best}")
        ax.set_xlabel(step)
        ax.set_title(name, fontsize=10, y=1.0)
        legend_below(ax, columns=3, below=0.22)
    save(fig, path, tight=False)


def write_architecture(model: Any, folder: Path) -> list[str]:
    """Keras summary as text; a diagram PNG only when pydot and graphviz are installed."""
    from seqexp.runfolder.atomic import write_text

    buffer = io.StringIO()
    model.summary(print_fn=lambda line, *args, **kwargs: buffer.write(line + "\n"))
    write_text(folder / files.MODEL_SUMMARY, buffer.getvalue())
    written = [files.MODEL_SUMMARY]
    if _graphviz_available():
        import keras

        with contextlib.suppress(Exception):  # a diagram is a nicety; never fail a run for it
            keras.utils.plot_model(model, to_file=str(folder / files.MODEL_DIAGRAM), show_shapes=True)
            written.append(files.MODEL_DIAGRAM)
    return written


def _graphviz_available() -> bool:
    import importlib.util
    import shutil

    return importlib.util.find_spec("pydot") is not None and shutil.which("dot") is not None


def write_score_plots(
    folder: Path, parts: Scores, threshold: float, threshold_split: str, *, title: str | None = None,
    calibration: bool = True,
) -> list[str]:  # fmt: skip
    """ROC, PR, calibration and metric-vs-threshold figures; returns the file names written.
    ``title`` names the run, model and data (``figure_title``) on every figure; ``calibration=False``
    leaves ``calibration.png`` to the before/after figure of a calibrated run (drawn once, not twice)."""
    labelled = _labelled(parts)
    if not labelled:
        return []
    plot_roc(labelled, folder / files.ROC_PNG, title)
    plot_pr(labelled, folder / files.PR_PNG, title)
    written = [files.ROC_PNG, files.PR_PNG]
    if calibration:
        plot_calibration(labelled, folder / files.CALIBRATION_PNG, title=title)
        written.append(files.CALIBRATION_PNG)
    if threshold_split in labelled:
        y, s = labelled[threshold_split]
        plot_threshold(y, s, threshold, folder / files.THRESHOLD_PNG, threshold_split, title)
        written.append(files.THRESHOLD_PNG)
    return written
