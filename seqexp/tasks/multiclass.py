"""The multi-class task: one probability per class (softmax), the most probable class decides.

Thresholds do not apply, so a threshold rule other than the default is refused, and so are risk
bands. The run reports a "most frequent class" baseline beside the model (and the configured
baseline model). Files: ``metrics.json`` (``task: multiclass``, ``classes``, ``decision: argmax``,
``threshold: null``), an N x N ``confusion_matrix.csv``/``.png``, and ``predictions.csv`` /
``val_predictions.csv`` with ``id, y_true, y_pred, p_<class>...`` (true and predicted class by
name, then each class's probability in class order); ``seqexp predict`` writes ``id, y_pred, p_pred``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.config.experiment import ExperimentConfig
from seqexp.errors import DataError, UserError
from seqexp.runfolder import files
from seqexp.runfolder.atomic import atomic_path, write_json
from seqexp.tasks import multiclass_metrics
from seqexp.tasks.base import Decision, Parts, Scored, Task, unseen_line

DECISION_RULE = "argmax (thresholds do not apply to multi-class targets)"
MOST_FREQUENT = "most_frequent"
SHOWN = (
    "f1_macro", "f1_weighted", "precision_macro", "recall_macro", "mcc", "accuracy",
    "balanced_accuracy", "top_3_accuracy", "roc_auc_ovr_macro", "pr_auc_ovr_macro", "log_loss",
)  # fmt: skip
ARGMAX = Decision(None, DECISION_RULE)


class MulticlassTask(Task):
    name = "multiclass"
    shown = SHOWN
    headline = "f1_macro"
    headline_label = "macro-F1"
    reference_keys = (MOST_FREQUENT,)

    def __init__(self, classes: list[str]):
        self.classes = [str(c) for c in classes]

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def check_config(self, cfg: ExperimentConfig) -> None:
        n_classes = self.n_classes
        rule = cfg.evaluate.threshold
        if not (isinstance(rule, float) and rule == 0.5):
            raise UserError(
                f"evaluate.threshold: the target has {n_classes} classes and the decision is the most "
                f"probable class (argmax); a threshold rule ({rule!r}) applies to binary targets only. "
                "Remove evaluate.threshold"
            )
        if cfg.train.loss == "focal":
            raise UserError(
                f"train.loss: focal is for binary targets; this target has {n_classes} classes and trains "
                "with sparse categorical cross-entropy. Remove train.loss and use balance: "
                "{name: class_weight} to weigh rare classes"
            )
        train = cfg.train
        for key, section in (("early_stopping", train.early_stopping), ("reduce_lr", train.reduce_lr)):
            if section is not None and "auc" in section.monitor:
                raise UserError(
                    f"train.{key}.monitor: {section.monitor} is a binary ranking metric; a multi-class "
                    "model reports loss and accuracy. Use val_loss"
                )

    def refuse(self, verb: str) -> None:
        if verb == "ensemble":
            raise UserError(
                f"a multi-class run ({self.n_classes} classes); ensembles combine binary scores only "
                "in this version"
            )
        if verb == "tune":
            raise UserError(
                f"tune: the target has {self.n_classes} classes; tune searches binary objectives "
                "(val_pr_auc, val_auc...) and supports binary targets only in this version. Train "
                "multi-class configs with seqexp train"
            )

    def decide(self, rule: Any, y_val: np.ndarray, scores_val: np.ndarray, costs: Any = None) -> Decision:
        return ARGMAX

    def decision_of(self, metrics: dict[str, Any]) -> Decision:
        return ARGMAX

    def fixed(self, threshold: float, where: str) -> Decision:
        raise UserError(
            f"{where}: the run predicts one of {self.n_classes} classes by argmax; thresholds do not "
            f"apply. Leave {where} out"
        )

    def measure(self, y: np.ndarray, scores: np.ndarray, decision: Decision) -> dict[str, float]:
        return multiclass_metrics.multiclass_metrics(y, scores)

    def drift_view(self, scores: np.ndarray, decision: Decision) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """The probability of the most probable class, and that class."""
        return scores.max(axis=1), scores.argmax(axis=1), list(self.classes)

    def per_class(self, y: np.ndarray, scores: np.ndarray, decision: Decision) -> dict[str, Any]:
        return multiclass_metrics.classification_report(y, scores, self.classes)

    def header(self, decision: Decision) -> dict[str, Any]:
        return {
            "task": "multiclass",
            "n_classes": self.n_classes,
            "classes": self.classes,
            "decision": "argmax",
            "threshold": None,
            "threshold_rule": DECISION_RULE,
        }

    def reference_baselines(self, y_train: np.ndarray, parts: Parts) -> dict[str, dict[str, Any]]:
        """Always the most frequent class of the (natural, unbalanced) training split; its
        probabilities are the training class shares (scikit-learn's DummyClassifier, 'prior')."""
        from sklearn.dummy import DummyClassifier

        dummy = DummyClassifier(strategy="prior").fit(np.zeros((len(y_train), 1)), y_train)

        def proba(n: int) -> np.ndarray:
            out = np.zeros((n, self.n_classes))
            out[:, dummy.classes_.astype(int)] = dummy.predict_proba(np.zeros((n, 1)))
            return out

        constant = {part: (y, proba(len(y))) for part, (y, _) in parts.items()}
        scored = self.score(ARGMAX, constant, per_class=False)
        for key in self.header(ARGMAX):
            scored.pop(key)
        label = self.classes[int(dummy.predict(np.zeros((1, 1)))[0])]
        return {MOST_FREQUENT: {"model": MOST_FREQUENT, "class": label, **scored}}

    def check_labels(self, y: np.ndarray) -> None:
        if len(y) and (y.min() < 0 or y.max() >= self.n_classes):
            raise DataError(
                f"labels outside the run's {self.n_classes} classes (indices 0..{self.n_classes - 1})"
            )

    def write_outputs(
        self, folder: Path, metrics: dict[str, Any], ids: np.ndarray, y: np.ndarray, scores: np.ndarray,
        part: str = "test", cutoffs: np.ndarray | None = None,
    ) -> None:  # fmt: skip
        write_json(folder / files.METRICS, metrics)
        multiclass_metrics.write_confusion(folder, y, scores, self.classes)
        self.write_predictions(folder / files.PREDICTIONS, ids, y, scores, ARGMAX, cutoffs)

    def write_predictions(
        self, path: Path, ids: np.ndarray, y: np.ndarray | None, scores: np.ndarray, decision: Decision,
        cutoffs: np.ndarray | None = None,
    ) -> None:  # fmt: skip
        names, proba = self.classes, scores
        with atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
            writer = csv.writer(handle)
            head = ["id", "y_true", "y_pred"] if y is not None else ["id", "y_pred"]
            if cutoffs is not None:
                head.insert(1, "cutoff")
            writer.writerow([*head, *(f"p_{name}" for name in names)])
            predicted = proba.argmax(axis=1)
            cells = np.char.mod("%.6f", proba).tolist()
            for i, cid in enumerate(ids.tolist()):
                row = [cid] if cutoffs is None else [cid, str(cutoffs[i])[:19]]
                row += [names[int(y[i])]] if y is not None else []
                writer.writerow([*row, names[int(predicted[i])], *cells[i]])

    def write_figures(
        self, folder: Path, parts: Parts, decision: Decision, decided_on: str, *, calibrator: Any = None,
        costs: Any = None, title: str | None = None,
    ) -> None:  # fmt: skip
        """The confusion matrix of the last part (test at training; the evaluated part later)."""
        from seqexp.reporting.confusion import plot_confusion

        part, (y, scores) = list(parts.items())[-1]
        matrix = multiclass_metrics.confusion(y, scores, self.n_classes)
        heading = f"{part} ({self.n_classes} classes, argmax)"
        plot_confusion(matrix, self.classes, folder / files.CONFUSION_PNG, heading=heading, title=title)

    def check_predict_options(self, cuts: list[float] | None, levels: list[str] | None) -> None:
        if cuts is not None or levels is not None:
            raise UserError(
                f"--bands/--levels: the run predicts one of {self.n_classes} classes; risk bands apply "
                "to binary scores only. Leave them out"
            )

    def predict_header(self) -> list[str]:
        return ["id", "y_pred", "p_pred"]

    def predict_rows(
        self, ids: np.ndarray, scores: np.ndarray, probabilities: np.ndarray, decision: Decision,
        bands: Any, scored: Scored,
    ) -> list[tuple[Any, ...]]:  # fmt: skip
        best = scores.argmax(axis=1)
        chosen = np.asarray(self.classes, dtype=object)[best]
        p_best = np.char.mod("%.6f", scores[np.arange(len(best)), best])
        scored.rows += len(ids)
        scored.counts.update(chosen.tolist())
        return list(zip(ids.tolist(), chosen.tolist(), p_best.tolist(), strict=True))

    def summary_lines(self, scored: Scored) -> list[str]:
        top = ", ".join(f"{name} {n}" for name, n in scored.counts.most_common(5))
        return [f"{scored.rows} customers scored (most probable class); most predicted: {top}",
                *unseen_line(scored.unseen)]  # fmt: skip

    def title(self, metrics: dict[str, Any], part: str = "test") -> str:
        return f"{part} metrics ({metrics['n_classes']} classes, decision: argmax)"
