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
        atomic.append_csv_row(
            self.folder / files.TRIALS_RAN_HERE, row
        )  # as each trial ends: a kill loses nothing
        of = f"/{self.total}" if self.total else ""
        shown = "failed" if score is None else f"{self.objective} {score:.4f}"
        best = "-" if self.best is None else f"{self.best:.4f}"
        self.say(f"trial {trial.trial_id} ({self.done}{of} here): {shown}; best so far {best}")
        if self.progress is not None:
            self.progress.update(self.task, advance=1, best=best)


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
