"""How trials run: in a recycled child process (memory stays bounded), each one recorded as it ends."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.config.experiment import ExperimentConfig
from seqexp.runfolder import atomic, files, lifecycle
from seqexp.tuning import space as space_mod
from seqexp.tuning.config import tune_of

Say = Callable[[str], None]


FINISHED = ("COMPLETED", "FAILED")  # keras-tuner's TrialStatus values of a trial that ran to its end


@dataclass
class TrialEvents:
    """What this process hears about trials: a CSV record and the progress view. ``done`` and
    ``best`` count the whole search (a resumed one included, ``resume_from``); a worker, which
    sees only its own trials, counts those (``here``)."""

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
    here: bool = False

    def resume_from(self, oracle: Any) -> None:
        """Start from the trials a resumed search already finished: their count and best score."""
        finished = [t for t in oracle.trials.values() if str(t.status).upper() in FINISHED]
        self.done = len(finished)
        for trial in finished:
            if str(trial.status).upper() == "COMPLETED":
                self._better(trial.score)

    def _better(self, score: float | None) -> None:
        if score is not None and np.isfinite(score):
            pick = max if self.direction == "max" else min
            self.best = score if self.best is None else pick(self.best, score)

    @property
    def best_text(self) -> str:
        return "-" if self.best is None else f"{self.best:.4f}"

    def trial_ended(self, trial: Any, tuner_id: str, metrics: dict[str, float]) -> None:
        self.done += 1
        status = str(trial.status).lower()
        score = metrics.get(self.objective)
        if status == "completed":
            self._better(score)
        row = {
            "trial_id": trial.trial_id,
            "tuner_id": tuner_id,
            "status": status,
            self.objective: "" if score is None else f"{score:.6g}",
            "epochs": metrics.get("epochs", ""),
            "seconds": f"{metrics.get('seconds', 0.0):.2f}",
            "finished": lifecycle.now_iso(),
        }
        atomic.append_csv_row(
            self.folder / files.TRIALS_RAN_HERE, row
        )  # as each trial ends: a kill loses nothing
        of = f"/{self.total}" if self.total else ""
        shown = "failed" if score is None else f"{self.objective} {score:.4f}"
        count = f"{self.done}{of}" + (" here" if self.here else "")
        self.say(f"trial {trial.trial_id} ({count}): {shown}; best so far {self.best_text}")
        if self.progress is not None:
            self.progress.update(self.task, advance=1, best=self.best_text)


def checkpoint_path(tuner: Any, trial_id: str) -> str:
    """Where a trial's best weights are kept: keras-tuner's own file in the trial's folder (so
    ``Tuner.load_model`` finds them), from its public ``get_trial_dir``."""
    return str(Path(tuner.get_trial_dir(trial_id)) / CHECKPOINT)


CHECKPOINT = "checkpoint.weights.h5"  # keras-tuner's name for it under Keras 3


class SeqexpTrials:
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
                load_weights=checkpoint_path(self, previous) if previous else None,
                checkpoint=checkpoint_path(self, trial.trial_id),
                executions=self.executions_per_trial,  # type: ignore[attr-defined]
                objective=objective.name,
                direction=objective.direction,
            )
        except BrokenProcessPool:
            raise RuntimeError("the trial's process died (out of memory? see run.log)") from None
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

    def __init__(self, cfg: ExperimentConfig, prepared: Any, log_path: Path):
        self.cfg, self.prepared, self.log_path = cfg, prepared, log_path
        self.executor: Any = None

    def _start(self) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from seqexp.tuning.trial_process import init_child

        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),  # never fork a process running TensorFlow
            initializer=init_child,
            initargs=(self.cfg.model_dump(mode="json", by_alias=True), self.prepared, str(self.log_path)),
            max_tasks_per_child=tune_of(self.cfg).trials_per_process,
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
