"""``seqexp train``'s pipeline: one experiment from config to a completed run folder.

The steps, in the honest order: build data -> split -> fit scaling on train -> balance train only
-> fit (early stopping on validation) -> decide on validation (the threshold) -> measure on test,
beside a baseline trained on the same rows -> write. The run folder's lifecycle (status, failure,
interruption) is ``runfolder.lifecycle.recording``'s job, not this module's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.config.experiment import ExperimentConfig
from seqexp.config.yaml_io import to_yaml
from seqexp.data.split import protocol_text
from seqexp.models.base import Estimator
from seqexp.pipeline.fit import (
    Say,
    balance_train,
    fit_baseline,
    fit_model,
    fitted_rates,
    keep_partial_history,
)
from seqexp.pipeline.prepare import Prepared, prepare
from seqexp.runfolder import atomic, files, lifecycle
from seqexp.tasks import Decision, Task
from seqexp.tasks.calibration import Calibrator


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    metrics: dict[str, Any]


def run_logger(run_dir: Path, say: Say) -> Say:
    """Say a message and append it to the run's log."""

    def log(message: str) -> None:
        atomic.append_log(run_dir / files.LOG, message)
        say(message)

    return log


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
    record = lifecycle.create(runs_dir, cfg.name, to_yaml(cfg), seed=cfg.seed, command=command)
    with lifecycle.recording(record, on_end=on_end, on_stop=keep_partial_history):
        metrics = run_steps(cfg, record, run_logger(record.folder, say), progress)
    return TrainResult(record.folder, metrics)


def run_steps(cfg: ExperimentConfig, record: lifecycle.RunRecord, log: Say, progress: Any | None) -> dict:
    started = time.perf_counter()
    run_dir = record.folder
    prepared = prepare(cfg)
    task = prepared.task
    task.check_config(cfg)  # refuse settings the target's task cannot use, before any fitting
    _describe_data(cfg, prepared, log, time.perf_counter() - started)
    _save_preparation(record, prepared)
    fit_train = balance_train(cfg, prepared, run_dir, log)
    estimator, history, fit_seconds = fit_model(cfg, prepared, fit_train, run_dir, log, progress)
    val, test = prepared.val, prepared.test
    parts = {"val": (val.y, estimator.predict(val.inputs)), "test": (test.y, estimator.predict(test.inputs))}
    metrics = measure(cfg, task, parts)
    metrics["split"] = prepared.split.protocol  # compare ranks only runs measured the same way
    metrics.update(task.reference_baselines(prepared.train.y, parts))
    baseline = fit_baseline(cfg, task, prepared, fit_train)
    if baseline is not None:
        metrics["baseline"] = baseline[0]
    _log_baselines(task, metrics, log)
    calibrator = _calibrate(cfg, task, metrics, parts, fitted_rates(prepared, fit_train), run_dir, log)
    decision = task.decision_of(metrics)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="figures") as pool:
        # The figures (matplotlib, mostly Python) are drawn beside the bootstrap and the drift stage
        # (numpy and TensorFlow, which release the GIL), on the machine's second core.
        drawn = pool.submit(
            draw_figures, run_dir, cfg, task, decision, parts, history, estimator.kind, calibrator
        )
        _claims(cfg, task, metrics, parts, baseline, log)
        _drift(task, metrics, prepared, estimator, parts, run_dir, log, seed=cfg.seed)
        log(f"figures: {drawn.result():.2f}s")  # re-raises a figure's error here
    write_outputs(run_dir, task, metrics, prepared, parts, estimator)
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


