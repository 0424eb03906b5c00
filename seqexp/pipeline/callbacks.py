"""Fit-time machinery for Keras models: callbacks and the live progress display."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from seqexp.config.sections import TrainConfig, monitor_mode
from seqexp.runfolder import atomic, files

HEADLINE = ("loss", "val_loss", "val_pr_auc", "val_auc")


def make_callbacks(train_cfg: TrainConfig, run_dir: Path, progress: Any | None) -> list[Any]:
    """The fit callbacks, TensorBoard logs, per-epoch history, best checkpoint and progress."""
    import keras

    callbacks = fit_callbacks(train_cfg)
    if train_cfg.tensorboard:
        # profile_batch=0: no profiler trace, which costs seconds per run on CPU.
        callbacks.append(
            keras.callbacks.TensorBoard(log_dir=str(run_dir / files.TENSORBOARD), profile_batch=0)
        )
    callbacks.append(_history_logger(run_dir / files.HISTORY_PARTIAL))
    stop = train_cfg.early_stopping
    monitor, mode = (stop.monitor, stop.mode) if stop is not None else ("val_loss", "min")
    callbacks.append(_best_checkpoint(run_dir / files.CHECKPOINT, monitor, mode))
    if progress is not None:
        callbacks.append(_progress_callback(progress, train_cfg.epochs))
    return callbacks


def fit_callbacks(train_cfg: TrainConfig) -> list[Any]:
    """Callbacks that change how a fit goes (also used by tune's trials): early stopping on validation
    and, when configured, ReduceLROnPlateau."""
    import keras

    callbacks: list[Any] = []
    stop = train_cfg.early_stopping
    if stop is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=stop.monitor,
                mode=monitor_mode(stop.monitor, stop.mode),
                patience=stop.patience,
                min_delta=stop.min_delta,
                restore_best_weights=stop.restore_best_weights,
            )
        )
    plateau = train_cfg.reduce_lr
    if plateau is not None:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=plateau.monitor,
                mode=monitor_mode(plateau.monitor, plateau.mode),
                factor=plateau.factor,
                patience=plateau.patience,
                min_lr=plateau.min_lr,
            )
        )
    return callbacks


def _history_logger(path: Path) -> Any:
    """Rewrite the CSV of finished epochs after each epoch (atomically: never half a line), so an
    interrupted run keeps its history so far."""
    import keras

    class HistoryLogger(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[dict[str, float]] = []

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.rows.append({"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}})
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=list(self.rows[0]), extrasaction="ignore")
            writer.writeheader()
            writer.writerows(self.rows)
            atomic.write_text(path, text.getvalue())

    return HistoryLogger()


def _best_checkpoint(path: Path, monitor: str, mode: str) -> Any:
    """Save the model whenever ``monitor`` improves, so an interrupted run keeps its best weights.

    Like ``keras.callbacks.ModelCheckpoint(save_best_only=True)``, but written to a temporary file
    and renamed: an interruption mid-save leaves the previous best checkpoint intact.
    """
    import keras

    mode = monitor_mode(monitor, mode)
    better = (lambda a, b: a > b) if mode == "max" else (lambda a, b: a < b)

    class BestCheckpoint(keras.callbacks.Callback):
        best: float | None = None

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            value = (logs or {}).get(monitor)
            if value is None or not math.isfinite(float(value)):
                return
            if self.best is None or better(float(value), self.best):
                self.best = float(value)
                with atomic.atomic_path(path) as tmp:
                    self.model.save(tmp)

    return BestCheckpoint()


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
