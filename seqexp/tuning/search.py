"""Run a keras-tuner search: one process alone, or a chief and its workers.

keras-tuner keeps its three parts: the *oracle* (random, hyperband, bayesian) proposes values, the
*tuner* runs trials, and the *hypermodel* turns values into a model. Ours maps values into a copy of
the config and calls the same builders as ``seqexp train`` (``prepare`` once per search, then per
trial ``balance`` on the training split and ``build_keras_model``); the builders never know about
tuning.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.config import ExperimentConfig, load_config, to_yaml
from seqexp.errors import UserError
from seqexp.runfolder import atomic, files, lifecycle
from seqexp.tuning import space as space_mod

Say = Callable[[str], None]

PROJECT = "keras_tuner"  # the keras-tuner project folder inside the tune folder
SEARCH = "search.json"  # hashes of the config a search started with (refuses a changed resume)
RAN_HERE = "trials_ran_here.csv"  # the trials this process ran (a worker's own record)
TUNER_CLASSES = {"random": "RandomSearch", "hyperband": "Hyperband", "bayesian": "BayesianOptimization"}


# --------------------------------------------------------------------------- roles and hashes


@dataclass(frozen=True)
class Role:
    """Who this process is in a search: alone, the chief (serves the oracle) or a worker."""

    kind: str  # "single" | "chief" | "worker"
    tuner_id: str = "tuner0"
    address: str = ""

    @property
    def runs_trials(self) -> bool:
        return self.kind != "chief"

    @property
    def writes_results(self) -> bool:
        return self.kind != "worker"


def set_distributed_env(*, chief: bool, worker: str | None, chief_host: str | None, port: int) -> None:
    """Translate ``--chief`` / ``--worker ID --chief-host HOST --port N`` into keras-tuner's variables."""
    if chief and worker is not None:
        raise UserError("--chief and --worker exclude each other: a process is the chief or a worker")
    if not chief and worker is None:
        if chief_host is not None:
            raise UserError("--chief-host is for workers: add --worker ID (or --chief on the chief)")
        return
    if worker is not None:
        if chief_host is None:
            raise UserError("--worker needs --chief-host HOST: the address of the machine running --chief")
        if not worker.replace("-", "").replace("_", "").isalnum() or "chief" in worker:
            raise UserError(f"--worker {worker!r}: use letters, digits, - or _ (and not the word 'chief')")
    if not 0 < port < 65536:
        raise UserError(f"--port {port}: not a TCP port (1-65535)")
    _require_grpc()
    os.environ["KERASTUNER_TUNER_ID"] = "chief" if chief else f"worker-{worker}"
    # The chief binds to this address (all interfaces unless --chief-host says otherwise).
    os.environ["KERASTUNER_ORACLE_IP"] = chief_host or ("0.0.0.0" if chief else "")
    os.environ["KERASTUNER_ORACLE_PORT"] = str(port)


def current_role() -> Role:
    """The role keras-tuner will see, from KERASTUNER_* (set by the flags, or by a cluster)."""
    ip = os.environ.get("KERASTUNER_ORACLE_IP")
    if not ip:
        return Role("single")
    port, tuner_id = os.environ.get("KERASTUNER_ORACLE_PORT"), os.environ.get("KERASTUNER_TUNER_ID")
    if not port or not tuner_id:
        raise UserError(
            "KERASTUNER_ORACLE_IP is set, so this is a distributed search, but KERASTUNER_ORACLE_PORT "
            "and KERASTUNER_TUNER_ID must be set too (or use --chief / --worker)"
        )
    _require_grpc()
    kind = "chief" if "chief" in tuner_id else "worker"
    return Role(kind, tuner_id, f"{ip}:{port}")