def measure(cfg: ExperimentConfig, task: Task, parts: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict:
    """Decide on validation (the threshold rule), then measure every part under that decision."""
    y_val, s_val = parts["val"]
    decision = task.decide(cfg.evaluate.threshold, y_val, s_val, cfg.evaluate.costs)  # validation only
    return {**task.score(decision, parts), "model": cfg.model.name}


def _calibrate(
    cfg: ExperimentConfig, task: Task, metrics: dict, parts: dict, rates: tuple[float, float], run_dir: Path,
    log: Say,
) -> Calibrator | None:  # fmt: skip
    """Fit the calibrator on validation; ``calibration.json``, and quality before and after."""
    state, report = task.calibrate(cfg.evaluate.calibration, parts, rates=rates, seed=cfg.seed)
    if state is None:
        return None
    atomic.write_json(run_dir / files.CALIBRATION, state)
    calibrator = Calibrator.from_json(state)
    metrics["calibration"] = report
    metrics["threshold_probability"] = float(calibrator.apply(np.array([metrics["threshold"]]))[0])
    test = report["test"]
    log(
        f"calibration {report['method']} (fitted on validation): test ECE {test['before']['ece']:.4f} -> "
        f"{test['after']['ece']:.4f}, Brier {test['before']['brier']:.4f} -> {test['after']['brier']:.4f}"
    )
    return calibrator


def _claims(
    cfg: ExperimentConfig, task: Task, metrics: dict, parts: dict, baseline: tuple[dict, np.ndarray] | None,
    log: Say,
) -> None:  # fmt: skip
    """Bootstrap intervals, profit, and the paired verdict against the baseline."""
    decision = task.decision_of(metrics)
    resamples = cfg.evaluate.bootstrap
    metrics.update(task.claims(parts, decision, seed=cfg.seed, resamples=resamples, costs=cfg.evaluate.costs))
    if baseline is None:
        return
    y_test, s_test = parts["test"]
    other = task.decision_of(baseline[0])
    verdict = task.versus(y_test, s_test, baseline[1], (decision, other), seed=cfg.seed, resamples=resamples)
    if verdict is None:
        return
    metrics["vs_baseline"] = {"baseline": baseline[0]["model"], **verdict}
    low, high = verdict["interval"]
    log(
        f"{cfg.model.name} vs {baseline[0]['model']}: test {verdict['metric']} difference "
        f"{verdict['difference']:+.4f} [{low:+.4f}, {high:+.4f}] (paired bootstrap, "
        f"{verdict['resamples']} resamples): beats baseline: {verdict['verdict']}"
    )


def _drift(
    task: Task, metrics: dict, prepared: Prepared, estimator: Estimator, parts: dict, run_dir: Path, log: Say,
    *, seed: int,
) -> None:  # fmt: skip
    """``drift.json``: the reference later data is compared with (features of the training rows as
    the source built them, the score on validation) and each part against it; a warning per rule.
    Training rows are scored on a sample (``drift_check.scored_training_rows``)."""
    from seqexp.pipeline import drift_check

    data, split = prepared.data, prepared.split
    raw = {"train": data.subset(split.train), "val": data.subset(split.val), "test": data.subset(split.test)}
    scored = drift_check.scored_training_rows(len(prepared.train.y), seed=seed)
    scores = {
        "train": estimator.predict(prepared.train.inputs[scored]),
        "val": parts["val"][1],
        "test": parts["test"][1],
    }
    document = drift_check.at_training(task, task.decision_of(metrics), raw, scores)
    atomic.write_json(run_dir / files.DRIFT, document)
    for line in drift_check.summary_lines(document["reference"], document["parts"]):
        log(line)
    for line in document["warnings"]:
        log(f"warning: drift: {line}")


def _describe_data(cfg: ExperimentConfig, prepared: Prepared, log: Say, seconds: float) -> None:
    data, spec = prepared.data, prepared.spec
    target = f"{spec.n_classes} classes" if spec.n_classes > 2 else f"positive rate {data.y.mean():.3f}"
    log(
        f"data: {cfg.data.name}, {len(data.y)} rows, X {data.X.shape}, {target}; "
        f"split and scaled, ready in {seconds:.1f}s"
    )
    for note in data.report.get("notes", []):  # what the source detected, dropped or counted
        log(f"data: {note}")
    log(f"split: {describe_split(prepared)}")


def describe_split(prepared: Prepared) -> str:
    """One line: the protocol and what each part holds (base rates: drift between parts shows)."""
    parts = (("train", prepared.train), ("val", prepared.val), ("test", prepared.test))
    binary = prepared.data.n_classes == 2
    sizes = ", ".join(
        f"{name} {len(part.y)}" + (f" (positive rate {part.y.mean():.3f})" if binary else "")
        for name, part in parts
    )
    return f"{protocol_text(prepared.split.protocol)}; {sizes}"


def _save_preparation(record: lifecycle.RunRecord, prepared: Prepared) -> None:
    """Fingerprints and the data report in run.json; the train-fitted scaling and the encoding."""
    data = prepared.data
    record.update(
        **prepared.fingerprints,
        split=prepared.split.protocol,
        data_report=data.report,
        feature_names=data.feature_names,
        input_shape=list(data.X.shape[1:]),
    )
    prepared.scaler.save(record.folder / files.PREPROCESS)
    if prepared.graph is not None:
        prepared.graph.save(record.folder / files.GRAPH)
    atomic.write_json(record.folder / files.DATA_SCHEMA, data.schema)


def _log_baselines(task: Task, metrics: dict[str, Any], log: Say) -> None:
    key, label = task.headline, task.headline_label
    for name in (*task.reference_keys, "baseline"):
        if (other := metrics.get(name)) is not None:
            what = f"{other['model']} ({other['class']})" if "class" in other else other["model"]
            log(f"baseline {what}: test {label} {other['test'][key]:.4f} (model {metrics['test'][key]:.4f})")


def write_outputs(
    run_dir: Path,
    task: Task,
    metrics: dict[str, Any],
    prepared: Prepared,
    parts: dict[str, tuple[np.ndarray, np.ndarray]],
    estimator: Estimator,
) -> None:
    """metrics.json, confusion, predictions of both parts, and the architecture of a Keras model."""
    from seqexp.reporting import figures

    val, test = prepared.val, prepared.test
    task.write_outputs(run_dir, metrics, test.ids, test.y, parts["test"][1], cutoffs=test.cutoffs)
    decision = task.decision_of(metrics)
    task.write_predictions(
        run_dir / files.VAL_PREDICTIONS, val.ids, val.y, parts["val"][1], decision, cutoffs=val.cutoffs
    )
    if estimator.architecture is not None:
        figures.write_architecture(estimator.architecture, run_dir)


def draw_figures(
    run_dir: Path, cfg: ExperimentConfig, task: Task, decision: Decision, parts: dict, history: list[dict],
    kind: str, calibrator: Calibrator | None,
) -> float:  # fmt: skip
    """The run's figures; returns their seconds. It reads only what it is given (no model, no shared
    mutable state), so it may run on another thread."""
    from seqexp.reporting import figures

    started = time.perf_counter()
    title = figures.figure_title(run_dir.name, cfg.model.name, cfg.data.name)
    task.write_figures(
        run_dir, parts, decision, "val", calibrator=calibrator, costs=cfg.evaluate.costs, title=title
    )
    stop = cfg.train.early_stopping
    monitor, mode = (stop.monitor, stop.mode) if stop is not None else ("val_loss", "min")
    if len(history) > 1:  # epochs or boosting rounds; a one-shot fit has no history to draw
        step = "boosting round" if kind == "lightgbm" else "epoch"
        figures.plot_history(history, run_dir / files.HISTORY_PNG, monitor, mode, title=title, step=step)
    return time.perf_counter() - started
