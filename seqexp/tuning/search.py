"""Run a keras-tuner search: one process alone, or a chief and its workers.

keras-tuner keeps its three parts: the *oracle* (random, hyperband, bayesian) proposes values, the
*tuner* runs trials, and the *hypermodel* turns values into a model. Ours maps values into a copy of
the config and calls the same builders as ``seqexp train`` (``prepare`` once per search, then per
trial ``balance`` on the training split and ``build_keras_model``, or for a model that is not a
Keras architecture, such as LightGBM or scikit-learn's, ``build_estimator(...).fit``); the builders
never know about tuning.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqexp.config.experiment import ExperimentConfig
from seqexp.config.loading import load_config
from seqexp.config.yaml_io import to_yaml
from seqexp.errors import UserError
from seqexp.pipeline.train import run_logger
from seqexp.runfolder import atomic, files, lifecycle
from seqexp.tuning import budget
from seqexp.tuning.chatter import into_log
from seqexp.tuning.config import tune_of
from seqexp.tuning.hypermodel import make_hypermodel
from seqexp.tuning.roles import Role, current_role
from seqexp.tuning.trials import SeqexpTrials, TrialEvents, TrialPool

Say = Callable[[str], None]

TUNER_CLASSES = {"random": "RandomSearch", "hyperband": "Hyperband", "bayesian": "BayesianOptimization"}
# What may change when a search is resumed: its budget, and what is done after it.
RESUMABLE = ("top_k", "trials_per_process", "max_trials", "max_minutes")


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def search_hashes(cfg: ExperimentConfig) -> dict[str, str]:
    """One hash per part of the config that decides what the trials mean (``tune.top_k`` does not)."""
    data = cfg.model_dump(mode="json", by_alias=True)
    tune = data.pop("tune")
    hashes = {f"tune.{key}": _digest(value) for key, value in tune.items() if key not in RESUMABLE}
    hashes.update({key: _digest(value) for key, value in data.items() if key != "name"})
    return hashes


def _changed(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Keys whose hash differs (a folder from before a key became resumable still holds its hash)."""
    keys = {k for k in old.keys() | new.keys() if k.removeprefix("tune.") not in RESUMABLE}
    return sorted(k for k in keys if old.get(k) != new.get(k))


def build_tuner(cfg: ExperimentConfig, hypermodel: Any, folder: Path, *, resume: bool) -> Any:
    import keras_tuner as kt

    tune = tune_of(cfg)
    base = getattr(kt, TUNER_CLASSES[tune.tuner])
    cls = type(f"Seqexp{base.__name__}", (SeqexpTrials, base), {})
    kwargs: dict[str, Any] = {
        "hypermodel": hypermodel,
        "objective": kt.Objective(tune.objective.metric, direction=tune.objective.best),
        "executions_per_trial": tune.executions_per_trial,
        "seed": tune.seed if tune.seed is not None else cfg.seed,
        "directory": str(folder),
        "project_name": files.TUNER_PROJECT,
        # A new search always starts clean; only --resume reloads (keras-tuner would otherwise
        # resume silently from whatever it finds in the folder).
        "overwrite": not resume,
    }
    if tune.tuner == "hyperband":
        kwargs.update(
            max_epochs=tune.max_epochs, factor=tune.factor, hyperband_iterations=tune.hyperband_iterations
        )
    else:
        kwargs["max_trials"] = budget.oracle_cap(tune)
    tuner = cls(**kwargs)
    if tune.tuner == "hyperband" and tune.max_trials is not None:
        # Hyperband takes no max_trials, but its oracle stops at Oracle.max_trials like any other
        # (not kept in keras-tuner's saved state: set again on every build, so resume may raise it).
        tuner.oracle.max_trials = tune.max_trials
    return tuner


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
        suffix = f"tune-{role.tuner_id}" if role.part == "worker" else "tune"
        record = lifecycle.create(
            runs_dir, f"{cfg.name}-{suffix}", to_yaml(cfg), seed=cfg.seed, command="tune", role=role.part
        )
        record.update(name=cfg.name)
        hashes = {"hashes": search_hashes(cfg), "tuner": tune_of(cfg).tuner}
        atomic.write_json(record.folder / files.SEARCH, hashes)
        return cfg, record.folder, record

    if role.part == "worker":
        raise UserError(
            "a worker does not resume: start it again without --resume (the chief keeps the search)"
        )
    folder = resume
    previous = lifecycle.read_run(folder)
    if previous.get("command") != "tune" or not (folder / files.SEARCH).is_file():
        raise UserError(
            f"{folder}: not a tune folder (made by '{previous.get('command')}'); --resume takes one"
        )
    if previous.get("role") == "worker":
        raise UserError(f"{folder}: a worker's folder holds no search state; resume the chief's folder")
    stored_cfg = load_config(folder / files.CONFIG)
    stored = json.loads((folder / files.SEARCH).read_text())["hashes"]
    edited = _changed(stored, search_hashes(stored_cfg))
    if edited:
        raise UserError(f"{folder}: config.yaml was edited since the search started ({', '.join(edited)}); "
                        "restore it, or start a new search")  # fmt: skip
    if cfg is not None and (changed := _changed(stored, search_hashes(cfg))):
        raise UserError(
            f"{folder}: cannot resume with a different search: {', '.join(changed)} changed. "
            "Only the budget (tune.max_trials, tune.max_minutes), tune.top_k and tune.trials_per_process "
            "may change; resume with the folder's own config (seqexp tune --resume FOLDER), or start a "
            "new search (leave out --resume)."
        )
    use = stored_cfg if cfg is None else cfg
    if previous.get("status") == "completed":
        _refuse_a_spent_budget(folder, use, int(previous.get("trials") or 0))
    if (written := to_yaml(use)) != (folder / files.CONFIG).read_text():
        atomic.write_text(folder / files.CONFIG, written)  # a new budget: a later resume keeps it
    record = lifecycle.RunRecord.reopen(folder, resumed=[*previous.get("resumed", []), lifecycle.now_iso()])
    return use, folder, record