def _require_grpc() -> None:
    try:
        import grpc  # noqa: F401
        from keras_tuner.src import protos

        protos.get_service_grpc()
    except ImportError as exc:
        raise UserError(
            f"distributed tuning needs grpcio and protobuf (pip install grpcio protobuf): {exc}"
        ) from None


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def search_hashes(cfg: ExperimentConfig) -> dict[str, str]:
    """One hash per part of the config that decides what the trials mean (``tune.top_k`` does not)."""
    data = cfg.model_dump(mode="json", by_alias=True)
    tune = data.pop("tune")
    hashes = {
        f"tune.{key}": _digest(value)
        for key, value in tune.items()
        if key not in ("top_k", "trials_per_process")
    }
    hashes.update({key: _digest(value) for key, value in data.items() if key != "name"})
    return hashes


def _changed(old: dict[str, str], new: dict[str, str]) -> list[str]:
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


# --------------------------------------------------------------------------- the hypermodel


def validation_scores_callback(X_val: np.ndarray, y_val: np.ndarray) -> Any:
    """Adds val_f1 and val_mcc to each epoch's logs: each at the validation threshold maximising it."""
    import keras
    from sklearn.metrics import f1_score, matthews_corrcoef

    from seqexp.tasks.binary_metrics import choose_threshold

    class ValidationScores(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if logs is None:
                return
            scores = np.asarray(self.model.predict(X_val, batch_size=4096, verbose=0)).reshape(-1)
            t_f1 = choose_threshold("max_f1", y_val, scores)
            t_mcc = choose_threshold("max_mcc", y_val, scores)
            logs["val_f1"] = float(f1_score(y_val, scores >= t_f1, zero_division=0))
            logs["val_mcc"] = float(matthews_corrcoef(y_val, scores >= t_mcc))

    return ValidationScores()


def make_hypermodel(cfg: ExperimentConfig, prepared: Any) -> Any:
    """A keras-tuner HyperModel whose hyperparameters are config paths.

    keras-tuner calls ``build`` to learn the space (and for ``load_model``); trials themselves are
    trained in a child process by ``trial_process.run_trial`` with the same config and builders.
    """
    import keras_tuner as kt

    from seqexp.models import build_keras_model

    space, base = cfg.tune.space, space_mod.base_raw(cfg)

    class ConfigHyperModel(kt.HyperModel):
        def build(self, hp: Any) -> Any:
            values = space_mod.declare(hp, space, base)
            trial_cfg = space_mod.trial_config(base, values, source="trial config")
            return build_keras_model(trial_cfg.model, trial_cfg.train, prepared.spec)

    return ConfigHyperModel()


# --------------------------------------------------------------------------- the tuner


@dataclass
class TrialEvents:
    """What this process hears about its own trials: a CSV record and the progress view."""

    folder: Path
    objective: str
    direction: str
    total: int | None
    say: Say
    progress: Any | None = None
    started: float = field(default_factory=time.perf_counter)
    done: int = 0
    best: float | None = None
    task: Any = None

    def trial_ended(self, trial: Any, tuner_id: str, metrics: dict[str, float]) -> None:
        self.done += 1
        status = str(trial.status).lower()
        score = metrics.get(self.objective)
        if status == "completed" and score is not None and np.isfinite(score):
            better = max if self.direction == "max" else min
            self.best = score if self.best is None else better(self.best, score)
        row = {
            "trial_id": trial.trial_id,
            "tuner_id": tuner_id,
            "status": status,
            self.objective: "" if score is None else f"{score:.6g}",
            "epochs": metrics.get("epochs", ""),
            "seconds": f"{metrics.get('seconds', 0.0):.2f}",
            "finished": lifecycle.now_iso(),
        }
        atomic.append_csv_row(self.folder / RAN_HERE, row)  # as each trial ends: a kill loses nothing
        of = f"/{self.total}" if self.total else ""
        shown = "failed" if score is None else f"{self.objective} {score:.4f}"
        best = "-" if self.best is None else f"{self.best:.4f}"
        self.say(f"trial {trial.trial_id} ({self.done}{of} here): {shown}; best so far {best}")
        if self.progress is not None:
            self.progress.update(self.task, advance=1, best=best)


class _SeqexpTrials:
    """Mixed in front of a keras-tuner tuner: trials train in a recycled child process (memory stays
    bounded), with timing and a per-trial record."""

    seqexp_events: TrialEvents
    seqexp_pool: Any
    seqexp_space: dict[str, Any]

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
        from concurrent.futures.process import BrokenProcessPool

        from seqexp.tuning.trial_process import run_trial

        started = time.perf_counter()
        self._seqexp_metrics: dict[str, float] = {}
        hp = trial.hyperparameters.values
        values = space_mod.values_from(hp, self.seqexp_space)
        if "tuner/epochs" in hp:  # Hyperband decides how long each trial trains
            values["train.epochs"] = int(hp["tuner/epochs"])
        previous = hp.get("tuner/trial_id")
        objective = self.oracle.objective  # type: ignore[attr-defined]
        try:
            metrics = self.seqexp_pool.run(
                run_trial,
                values,
                epochs=hp.get("tuner/epochs"),
                initial_epoch=int(hp.get("tuner/initial_epoch", 0)),
                load_weights=self._get_checkpoint_fname(previous) if previous else None,  # type: ignore[attr-defined]
                checkpoint=self._get_checkpoint_fname(trial.trial_id),  # type: ignore[attr-defined]
                executions=self.executions_per_trial,  # type: ignore[attr-defined]
                objective=objective.name,
                direction=objective.direction,
            )
        except BrokenProcessPool:
            raise RuntimeError("the trial's process died (out of memory?)") from None
        metrics["seconds"] = time.perf_counter() - started
        self._seqexp_metrics = metrics
        return metrics  # the oracle stores every one (epochs and seconds too), also through gRPC

    def on_trial_end(self, trial: Any) -> None:
        super().on_trial_end(trial)  # type: ignore[misc]
        metrics = getattr(self, "_seqexp_metrics", {})
        self.seqexp_events.trial_ended(trial, self.tuner_id, metrics)  # type: ignore[attr-defined]


class TrialPool:
    """One child process at a time runs trials; a fresh one replaces it every ``trials_per_process``
    trials, or after it died."""

    def __init__(self, cfg: ExperimentConfig, prepared: Any):
        self.cfg, self.prepared = cfg, prepared
        self.executor: Any = None

    def _start(self) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from seqexp.tuning.trial_process import init_child

        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),  # never fork a process running TensorFlow
            initializer=init_child,
            initargs=(self.cfg.model_dump(mode="json", by_alias=True), self.prepared),
            max_tasks_per_child=self.cfg.tune.trials_per_process,
        )

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        from concurrent.futures.process import BrokenProcessPool

        if self.executor is None:
            self.executor = self._start()
        try:
            return self.executor.submit(fn, *args, **kwargs).result()
        except BrokenProcessPool:
            self.close()
            raise

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


