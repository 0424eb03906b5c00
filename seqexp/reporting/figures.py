"""PNG figures of a run: ranking curves, calibration, metric vs threshold, training history, and the
model's architecture. matplotlib (Agg backend) is imported only when a figure is drawn.

Each figure is small and drawn at a modest dpi: the whole set costs well under a second per run.
Files are written under a temporary name and renamed, like every file of a run folder.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.runfolder import files

DPI = 90
Scores = dict[str, tuple[np.ndarray, np.ndarray]]  # split name -> (y, scores)


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no display), imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, path: Path) -> None:
    """Save atomically and free the figure."""
    from seqexp.runfolder.atomic import atomic_path

    plt = pyplot()
    try:
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=DPI)
    finally:
        plt.close(fig)


def _labelled(parts: Scores) -> Scores:
    """Only splits that hold both classes can draw ranking curves."""
    return {k: (y, s) for k, (y, s) in parts.items() if len(np.unique(y)) == 2}


def plot_roc(parts: Scores, path: Path) -> None:
    from sklearn.metrics import RocCurveDisplay

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    for name, (y, s) in _labelled(parts).items():
        RocCurveDisplay.from_predictions(y, s, name=name, ax=ax)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="chance")
    ax.set_title("ROC curve")
    ax.legend(loc="lower right")
    save(fig, path)


def plot_pr(parts: Scores, path: Path) -> None:
    """Precision-recall curves; the no-skill line is the positive rate (not the ROC diagonal)."""
    from sklearn.metrics import PrecisionRecallDisplay

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    for name, (y, s) in _labelled(parts).items():
        display = PrecisionRecallDisplay.from_predictions(y, s, name=name, ax=ax)
        ax.axhline(np.mean(y), ls="--", lw=0.8, color=display.line_.get_color(),
                   label=f"no skill ({name}: positive rate {np.mean(y):.3f})")  # fmt: skip
    ax.set_ylim(0, 1.02)
    ax.set_title("precision-recall curve")
    ax.legend(loc="upper right", fontsize=8)
    save(fig, path)


def plot_calibration(parts: Scores, path: Path, bins: int = 10) -> None:
    from sklearn.calibration import CalibrationDisplay

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    for name, (y, s) in _labelled(parts).items():
        CalibrationDisplay.from_predictions(y, s, n_bins=bins, strategy="quantile", name=name, ax=ax)
    ax.set_title("calibration (quantile bins)")
    save(fig, path)


def plot_threshold(y: np.ndarray, scores: np.ndarray, threshold: float, path: Path, split: str) -> None:
    """Precision, recall and F1 against the threshold, with the chosen threshold marked."""
    from sklearn.metrics import precision_recall_curve

    plt = pyplot()
    precision, recall, thresholds = precision_recall_curve(y, scores)
    precision, recall = precision[:-1], recall[:-1]
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(thresholds, precision, label="precision")
    ax.plot(thresholds, recall, label="recall")
    ax.plot(thresholds, f1, label="F1")
    ax.axvline(threshold, color="k", ls="--", lw=1, label=f"chosen threshold {threshold:.3f}")
    ax.set_xlabel("threshold")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(f"metrics vs threshold ({split})")
    ax.legend(loc="best", fontsize=8)
    save(fig, path)


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


def plot_history(history: list[dict], path: Path, monitor: str | None, mode: str = "auto") -> None:
    """Loss and the monitored metric per epoch, train vs validation, best epoch marked."""
    plt = pyplot()
    epochs = [row.get("epoch", i + 1) for i, row in enumerate(history)]
    metric = monitor.removeprefix("val_") if monitor else None
    present = {key for row in history for key in row}
    panels = ["loss"] + ([metric] if metric and metric != "loss" and metric in present else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.8), squeeze=False)
    best = best_epoch(history, monitor, mode)
    for ax, name in zip(axes[0], panels, strict=True):
        for key, label in ((name, "train"), (f"val_{name}", "val")):
            values = [row.get(key) for row in history]
            if any(v is not None for v in values):
                ax.plot(epochs, values, marker="o", ms=3, label=label)
        if best is not None:
            ax.axvline(best, color="k", ls="--", lw=1, label=f"best epoch {best}")
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.legend(fontsize=8)
    save(fig, path)


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


def write_score_plots(folder: Path, parts: Scores, threshold: float, threshold_split: str) -> list[str]:
    """ROC, PR, calibration and metric-vs-threshold figures; returns the file names written."""
    labelled = _labelled(parts)
    if not labelled:
        return []
    plot_roc(labelled, folder / files.ROC_PNG)
    plot_pr(labelled, folder / files.PR_PNG)
    plot_calibration(labelled, folder / files.CALIBRATION_PNG)
    written = [files.ROC_PNG, files.PR_PNG, files.CALIBRATION_PNG]
    if threshold_split in labelled:
        y, s = labelled[threshold_split]
        plot_threshold(y, s, threshold, folder / files.THRESHOLD_PNG, threshold_split)
        written.append(files.THRESHOLD_PNG)
    return written
