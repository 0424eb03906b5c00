"""Fitting stages: balance the training split (only), fit the model, fit the baselines beside it.

Balancing happens here and nowhere else, on the training rows the split produced, so "resample
only at fit" is a property of the pipeline rather than a convention each verb must remember.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numpy as np

from seqexp.config.experiment import ExperimentConfig
from seqexp.config.section import Component
from seqexp.models.base import Estimator, FitData
from seqexp.pipeline.prepare import Prepared
from seqexp.runfolder import atomic, files
from seqexp.tasks import Task

Say = Callable[[str], None]


def balance_train(cfg: ExperimentConfig, prepared: Prepared, run_dir: Path, log: Say) -> FitData:
    """The balanced training rows (and class weights); class counts before and after are written."""
    from seqexp.balancing import balance, class_counts

    train, val, test = prepared.train, prepared.val, prepared.test
    balanced = balance(cfg.balance, train.X, train.y, train.mask, prepared.data.onehot_groups, seed=cfg.seed,
                       static=train.static)  # fmt: skip
    for note in balanced.notes:
        log(f"balance: {note}")
    counts = {
        "train": {"before": class_counts(train.y), "after": class_counts(balanced.y)},
        "val": class_counts(val.y),
        "test": class_counts(test.y),
        "synthetic_rows": balanced.synthetic,
        "class_weight": balanced.class_weight,
    }
    atomic.write_json(run_dir / files.CLASS_COUNTS, counts)
    return FitData(balanced.inputs, balanced.y, balanced.class_weight)


def fit_model(
    cfg: ExperimentConfig,
    prepared: Prepared,
    fit_train: FitData,
    run_dir: Path,
    log: Say,
    progress: Any | None,
) -> tuple[Estimator, list[dict], float]:
    """Build and fit the configured model (early stopping on validation); ``history.csv`` written."""
    from seqexp.models import build_estimator

    spec = prepared.spec
    estimator = build_estimator(cfg.model, cfg.train, spec, seed=cfg.seed)
    log(
        f"model: {cfg.model.name}"
        + (f"; training up to {cfg.train.epochs} epochs" if estimator.keras_callbacks else "")
    )
    if spec.static:
        log(f"model input: the sequence {spec.shape} beside a static vector of {spec.static} feature(s)")
    callbacks = []
    if estimator.keras_callbacks:
        from seqexp.pipeline.callbacks import make_callbacks
        from seqexp.runtime.distribute import describe

        if line := describe(cfg.train):
            log(line)
        callbacks = make_callbacks(cfg.train, run_dir, progress)
    started = time.perf_counter()
    with progress if progress is not None else contextlib.nullcontext():
        history = estimator.fit(fit_train, FitData(prepared.val.inputs, prepared.val.y), train_cfg=cfg.train,
                                callbacks=callbacks)  # fmt: skip
    seconds = time.perf_counter() - started
    write_history(run_dir, history)
    unit = "epoch(s)" if estimator.keras_callbacks else "history row(s)"  # boosting rounds, or one fit
    log(f"fit: {len(history)} {unit} in {seconds:.1f}s")
    return estimator, history, seconds


def fit_baseline(
    cfg: ExperimentConfig, task: Task, prepared: Prepared, fit_train: FitData
) -> tuple[dict[str, Any], np.ndarray] | None:
    """The non-neural bar, trained on the same (balanced) training rows, decided the same way: its
    metrics and its test scores (for the paired comparison with the model)."""
    from seqexp.models import build_estimator
    from seqexp.registry import MODELS

    name = baseline_name(cfg, prepared)
    if name == "none" or cfg.model.name == name:
        return None
    baseline_cfg = cast(Component, MODELS.get(name).config_class())
    baseline = build_estimator(baseline_cfg, cfg.train, prepared.spec, seed=cfg.seed)
    val, test = prepared.val, prepared.test
    baseline.fit(fit_train, FitData(val.inputs, val.y), train_cfg=cfg.train, callbacks=[])
    s_val, s_test = baseline.predict(val.inputs), baseline.predict(test.inputs)
    decision = task.decide(cfg.evaluate.threshold, val.y, s_val, cfg.evaluate.costs)  # validation only
    measured = task.score(decision, {"val": (val.y, s_val), "test": (test.y, s_test)})
    return {"model": name, **measured}, s_test


def baseline_name(cfg: ExperimentConfig, prepared: Prepared) -> str:
    """The configured baseline; ``auto`` is the strongest cheap bar for the data: LightGBM on tables
    and aggregates (the static vector beside a sequence included), logistic regression beside
    sequence models without one (and beside LightGBM itself)."""
    name = cfg.evaluate.baseline
    if name != "auto":
        return name
    spec = prepared.spec
    if (spec.is_sequence and not spec.static) or cfg.model.name == "lightgbm":
        return "logistic_regression"
    return "lightgbm"


def fitted_rates(prepared: Prepared, fit_train: FitData) -> tuple[float, float]:
    """(natural positive rate of the training split, the rate the model was fitted at): resampling
    and class weights move the second; the ``prior`` calibration undoes exactly that move."""
    natural = float(np.mean(prepared.train.y == 1))
    weights = fit_train.class_weight or {}
    positives = float(np.sum(fit_train.y == 1)) * weights.get(1, 1.0)
    negatives = float(np.sum(fit_train.y != 1)) * weights.get(0, 1.0)
    return natural, positives / max(positives + negatives, 1e-12)


def write_history(run_dir: Path, history: list[dict]) -> None:
    fields: list[str] = []
    for row in history:
        fields.extend(k for k in row if k not in fields)
    lines = [",".join(fields)] + [",".join(_cell(row.get(k)) for k in fields) for row in history]
    atomic.write_text(run_dir / files.HISTORY, "\n".join(lines) + "\n")
    (run_dir / files.HISTORY_PARTIAL).unlink(missing_ok=True)


def keep_partial_history(run_dir: Path) -> None:
    """A run that stops early keeps the epochs it finished as its ``history.csv`` (an atomic rename)."""
    partial = run_dir / files.HISTORY_PARTIAL
    if partial.exists():
        partial.replace(run_dir / files.HISTORY)


def _cell(value: Any) -> str:
    return "" if value is None else (f"{value:.8g}" if isinstance(value, float) else str(value))
