"""The one reader of run folders: a completed run reopened for later commands (evaluate, predict,
explain, serve), with its config, record, metrics, task, scaling, encoding and (on first use) model.

An ensemble run reopens through its members (they share data and split fingerprints).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.config.experiment import ExperimentConfig
from seqexp.errors import UserError
from seqexp.pipeline.scaling import Standardizer
from seqexp.runfolder import files, lifecycle
from seqexp.tasks import Decision, Task, task_of
from seqexp.tasks.calibration import Calibrator

NEEDED = (files.CONFIG, files.METRICS, files.PREPROCESS)


@dataclass
class SavedRun:
    """What a later command needs from a completed run folder."""

    folder: Path
    cfg: ExperimentConfig
    record: dict[str, Any]
    metrics: dict[str, Any]
    scaler: Standardizer
    schema: dict[str, Any]
    trust: bool = False  # the user vouched for this folder: pickled models may load
    _estimator: Any = field(default=None, repr=False)
    _scorer: Any = field(default=None, repr=False)
    _calibrator: Calibrator | None = field(default=None, repr=False)

    @property
    def task(self) -> Task:
        return task_of(self.metrics)

    @property
    def decision(self) -> Decision:
        """The decision chosen on the run's validation split (a threshold, or argmax)."""
        return self.task.decision_of(self.metrics)

    @property
    def threshold(self) -> float | None:
        return self.decision.threshold

    @property
    def estimator(self) -> Any:
        """The trained model, loaded on first use (TensorFlow is imported only then)."""
        if self._estimator is None:
            from seqexp.models import load_estimator

            self._estimator = load_estimator(
                self.record.get("estimator", "keras"), self.folder, trust=self.trust
            )
        return self._estimator

    @property
    def calibrator(self) -> Calibrator:
        """The calibration fitted on the run's validation split (the identity for runs without one)."""
        if self._calibrator is None:
            path = self.folder / files.CALIBRATION
            state = json.loads(path.read_text()) if path.is_file() else {"method": "none"}
            self._calibrator = Calibrator.from_json(state)
        return self._calibrator

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of the model's scores."""
        return self.calibrator.apply(scores)

    @property
    def scorer(self) -> Any:
        """The model's batch scoring function (for Keras, traced once per run)."""
        if self._scorer is None:
            self._scorer = self.estimator.batch_scorer()
        return self._scorer


def open_run(folder: Path, *, trust: bool = False) -> SavedRun:
    """Reopen a completed run; a folder that is not a run, or a run that did not complete, is a
    ``UserError`` saying so."""
    from seqexp.config.loading import load_config

    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: no such run folder")
    record = lifecycle.read_run(folder)
    status = record.get("status")
    if status != "completed":
        why = f": {record['error']}" if record.get("error") else ""
        raise UserError(f"{folder}: the run is '{status}', not completed{why}; train it again")
    if (group := group_of(folder, record)) is not None:
        raise UserError(group.refusal())
    if record.get("estimator") == "ensemble":
        return _open_ensemble(folder, record, trust)
    missing = [name for name in NEEDED if not (folder / name).is_file()]
    if missing:
        raise UserError(f"{folder}: incomplete run folder, missing {', '.join(missing)}")
    schema_path = folder / files.DATA_SCHEMA
    return SavedRun(
        folder=folder,
        cfg=load_config(folder / files.CONFIG),
        record=record,
        metrics=json.loads((folder / files.METRICS).read_text()),
        scaler=Standardizer.load(folder / files.PREPROCESS),
        schema=json.loads(schema_path.read_text()) if schema_path.is_file() else {},
        trust=trust,
    )


GROUP_KINDS = {"repeats": "seeds", "kfold": "folds", "backtest": "backtest cutoffs"}


@dataclass(frozen=True)
class Group:
    """A parent run folder of ordinary child runs (seeds, folds, backtest cutoffs): ``metrics.json``
    holds the ``mean`` and ``std`` of the children's metrics, ``run.json`` lists the children."""

    folder: Path
    kind: str
    children: list[Path]
    record: dict[str, Any]

    @property
    def what(self) -> str:
        return GROUP_KINDS.get(self.kind, "child runs")

    def summary(self) -> dict[str, Any]:
        """The parent's ``metrics.json`` (kind, n, mean, std), or ``{}`` while it has none."""
        path = self.folder / files.METRICS
        return json.loads(path.read_text()) if path.is_file() else {}

    def refusal(self) -> str:
        """Why a command that needs one model cannot take the parent, and what to give instead."""
        example = f"e.g. {self.children[0]}" if self.children else "none has finished yet"
        return (
            f"{self.folder}: a group of {len(self.children)} {self.what} (mean ± std in {files.METRICS}),"
            f" not one model; give one of its runs ({example}), or see them all with "
            f"`seqexp compare {self.folder}`"
        )


def group_of(folder: Path, record: dict[str, Any] | None = None) -> Group | None:
    """The group a parent folder holds, or None when ``folder`` is one run (or not a run)."""
    folder = Path(folder)
    if record is None:
        if not (folder / files.RUN).is_file():
            return None
        record = lifecycle.read_run(folder)
    kind = record.get("kind")
    if kind not in GROUP_KINDS and "children" not in record:
        return None
    children = [folder / str(name) for name in record.get("children") or []]
    return Group(folder, str(kind or "group"), [c for c in children if c.is_dir()], record)


class CombinedEstimator:
    """An ensemble run's members, each scoring the same encoded rows, combined as the run says."""

    kind = "ensemble"

    def __init__(self, members: list[SavedRun], combiner: Any):
        self.members = members  # each member's scores go through its own calibration when it has one
        self.combiner = combiner
        flags = list(getattr(combiner, "calibrated", [])) or [False] * len(members)
        self._maps = [
            m.probabilities if used else (lambda s: s) for m, used in zip(members, flags, strict=True)
        ]

    def predict(self, X: np.ndarray) -> np.ndarray:
        columns = [to_p(m.estimator.predict(X)) for m, to_p in zip(self.members, self._maps, strict=True)]
        return self.combiner.combine(np.column_stack(columns))

    def batch_scorer(self, threads: int | None = None) -> Any:
        scorers = [m.estimator.batch_scorer(threads) for m in self.members]
        maps = self._maps
        return lambda X: self.combiner.combine(
            np.column_stack([to_p(score(X)) for score, to_p in zip(scorers, maps, strict=True)])
        )


def _open_ensemble(folder: Path, record: dict[str, Any], trust: bool) -> SavedRun:
    """An ensemble run reopened through its members. They share the data and split fingerprints,
    so the first member's config, encoding and train-fitted scaling are every member's."""
    from seqexp.ensembles.combine import load_combiner

    paths, combiner = load_combiner(folder)
    members = [open_run(Path(path), trust=trust) for path in paths]
    first = members[0]
    run = SavedRun(
        folder=folder,
        cfg=first.cfg,
        record=record,
        metrics=json.loads((folder / files.METRICS).read_text()),
        scaler=first.scaler,
        schema=first.schema,
        trust=trust,
    )
    run._estimator = CombinedEstimator(members, combiner)
    return run