def trial_progress(console: Any) -> Any:
    """Trial n of N, elapsed time and the best objective so far, live."""
    from seqexp.pipeline.callbacks import progress_display

    return progress_display(console, "best {task.fields[best]}")


def build_tuner(cfg: ExperimentConfig, hypermodel: Any, folder: Path, *, resume: bool) -> Any:
    import keras_tuner as kt

    tune = cfg.tune
    base = getattr(kt, TUNER_CLASSES[tune.tuner])
    cls = type(f"Seqexp{base.__name__}", (_SeqexpTrials, base), {})
    kwargs: dict[str, Any] = {
        "hypermodel": hypermodel,
        "objective": kt.Objective(tune.objective.metric, direction=tune.objective.best),
        "executions_per_trial": tune.executions_per_trial,
        "seed": tune.seed if tune.seed is not None else cfg.seed,
        "directory": str(folder),
        "project_name": PROJECT,
        # A new search always starts clean; only --resume reloads (keras-tuner would otherwise
        # resume silently from whatever it finds in the folder).
        "overwrite": not resume,
    }
    if tune.tuner == "hyperband":
        kwargs.update(
            max_epochs=tune.max_epochs, factor=tune.factor, hyperband_iterations=tune.hyperband_iterations
        )
    else:
        kwargs["max_trials"] = tune.max_trials
    return cls(**kwargs)


