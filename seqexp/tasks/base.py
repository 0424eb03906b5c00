"""The task seam: what a prediction task decides, measures, writes and shows.

A task is chosen once, from the data (``task_for``) or from a saved run's ``metrics.json``
(``task_of``); the verbs (train, evaluate, predict, ensemble, tune) then call its methods and never
ask which task they are in. Two tasks exist: binary (one score, a threshold chosen on validation)
and multi-class (one probability per class, the most probable class).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.config.experiment import ExperimentConfig

Parts = dict[str, tuple[np.ndarray, np.ndarray]]  # split name -> (labels, scores)


@dataclass(frozen=True)
class Decision:
    """How scores become labels: a threshold (binary) or the most probable class (``None``)."""

    threshold: float | None
    rule: str  # in words, for tables and metrics.json


@dataclass
class Scored:
    """What scoring unlabelled customers found, for the summary lines (``seqexp predict``)."""

    output: Path
    rows: int = 0
    predicted_positive: int = 0  # binary: customers at or above the threshold
    threshold: float | None = None
    counts: Counter = field(default_factory=Counter)  # risk levels (binary) or predicted classes
    unseen: dict[str, int] = field(default_factory=dict)
    task: Task | None = None  # the task that scored them, which words the summary
    positive_in: set[str] = field(default_factory=set)  # risk levels holding predicted positives
    bands: Any = None  # the risk levels the rows were given (binary)
    threshold_probability: float | None = None  # the decision threshold as a calibrated probability
    history: str = ""  # as of which date event histories were built, who was left out
    drift: dict[str, Any] | None = None  # the scored data against the run's drift reference: lines, warnings

    def lines(self) -> list[str]:
        assert self.task is not None
        drift = list((self.drift or {}).get("lines", []))
        return [*([self.history] if self.history else []), *self.task.summary_lines(self), *drift]


class Task(ABC):
    """One prediction task. Scores are ``(rows,)`` for binary and ``(rows, classes)`` otherwise."""

    name: str
    shown: tuple[str, ...]  # the headline metrics of tables, in order
    headline: str  # the one metric a log line quotes
    headline_label: str
    reference_keys: tuple[str, ...] = ()  # metrics.json keys of baselines that need no model

    # ------------------------------------------------------------------ before training
    @abstractmethod
    def check_config(self, cfg: ExperimentConfig) -> None:
        """Refuse settings that mean nothing for this task, saying what to do instead."""

    def refuse(self, verb: str) -> None:  # noqa: B027  (a hook: most tasks allow every verb)
        """Raise a ``UserError`` when ``verb`` (``ensemble``, ``tune``) cannot handle this task."""

    # ------------------------------------------------------------------ deciding and measuring
    @abstractmethod
    def decide(self, rule: Any, y_val: np.ndarray, scores_val: np.ndarray, costs: Any = None) -> Decision:
        """The decision, set on validation rows only (``costs``: for a profit rule)."""

    @abstractmethod
    def decision_of(self, metrics: dict[str, Any]) -> Decision:
        """The decision a saved run (its ``metrics.json``) made."""

    @abstractmethod
    def fixed(self, threshold: float, where: str) -> Decision:
        """A decision at a threshold the user gave (``where`` names the option), or a ``UserError``."""

    @abstractmethod
    def measure(self, y: np.ndarray, scores: np.ndarray, decision: Decision) -> dict[str, float]:
        """Every metric of ``scores`` against ``y`` under ``decision``."""

    @abstractmethod
    def per_class(self, y: np.ndarray, scores: np.ndarray, decision: Decision) -> dict[str, Any]:
        """scikit-learn's per-class report."""

    @abstractmethod
    def header(self, decision: Decision) -> dict[str, Any]:
        """The fields ``metrics.json`` starts with (task, decision, threshold...)."""

    def score(self, decision: Decision, parts: Parts, *, per_class: bool = True) -> dict[str, Any]:
        """``metrics.json``'s shape: the header, then each part's metrics, then per-class reports."""
        out: dict[str, Any] = self.header(decision)
        for part, (y, scores) in parts.items():
            out[part] = self.measure(y, scores, decision)
        if per_class:
            out["classification_report"] = {
                part: self.per_class(y, scores, decision) for part, (y, scores) in parts.items()
            }
        return out

    def reference_baselines(self, y_train: np.ndarray, parts: Parts) -> dict[str, dict[str, Any]]:
        """Baselines that need no model (e.g. the most frequent class), by ``metrics.json`` key."""
        return {}

    # ------------------------------------------------------------------ probabilities and claims
    def calibrate(
        self, method: str, parts: Parts, *, rates: tuple[float, float], seed: int
    ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """Fit a calibrator on the validation part: (its JSON state or None, a report for
        metrics.json). Tasks whose outputs are already probabilities per class return (None, {})."""
        return None, {}

    def claims(
        self, parts: Parts, decision: Decision, *, seed: int, resamples: int, costs: Any = None
    ) -> dict[str, Any]:
        """Intervals of the test metrics and business figures, for metrics.json (may be empty)."""
        return {}

    def probability_quality(  # noqa: B027  (a hook: only scores that need calibrating have it)
        self, y: np.ndarray, scores: np.ndarray, calibrator: Any
    ) -> dict[str, Any] | None:
        """How good the scores and the calibrated probabilities are as probabilities (evaluate)."""
        return None

    def versus(
        self, y: np.ndarray, scores: np.ndarray, other: np.ndarray, decisions: tuple[Decision, Decision],
        *, seed: int, resamples: int,
    ) -> dict[str, Any] | None:  # fmt: skip
        """A paired comparison of two models on the same rows (None where the task has none)."""
        return None

    @abstractmethod
    def drift_view(self, scores: np.ndarray, decision: Decision) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """What drift follows: one score per customer, the predicted class index per customer, and
        the class names (index order)."""

    def check_labels(self, y: np.ndarray) -> None:  # noqa: B027  (a hook)
        """Refuse labels this run cannot score (evaluate on new data)."""

    # ------------------------------------------------------------------ writing
    @abstractmethod
    def write_outputs(
        self, folder: Path, metrics: dict[str, Any], ids: np.ndarray, y: np.ndarray, scores: np.ndarray,
        part: str = "test", cutoffs: np.ndarray | None = None,
    ) -> None:  # fmt: skip
        """``metrics.json``, the confusion matrix (CSV; its figure is ``write_figures``') and
        ``predictions.csv``."""

    @abstractmethod
    def write_predictions(
        self, path: Path, ids: np.ndarray, y: np.ndarray | None, scores: np.ndarray, decision: Decision,
        cutoffs: np.ndarray | None = None,
    ) -> None:  # fmt: skip
        """One row per customer (``y_true`` left out when labels are unknown; a ``cutoff`` column after
        the id for snapshot examples)."""

    def write_figures(  # noqa: B027  (a hook: not every task draws figures of its own)
        self, folder: Path, parts: Parts, decision: Decision, decided_on: str, *, calibrator: Any = None,
        costs: Any = None, title: str | None = None,
    ) -> None:  # fmt: skip
        """The task's figures, titled ``title`` (the run, model and data), classes by name: the
        confusion matrix of the last part in ``parts`` (test at training), and for binary targets the
        ranking curves, calibration, metric vs threshold (on ``decided_on``), gains and lift, profit."""

    # ------------------------------------------------------------------ scoring new customers
    @abstractmethod
    def check_predict_options(self, cuts: list[float] | None, levels: list[str] | None) -> None:
        """Refuse ``predict`` options that do not apply."""

    def new_scored(self, output: Path, decision: Decision, bands: Any) -> Scored:
        """An empty tally for ``predict_rows`` to fill."""
        return Scored(output=output, threshold=decision.threshold, task=self)

    @abstractmethod
    def predict_header(self) -> list[str]:
        """Columns of ``seqexp predict``'s CSV."""

    @abstractmethod
    def predict_rows(
        self, ids: np.ndarray, scores: np.ndarray, probabilities: np.ndarray, decision: Decision,
        bands: Any, scored: Scored,
    ) -> list[tuple[Any, ...]]:  # fmt: skip
        """Rows of one chunk of scored customers (``probabilities``: calibrated scores); counts what
        was predicted into ``scored``."""

    @abstractmethod
    def summary_lines(self, scored: Scored) -> list[str]:
        """What ``seqexp predict`` says about the customers it scored."""

    # ------------------------------------------------------------------ showing
    @abstractmethod
    def title(self, metrics: dict[str, Any], part: str = "test") -> str:
        """A table title saying how decisions were made."""


def describe_unseen(counts: dict[str, int]) -> str:
    return ", ".join(f"{column}: {n}" for column, n in counts.items())


def unseen_line(counts: dict[str, int]) -> list[str]:
    if not counts:
        return []
    return ["categorical values never seen in training (encoded as all-zeros): " + describe_unseen(counts)]
