"""Trials run in a child process that is replaced every ``tune.trials_per_process`` trials.

TensorFlow keeps memory from every model it has built and trained, even after
``keras.backend.clear_session()`` and ``gc.collect()`` (measured here with TF 2.21 / Keras 3.15:
about 17 MB per small LSTM, 5 MB per small dense model; see tensorflow/tensorflow#61791). A
search of hundreds of trials in one process would grow without bound, so each trial's model lives
in a child process, and a fresh child takes over after a few trials: memory stays bounded.

The child is started with ``spawn`` (a fork of a process running TensorFlow is unsafe) and receives
the config and the prepared data once; each call trains one trial. A Keras model is trained exactly
as keras-tuner's ``Tuner.run_trial`` would (build, optional Hyperband weights, fit, keep the best
epoch's weights); any other model (LightGBM, scikit-learn) through ``build_estimator(...).fit(...)``
as ``seqexp train`` fits it, its objective taken from its validation scores (``estimator_trial``),
and such a child never imports TensorFlow unless the model needs it.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from typing import Any

import numpy as np

_STATE: dict[str, Any] = {}


def init_child(cfg_data: dict[str, Any], prepared: Any, log_path: str) -> None:
    """Runs once in each new child: its output into the run's log, keep the config and data."""
    _exit_with_parent()
    _output_into(log_path)
    from seqexp.config.loading import validate_config

    _STATE["cfg"] = validate_config(cfg_data, source="tune config")
    _STATE["prepared"] = prepared


def _output_into(log_path: str) -> None:
    """The child's stdout and stderr (file descriptors 1 and 2: Python, TensorFlow's and LightGBM's
    C++ code alike) append to ``run.log``: the terminal keeps the search's own lines, and stdout
    only the folder's path. A trial's error still reaches the search as its exception."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _quiet_tensorflow() -> None:
    """Import TensorFlow (once per child, for the trials that need it) without its chatter."""
    from seqexp.runtime.backend import tensorflow

    tensorflow()
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def _exit_with_parent() -> None:
    """A killed search must not leave its trial process running: exit once the parent is gone."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def best_epoch_metrics(
    histories: list[dict[str, list[float]]], objective: str, direction: str
) -> dict[str, float]:
    """Every metric at each execution's best epoch for the objective, averaged over executions."""
    rows = []
    for values in histories:
        series = np.asarray(values[objective], dtype=float)
        best = int(np.nanargmax(series) if direction == "max" else np.nanargmin(series))
        rows.append({k: float(v[best]) for k, v in values.items()})
    keys = set.intersection(*(set(r) for r in rows))
    metrics = {k: float(np.mean([r[k] for r in rows])) for k in sorted(keys)}
    metrics["epochs"] = float(np.mean([len(next(iter(h.values()))) for h in histories]))
    return metrics


def run_trial(
    values: dict[str, Any],
    *,
    epochs: int | None,
    initial_epoch: int,
    load_weights: str | None,
    checkpoint: str,
    executions: int,
    objective: str,
    direction: str,
) -> dict[str, float]:
    """Train one trial (``executions`` times) and return its metrics at the best epoch (a Keras
    model) or after its fit (any other model)."""
    from seqexp.balancing import balance
    from seqexp.registry import MODELS
    from seqexp.tuning import space as space_mod
    from seqexp.tuning.estimator_trial import estimator_trial

    cfg, prepared = _STATE["cfg"], _STATE["prepared"]
    trial_cfg = space_mod.trial_config(space_mod.base_raw(cfg), values, source="trial config")
    train = prepared.train
    # Balancer and batch size may be searched, so the training split is balanced per trial.
    balanced = balance(
        trial_cfg.balance,
        train.X,
        train.y,
        train.mask,
        prepared.data.onehot_groups,
        seed=cfg.seed,
        static=train.static,
    )
    if not space_mod.is_keras(trial_cfg.model.name):
        if MODELS.get(trial_cfg.model.name).extras["tensorflow"]:
            _quiet_tensorflow()
        return estimator_trial(trial_cfg, prepared, balanced, executions=executions, seed=cfg.seed)
    _quiet_tensorflow()
    return _keras_trial(trial_cfg, prepared, balanced, epochs=epochs, initial_epoch=initial_epoch,
                        load_weights=load_weights, checkpoint=checkpoint, executions=executions,
                        objective=objective, direction=direction, seed=cfg.seed)  # fmt: skip


def _keras_trial(
    trial_cfg: Any,
    prepared: Any,
    balanced: Any,
    *,
    epochs: int | None,
    initial_epoch: int,
    load_weights: str | None,
    checkpoint: str,
    executions: int,
    objective: str,
    direction: str,
    seed: int,
) -> dict[str, float]:
    """keras-tuner's own trial: build, optional Hyperband weights, fit, the best epoch's metrics."""
    import keras

    from seqexp.models import build_keras_model
    from seqexp.models.keras_estimator import keras_inputs
    from seqexp.pipeline.callbacks import fit_callbacks
    from seqexp.runtime.seeding import seed_everything
    from seqexp.tuning.hypermodel import validation_scores_callback

    val = prepared.val
    histories: list[dict[str, list[float]]] = []
    best: float | None = None
    for _ in range(executions):
        keras.backend.clear_session()
        seed_everything(seed)  # every trial starts from the same seed: only the values differ
        model = build_keras_model(trial_cfg.model, trial_cfg.train, prepared.spec)
        if load_weights:  # Hyperband: continue the promoted trial from its previous round
            model.load_weights(load_weights)
        # The best epoch's weights across all executions, where keras-tuner keeps them.
        keep = keras.callbacks.ModelCheckpoint(
            checkpoint, monitor=objective, mode=direction, save_best_only=True, save_weights_only=True,
            initial_value_threshold=best,
        )  # fmt: skip
        # Validation scores first: early stopping, the checkpoint and the history then see them.
        X_val = keras_inputs(model, val.inputs)  # one array, or [sequence, static]
        callbacks = [validation_scores_callback(X_val, val.y), *fit_callbacks(trial_cfg.train), keep]
        history = model.fit(
            keras_inputs(model, balanced.inputs),
            balanced.y.astype(np.float32),
            validation_data=(X_val, val.y.astype(np.float32)),
            epochs=epochs or trial_cfg.train.epochs,
            initial_epoch=initial_epoch,
            batch_size=trial_cfg.train.batch_size,
            class_weight=balanced.class_weight,
            callbacks=callbacks,
            shuffle=True,
            verbose=0,
        )
        histories.append({k: [float(x) for x in v] for k, v in history.history.items()})
        best = keep.best
        del model, history, keep
    keras.backend.clear_session()
    gc.collect()
    return best_epoch_metrics(histories, objective, direction)