def planned_trials(cfg: ExperimentConfig, tuner: Any) -> int | None:
    """How many trials the search will run (Hyperband's count follows from its brackets)."""
    tune = cfg.tune
    if tune.tuner != "hyperband":
        return tune.max_trials
    oracle = tuner.oracle
    try:  # keras-tuner's own bracket arithmetic
        brackets = range(oracle._get_num_brackets())
        per_iteration = sum(
            oracle._get_size(b, r) for b in brackets for r in range(oracle._get_num_rounds(b))
        )
    except AttributeError:
        return None
    return per_iteration * tune.hyperband_iterations


# --------------------------------------------------------------------------- the command


@dataclass(frozen=True)
class TuneResult:
    folder: Path
    role: Role
    best: dict[str, Any] | None


def _open_folder(
    cfg: ExperimentConfig | None, runs_dir: Path, resume: Path | None, role: Role
) -> tuple[ExperimentConfig, Path, lifecycle.RunRecord]:
    if resume is None:
        assert cfg is not None
        suffix = f"tune-{role.tuner_id}" if role.kind == "worker" else "tune"
        folder = lifecycle.create_run_dir(runs_dir, f"{cfg.name}-{suffix}")
        atomic.write_text(folder / files.CONFIG, to_yaml(cfg))
        atomic.write_json(folder / SEARCH, {"hashes": search_hashes(cfg), "tuner": cfg.tune.tuner})
        record = lifecycle.RunRecord(folder, name=cfg.name, seed=cfg.seed, command="tune", role=role.kind)
        return cfg, folder, record

    if role.kind == "worker":
        raise UserError(
            "a worker does not resume: start it again without --resume (the chief keeps the search)"
        )
    folder = resume
    previous = lifecycle.read_run(folder)
    if previous.get("command") != "tune" or not (folder / SEARCH).is_file():
        raise UserError(
            f"{folder}: not a tune folder (made by '{previous.get('command')}'); --resume takes one"
        )
    if previous.get("role") == "worker":
        raise UserError(f"{folder}: a worker's folder holds no search state; resume the chief's folder")
    if previous.get("status") == "completed":
        raise UserError(f"{folder}: this search already completed; start a new one without --resume")
    stored_cfg = load_config(folder / files.CONFIG)
    stored = json.loads((folder / SEARCH).read_text())["hashes"]
    edited = _changed(stored, search_hashes(stored_cfg))
    if edited:
        raise UserError(f"{folder}: config.yaml was edited since the search started ({', '.join(edited)}); "
                        "restore it, or start a new search")  # fmt: skip
    if cfg is not None and (changed := _changed(stored, search_hashes(cfg))):
        raise UserError(
            f"{folder}: cannot resume with a different search: {', '.join(changed)} changed. "
            "Resume with the folder's own config (seqexp tune --resume FOLDER), or start a new search "
            "(leave out --resume)."
        )
    use = stored_cfg if cfg is None else cfg
    record = lifecycle.RunRecord(
        folder, **{k: v for k, v in previous.items() if k not in ("status", "finished", "versions")}
    )
    record.update(resumed=[*previous.get("resumed", []), lifecycle.now_iso()], status="running", finished=None)
    return use, folder, record


def run_tune(
    cfg: ExperimentConfig | None,
    *,
    runs_dir: Path,
    resume: Path | None = None,
    say: Say = lambda _: None,
    progress: Any | None = None,
) -> TuneResult:
    """Run (or resume) a search; the chief or a lone process then writes the results into the folder."""
    if cfg is not None and cfg.tune is None:
        raise UserError("the config has no 'tune' section: add tune: {space: {...}} (see docs/tune.md)")
    role = current_role()
    cfg, folder, record = _open_folder(cfg, runs_dir, resume, role)
    log_path = folder / files.LOG

    def log(message: str) -> None:
        atomic.append_log(log_path, message)
        say(message)

    try:
        best = _search(cfg, folder, record, role, resume is not None, log, progress)
    except KeyboardInterrupt:
        record.finish("interrupted", error=f"interrupted; continue with: seqexp tune --resume {folder}")
        say(f"interrupted; continue with: seqexp tune --resume {folder}")
        raise
    except UserError as exc:
        record.finish("failed", error=str(exc))
        raise
    except Exception as exc:
        record.finish("failed", error=f"{type(exc).__name__}: {exc}")
        raise
    return TuneResult(folder, role, best)


