"""``seqexp train``: one experiment from config to a completed run folder.

Order of operations (the honest one): build data -> stratified split -> fit scaling on train ->
balance train only -> fit (early stopping on val) -> threshold on val -> metrics on test.
"""

from __future__ import annotations

import contextlib
import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.config import ExperimentConfig, to_yaml
from seqexp.data.checks import check_features, check_labels
from seqexp.data.dataset import Dataset
from seqexp.data.split import Split, stratified_split
from seqexp.errors import UserError
from seqexp.models.base import FitData, InputSpec
from seqexp.pipeline.scaling import Standardizer
from seqexp.registry import DATA_SOURCES
from seqexp.runfolder import atomic, files, lifecycle

Say = Callable[[str], None]


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    metrics: dict[str, Any]


def load_dataset(cfg: ExperimentConfig) -> Dataset:
    """Build the configured data source's arrays (file sources: reused from ``data/cache/`` when the
    file and the data section are unchanged, see seqexp/data/cache.py)."""
    from seqexp.data.cache import cached_build

    return cached_build(cfg.data, lambda: DATA_SOURCES.get(cfg.data.name).builder(cfg.data, seed=cfg.seed))


@dataclass(frozen=True)
class Prepared:
    """Data split and scaled (scaling fitted on train only): what every verb that fits or scores needs.

    ``train``, ``val`` and ``test`` hold scaled arrays; ``split`` indexes rows of ``data``.
    """

    data: Dataset
    split: Split
    scaler: Standardizer
    train: Dataset
    val: Dataset
    test: Dataset

    @property
    def spec(self) -> InputSpec:
        return InputSpec(
            shape=tuple(self.data.X.shape[1:]),
            masked=self.data.mask is not None,
            n_classes=self.data.n_classes,
        )

    @property
    def fingerprints(self) -> dict[str, str]:
        data_fp = self.data.fingerprint()
        return {"data_fingerprint": data_fp, "split_fingerprint": self.split.fingerprint(data_fp)}


def make_split(cfg: ExperimentConfig, y: np.ndarray) -> Split:
    """The split a config asks for: same config and data, same rows in each part."""
    seed = cfg.split.seed if cfg.split.seed is not None else cfg.seed
    if cfg.split.method == "kfold":
        if cfg.split.fold is None:
            raise UserError(
                "split.method: kfold trains one run per fold (seqexp train does it); to use a single "
                "fold here, set split.fold"
            )
        from seqexp.pipeline.kfold import fold_split

        return fold_split(y, cfg.split, seed)
    return stratified_split(y, cfg.split.train, cfg.split.val, cfg.split.test, seed)


def prepare(cfg: ExperimentConfig, data: Dataset | None = None) -> Prepared:
    """Load (unless given), split, and scale with statistics from the training split alone."""
    data = data if data is not None else load_dataset(cfg)
    check_labels(data.y, data.n_classes)
    check_features(data)
    split = make_split(cfg, data.y)
    parts = [data.subset(index) for index in (split.train, split.val, split.test)]
    scaler = Standardizer.fit(
        parts[0].X,
        parts[0].mask,
        data.feature_names,
        passthrough=data.onehot_columns,
        impute=data.schema.get("impute", "mean"),  # missing values: filled with train statistics
    )
    train, val, test = (replace(part, X=scaler.transform(part.X, part.mask)) for part in parts)
    return Prepared(data, split, scaler, train, val, test)