def _refuse_a_spent_budget(folder: Path, cfg: ExperimentConfig, ran: int) -> None:
    """A completed search continues only when its budget now allows more trials."""
    tune = tune_of(cfg)
    if tune.tuner == "hyperband" and ran >= budget.plan_of(tune).trials:
        raise UserError(
            f"{folder}: this search completed hyperband's whole plan ({ran} trials for max_epochs="
            f"{tune.max_epochs}, factor={tune.factor}); start a new search without --resume"
        )
    if ran >= budget.trial_cap(tune):
        raise UserError(
            f"{folder}: this search completed its {ran} trials; to run more, raise its budget: "
            f"seqexp tune --resume {folder} --set tune.max_trials={ran + 10}"
        )


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
    log = run_logger(folder, say)
    stopped = f"interrupted; continue with: seqexp tune --resume {folder}"
    with lifecycle.recording(record, interrupted=stopped):
        best = _search(cfg, folder, record, role, resume is not None, log, progress)
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
    from seqexp.pipeline.prepare import prepare
    from seqexp.runtime.backend import tensorflow

    tensorflow()
    # A new model per trial retraces Keras' functions every time; TensorFlow's warning says so each
    # trial, which is expected here and would drown the progress view.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    prepared = prepare(cfg)  # once: every trial reuses the same split and scaling
    prepared.task.refuse("tune")
    log(f"data: {cfg.data.name}, {len(prepared.data.y)} rows, X {prepared.data.X.shape}")
    record.update(**prepared.fingerprints, tuner=tune_of(cfg).tuner, objective=tune_of(cfg).objective.metric)
    from seqexp.runtime.distribute import describe

    if line := describe(cfg.train):  # each trial's model is built under the strategy (same builder)
        log(line)
    tune, log_path = tune_of(cfg), folder / files.LOG
    # keras-tuner's own lines ("Reloading Tuner from ...", its summaries) go to run.log only.
    with into_log(log_path):
        tuner = build_tuner(cfg, make_hypermodel(cfg, prepared), folder, resume=resuming)
        if role.part != "worker":  # a worker's space comes from the chief, which may not be up yet
            tuner.search_space_summary()
    objective = tune.objective
    events = TrialEvents(folder, objective.metric, objective.best, budget.trial_cap(tune), log, progress,
                         here=role.part == "worker")  # fmt: skip
    tuner.seqexp_events = events
    tuner.seqexp_space = tune.space
    tuner.seqexp_pool = pool = TrialPool(cfg, prepared, log_path)
    clock = budget.TimeBudget(tune.max_minutes)
    if role.part != "worker":  # the oracle that hands out trials keeps the budget
        clock.install(tuner.oracle)
        log(f"budget: {budget.describe(tune)}")
        for note in budget.warnings_for(tune):
            log(f"warning: {note}")
    if resuming and role.part != "worker":
        events.resume_from(tuner.oracle)
    if role.part == "chief":
        log(f"chief: serving trials on {role.address}; start workers with --worker ID --chief-host HOST")
    elif role.part == "worker":
        log(f"worker {role.tuner_id}: asking the chief at {role.address} for trials")
    else:
        log(f"{tune.tuner} search: {events.total} trials at most, objective {objective.metric} "
            f"({objective.best})" + (f"; resuming after {events.done} trials, best so far "
                                     f"{events.best_text}" if resuming else ""))  # fmt: skip
    started = time.perf_counter()
    with into_log(log_path), progress if progress is not None else contextlib.nullcontext():
        if progress is not None:
            events.task = progress.add_task(
                "trials", total=events.total, completed=events.done, best=events.best_text
            )
        try:
            tuner.search(verbose=1)  # keras-tuner's trial banners: into run.log
        except KeyboardInterrupt:
            if pool.executor is not None:  # its child got the same Ctrl-C: do not wait for it
                pool.executor.shutdown(wait=False, cancel_futures=True)
                pool.executor = None
            raise
        except RuntimeError as exc:
            if "consecutive failures" not in str(exc):
                raise
            from seqexp.tuning.results import trial_rows, write_trials_csv

            if role.writes_results:  # what was tried, and each trial's error, for the user to read
                write_trials_csv(folder / files.TRIALS, trial_rows(cfg, tuner.oracle))
            last = str(exc).strip().splitlines()[-1]
            raise UserError(
                f"the search stopped: {tune_of(cfg).tuner} trials kept failing; the last error: {last}"
            ) from None
        finally:
            if pool.executor is not None:
                pool.close()
    seconds = time.perf_counter() - started
    if clock.stopped_after is not None:
        log(f"budget: tune.max_minutes={tune.max_minutes:g} reached; the search stopped after "
            f"{clock.stopped_after} trials")  # fmt: skip
    if not role.writes_results:
        record.finish("completed", trials_run=events.done, search_seconds=round(seconds, 3))
        return None

    from seqexp.tuning.results import write_results

    best = write_results(cfg, tuner.oracle, folder, log)
    record.finish("completed", trials=best.pop("trials"), search_seconds=round(seconds, 3), best=best)
    return best