def _search(
    cfg: ExperimentConfig,
    folder: Path,
    record: lifecycle.RunRecord,
    role: Role,
    resuming: bool,
    log: Say,
    progress: Any | None,
) -> dict[str, Any] | None:
    from seqexp.pipeline.train import prepare
    from seqexp.runtime.backend import tensorflow

    tensorflow()
    # A new model per trial retraces Keras' functions every time; TensorFlow's warning says so each
    # trial, which is expected here and would drown the progress view.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    prepared = prepare(cfg)  # once: every trial reuses the same split and scaling
    if prepared.spec.multiclass:
        raise UserError(
            f"tune: the target has {prepared.spec.n_classes} classes; tune searches binary objectives "
            "(val_pr_auc, val_auc...) and supports binary targets only in this version. Train "
            "multi-class configs with seqexp train"
        )
    log(f"data: {cfg.data.name}, {len(prepared.data.y)} rows, X {prepared.data.X.shape}")
    record.update(**prepared.fingerprints, tuner=cfg.tune.tuner, objective=cfg.tune.objective.metric)
    from seqexp.runtime.distribute import describe

    if line := describe(cfg.train):  # each trial's model is built under the strategy (same builder)
        log(line)
    # keras-tuner prints its own notes to stdout; stdout is for the folder's path alone.
    with contextlib.redirect_stdout(sys.stderr):
        tuner = build_tuner(cfg, make_hypermodel(cfg, prepared), folder, resume=resuming)
    total = planned_trials(cfg, tuner)
    objective = cfg.tune.objective
    events = TrialEvents(folder, objective.metric, objective.best, total, log, progress)
    tuner.seqexp_events = events
    tuner.seqexp_space = cfg.tune.space
    tuner.seqexp_pool = pool = TrialPool(cfg, prepared)
    if role.kind == "chief":
        log(f"chief: serving trials on {role.address}; start workers with --worker ID --chief-host HOST")
    elif role.kind == "worker":
        log(f"worker {role.tuner_id}: asking the chief at {role.address} for trials")
    else:
        done = len(tuner.oracle.trials) if resuming else 0
        log(f"{cfg.tune.tuner} search: {total or '?'} trials, objective {objective.metric} ({objective.best})"
            + (f"; resuming after {done} started" if resuming else ""))  # fmt: skip
    started = time.perf_counter()
    with (
        contextlib.redirect_stdout(sys.stderr),
        progress if progress is not None else contextlib.nullcontext(),
    ):
        if progress is not None:
            events.task = progress.add_task("trials", total=total, best="-")
        try:
            tuner.search(verbose=0)
        except KeyboardInterrupt:
            if pool.executor is not None:  # its child got the same Ctrl-C: do not wait for it
                pool.executor.shutdown(wait=False, cancel_futures=True)
                pool.executor = None
            raise
        except RuntimeError as exc:
            if "consecutive failures" not in str(exc):
                raise
            from seqexp.tuning.results import TRIALS, trial_rows, write_trials_csv

            if role.writes_results:  # what was tried, and each trial's error, for the user to read
                write_trials_csv(folder / TRIALS, trial_rows(cfg, tuner.oracle))
            last = str(exc).strip().splitlines()[-1]
            raise UserError(
                f"the search stopped: {cfg.tune.tuner} trials kept failing; the last error: {last}"
            ) from None
        finally:
            if pool.executor is not None:
                pool.close()
    seconds = time.perf_counter() - started
    if not role.writes_results:
        record.finish("completed", trials_run=events.done, search_seconds=round(seconds, 3))
        return None

    from seqexp.tuning.results import write_results

    best = write_results(cfg, tuner.oracle, folder, log)
    record.finish("completed", trials=best.pop("trials"), search_seconds=round(seconds, 3), best=best)
    return best