def train_experiment(
    cfg: ExperimentConfig,
    *,
    runs_dir: Path,
    say: Say = lambda _: None,
    progress: Any | None = None,
    command: str = "train",
    on_end: Callable[[Path], None] | None = None,
) -> TrainResult:
    """Run the whole experiment into a new run folder; the folder's ``run.json`` says how it ended.

    ``on_end(run_dir)`` is called once the folder is final, whether the run completed, failed or was
    interrupted (MLflow tracking uses it).
    """
    run_dir = lifecycle.create_run_dir(runs_dir, cfg.name)
    atomic.write_text(run_dir / files.CONFIG, to_yaml(cfg))
    record = lifecycle.RunRecord(run_dir, name=cfg.name, seed=cfg.seed, command=command)
    log_path = run_dir / files.LOG

    def log(message: str) -> None:
        atomic.append_log(log_path, message)
        say(message)

    try:
        metrics = _run(cfg, run_dir, record, log, progress)
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM turned into one by the CLI
        _keep_partial_history(run_dir)
        record.finish("interrupted", error="interrupted by the user")
        raise lifecycle.RunInterrupted(run_dir) from None
    except UserError as exc:
        _keep_partial_history(run_dir)
        record.finish("failed", error=str(exc))
        raise
    except Exception as exc:
        _keep_partial_history(run_dir)
        record.finish("failed", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if on_end is not None:
            on_end(run_dir)
    return TrainResult(run_dir, metrics)


def _keep_partial_history(run_dir: Path) -> None:
    """A run that stops early keeps the epochs it finished as its ``history.csv`` (an atomic rename)."""
    partial = run_dir / files.HISTORY_PARTIAL
    if partial.exists():
        partial.replace(run_dir / files.HISTORY)


def _run(
    cfg: ExperimentConfig, run_dir: Path, record: lifecycle.RunRecord, log: Say, progress: Any | None
) -> dict[str, Any]:
    from seqexp.balancing import balance, class_counts
    from seqexp.models import build_estimator

    started = time.perf_counter()
    prepared = prepare(cfg)
    data, train, val, test = prepared.data, prepared.train, prepared.val, prepared.test
    spec = prepared.spec
    if spec.multiclass:  # argmax decisions, softmax models: refuse binary-only settings up front
        from seqexp.tasks.multiclass import check_config

        check_config(cfg, spec.n_classes)
    target = f"{spec.n_classes} classes" if spec.multiclass else f"positive rate {data.y.mean():.3f}"
    log(
        f"data: {cfg.data.name}, {len(data.y)} rows, X {data.X.shape}, {target}; "
        f"split and scaled, ready in {time.perf_counter() - started:.1f}s"
    )
    for note in data.report.get("notes", []):  # what the source detected, dropped or counted
        log(f"data: {note}")
    record.update(
        **prepared.fingerprints,
        data_report=data.report,
        feature_names=data.feature_names,
        input_shape=list(data.X.shape[1:]),
    )
    prepared.scaler.save(run_dir / files.PREPROCESS)
    atomic.write_json(run_dir / files.DATA_SCHEMA, data.schema)

    balanced = balance(cfg.balance, train.X, train.y, train.mask, data.onehot_groups, seed=cfg.seed)
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

    fit_train = FitData(balanced.X, balanced.y, balanced.class_weight)
    fit_val = FitData(val.X, val.y)
    estimator = build_estimator(cfg.model, cfg.train, spec, seed=cfg.seed)
    log(f"model: {cfg.model.name}; training up to {cfg.train.epochs} epochs")
    if estimator.kind == "keras" and (line := _distribute_line(cfg)):
        log(line)
    callbacks = []
    if estimator.keras_callbacks:
        from seqexp.pipeline.callbacks import make_callbacks

        callbacks = make_callbacks(cfg.train, run_dir, progress)
    fit_started = time.perf_counter()
    with progress if progress is not None else contextlib.nullcontext():
        history = estimator.fit(fit_train, fit_val, train_cfg=cfg.train, callbacks=callbacks)
    fit_seconds = time.perf_counter() - fit_started
    _write_history(run_dir, history)
    log(f"fit: {len(history)} epoch(s) in {fit_seconds:.1f}s")

    if spec.multiclass:
        from seqexp.tasks.multiclass import finish_run

        names = list(data.schema["classes"])
        parts = (train, val, test)
        metrics = finish_run(cfg, run_dir, spec, estimator, fit_train, fit_val, parts, history, names, log)
    else:
        scores_val, scores_test = estimator.predict(val.X), estimator.predict(test.X)
        metrics = _score(cfg, val.y, scores_val, test.y, scores_test)
        metrics["model"] = cfg.model.name
        if cfg.evaluate.baseline != "none" and cfg.model.name != cfg.evaluate.baseline:
            metrics["baseline"] = _baseline(cfg, spec, fit_train, fit_val, test)
            log(
                f"baseline {cfg.evaluate.baseline}: test PR-AUC {metrics['baseline']['test']['pr_auc']:.4f} "
                f"(model {metrics['test']['pr_auc']:.4f})"
            )
        write_scored_outputs(run_dir, metrics, test.ids, test.y, scores_test)
        write_predictions(run_dir / files.VAL_PREDICTIONS, val.ids, val.y, scores_val, metrics["threshold"])
        figures_started = time.perf_counter()
        _write_figures(run_dir, cfg, metrics, (val.y, scores_val), (test.y, scores_test), history, estimator)
        log(f"figures: {time.perf_counter() - figures_started:.2f}s")
    estimator.save(run_dir)
    record.finish(
        "completed",
        estimator=estimator.kind,
        epochs=len(history),
        fit_seconds=round(fit_seconds, 3),
        total_seconds=round(time.perf_counter() - started, 3),
        threshold=metrics["threshold"],
    )
    return metrics


def _distribute_line(cfg: ExperimentConfig) -> str | None:
    from seqexp.runtime.distribute import describe

    return describe(cfg.train)


def _score(
    cfg: ExperimentConfig, y_val: np.ndarray, s_val: np.ndarray, y_test: np.ndarray, s_test: np.ndarray
) -> dict[str, Any]:
    from seqexp.tasks.binary_metrics import (
        binary_metrics,
        choose_threshold,
        classification_report,
        describe_rule,
    )

    threshold = choose_threshold(cfg.evaluate.threshold, y_val, s_val)  # validation only
    return {
        "threshold": threshold,
        "threshold_rule": describe_rule(cfg.evaluate.threshold),
        "val": binary_metrics(y_val, s_val, threshold),
        "test": binary_metrics(y_test, s_test, threshold),
        "classification_report": {
            "val": classification_report(y_val, s_val, threshold),
            "test": classification_report(y_test, s_test, threshold),
        },
    }


def _baseline(
    cfg: ExperimentConfig, spec: InputSpec, fit_train: FitData, fit_val: FitData, test: Dataset
) -> dict[str, Any]:
    """The non-neural bar, trained on the same (balanced) training rows, thresholded the same way."""
    from seqexp.models import build_estimator
    from seqexp.registry import MODELS

    baseline_cfg = MODELS.get(cfg.evaluate.baseline).config_class()
    baseline = build_estimator(baseline_cfg, cfg.train, spec, seed=cfg.seed)
    baseline.fit(fit_train, fit_val, train_cfg=cfg.train, callbacks=[])
    result = _score(cfg, fit_val.y, baseline.predict(fit_val.X), test.y, baseline.predict(test.X))
    return {"model": cfg.evaluate.baseline, **result}


def _write_history(run_dir: Path, history: list[dict]) -> None:
    fields: list[str] = []
    for row in history:
        fields.extend(k for k in row if k not in fields)
    lines = [",".join(fields)] + [",".join(_cell(row.get(k)) for k in fields) for row in history]
    atomic.write_text(run_dir / files.HISTORY, "\n".join(lines) + "\n")
    (run_dir / files.HISTORY_PARTIAL).unlink(missing_ok=True)


def _cell(value: Any) -> str:
    return "" if value is None else (f"{value:.8g}" if isinstance(value, float) else str(value))


def write_scored_outputs(
    folder: Path,
    metrics: dict[str, Any],
    ids: np.ndarray,
    y: np.ndarray,
    scores: np.ndarray,
    part: str = "test",
) -> None:
    """``metrics.json``, the confusion matrix (CSV and PNG) and ``predictions.csv`` of scored binary
    data at ``metrics["threshold"]``: a run's test split (model or ensemble) or an evaluation."""
    from seqexp.tasks.binary_metrics import confusion, plot_confusion

    threshold = metrics["threshold"]
    atomic.write_json(folder / files.METRICS, metrics)
    matrix = confusion(y, scores, threshold)
    atomic.write_text(
        folder / files.CONFUSION_CSV,
        "true\\predicted,0,1\n" + "".join(f"{i},{row[0]},{row[1]}\n" for i, row in enumerate(matrix)),
    )
    plot_confusion(matrix, folder / files.CONFUSION_PNG, f"{part}, threshold {threshold:.3f}")
    write_predictions(folder / files.PREDICTIONS, ids, y, scores, threshold)


def _write_figures(
    run_dir: Path,
    cfg: ExperimentConfig,
    metrics: dict[str, Any],
    val: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    history: list[dict],
    estimator: Any,
) -> None:
    """Curves on val and test, metric vs threshold on val (where it was chosen), history, architecture."""
    from seqexp.reporting import figures as plots

    plots.write_score_plots(run_dir, {"val": val, "test": test}, metrics["threshold"], "val")
    stop = cfg.train.early_stopping
    monitor, mode = (stop.monitor, stop.mode) if stop is not None else ("val_loss", "min")
    plots.plot_history(history, run_dir / plots.HISTORY_PNG, monitor, mode)
    if getattr(estimator, "kind", None) == "keras":
        plots.write_architecture(estimator.model, run_dir)


def write_predictions(
    path: Path, ids: np.ndarray, y: np.ndarray | None, scores: np.ndarray, threshold: float
) -> None:
    """``id, y_true, score, y_pred`` per customer (``y_true`` left out when labels are unknown)."""
    with atomic.atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "y_true", "score", "y_pred"] if y is not None else ["id", "score", "y_pred"])
        labels = y if y is not None else [None] * len(ids)
        for cid, label, score in zip(ids, labels, scores, strict=True):
            row = [cid, int(label)] if label is not None else [cid]
            writer.writerow([*row, f"{score:.6f}", int(score >= threshold)])
