"""Fit-time machinery for Keras models: callbacks and the live progress display."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

HEADLINE = ("loss", "val_loss", "val_pr_auc", "val_auc")


def make_callbacks(train_cfg: Any, run_dir: Path, progress: Any | None) -> list[Any]:
    """Early stopping on validation, TensorBoard logs, per-epoch history on disk, progress."""
    import keras

    callbacks: list[Any] = early_stopping(train_cfg)
    if train_cfg.tensorboard:
        # profile_batch=0: no profiler trace, which costs seconds per run on CPU.
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard"), profile_batch=0))
    callbacks.append(_history_logger(run_dir / "history.partial.csv"))
    if progress is not None:
        callbacks.append(_progress_callback(progress, train_cfg.epochs))
    return callbacks


def early_stopping(train_cfg: Any) -> list[Any]:
    """The configured early stopping on validation, as a list of zero or one callback (also for tune)."""
    import keras

    stop = train_cfg.early_stopping
    if stop is None:
        return []
    return [
        keras.callbacks.EarlyStopping(
            monitor=stop.monitor,
            mode=stop.mode,
            patience=stop.patience,
            min_delta=stop.min_delta,
            restore_best_weights=stop.restore_best_weights,
        )
    ]


def _history_logger(path: Path) -> Any:
    """Append each finished epoch to a CSV, so an interrupted run keeps its history so far."""
    import keras

    class HistoryLogger(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
            new = not path.exists()
            with path.open("a", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(row))
                if new:
                    writer.writeheader()
                writer.writerow(row)

    return HistoryLogger()


def _progress_callback(progress: Any, epochs: int) -> Any:
    import keras

    class RichProgress(keras.callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            self.task = progress.add_task("epoch", total=epochs, metrics="")

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            shown = "  ".join(f"{k} {logs[k]:.4f}" for k in HEADLINE if k in logs)
            progress.update(self.task, advance=1, metrics=shown)

        def on_train_end(self, logs: dict | None = None) -> None:
            task = progress.tasks[self.task]
            progress.update(self.task, total=task.completed)  # early stopping: close the bar

    return RichProgress()


def progress_display(console: Any) -> Any:
    """A rich progress bar for epochs with the latest metrics beside it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[metrics]}"),
        console=console,
        transient=False,
    )
