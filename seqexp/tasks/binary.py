"""The binary task: one score per customer, a threshold chosen on validation, risk levels.

Files: ``metrics.json`` (``threshold``, ``threshold_rule``, metrics per part with lift, capture and
KS, ``calibration`` before and after, ``intervals`` of the test metrics, ``profit`` when costs are
given), a 2 x 2 confusion matrix, ``predictions.csv`` with ``id, y_true, score, y_pred``,
``calibration.json``; ``seqexp predict`` writes ``id, score, probability, y_pred, risk``.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.config.experiment import ExperimentConfig
from seqexp.runfolder import files
from seqexp.runfolder.atomic import atomic_path, write_json, write_text
from seqexp.tasks import binary_metrics, bootstrap, business, calibration
from seqexp.tasks.base import Decision, Parts, Scored, Task, unseen_line
from seqexp.tasks.class_names import DEFAULT

SHOWN = ("pr_auc", "roc_auc", "f1", "mcc", "precision", "recall", "balanced_accuracy", "accuracy")


@dataclass(frozen=True)
class RiskBands:
    """``levels[i]`` for scores in ``[cuts[i-1], cuts[i])``: default low < 0.3 <= medium < 0.7 <= high."""

    cuts: tuple[float, ...] = (0.3, 0.7)
    levels: tuple[str, ...] = ("low", "medium", "high")

    def __post_init__(self) -> None:
        from seqexp.config.sections import check_risk_bands

        check_risk_bands(list(self.cuts), list(self.levels))

    def assign(self, scores: np.ndarray) -> np.ndarray:
        return np.asarray(self.levels, dtype=object)[np.searchsorted(self.cuts, scores, side="right")]


class BinaryTask(Task):
    name = "binary"
    shown = SHOWN
    headline = "pr_auc"
    headline_label = "PR-AUC"

    def __init__(self, names: tuple[str, str] | list[str] = DEFAULT, target: str | None = None):
        """``names``: what class 0 and class 1 are called on figures (``tasks.class_names``);
        ``target``: what they are of (a column, or the label rule)."""
        self.names = (str(names[0]), str(names[1])) if len(names) == 2 else DEFAULT
        self.target = target

    def check_config(self, cfg: ExperimentConfig) -> None:
        """Every setting applies to a binary target."""

    def decide(self, rule: Any, y_val: np.ndarray, scores_val: np.ndarray, costs: Any = None) -> Decision:
        if rule == "max_profit":
            threshold = business.max_profit_threshold(y_val, scores_val, costs)
        else:
            threshold = binary_metrics.choose_threshold(rule, y_val, scores_val)
        return Decision(threshold, binary_metrics.describe_rule(rule))

    def decision_of(self, metrics: dict[str, Any]) -> Decision:
        return Decision(float(metrics["threshold"]), str(metrics.get("threshold_rule", "")))

    def fixed(self, threshold: float, where: str) -> Decision:
        from seqexp.errors import UserError

        if not 0.0 < threshold < 1.0:
            raise UserError(f"{where}: must lie strictly between 0 and 1 (got {threshold})")
        return Decision(float(threshold), f"fixed {threshold:g} ({where})")

    def measure(self, y: np.ndarray, scores: np.ndarray, decision: Decision) -> dict[str, float]:
        measured = binary_metrics.binary_metrics(y, scores, self._cut(decision))
        if len(np.unique(y)) > 1:
            measured.update(business.ranking_figures(y, scores))
        return measured

    def calibrate(
        self, method: str, parts: Parts, *, rates: tuple[float, float], seed: int
    ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        y_val, s_val = parts["val"]
        calibrator = calibration.fit(method, y_val, s_val, prior=rates)
        report: dict[str, Any] = {"method": method}
        for part, (y, scores) in parts.items():
            # validation: out of fold (no row judged by a calibrator fitted on it); test: fitted on val
            after = (calibration.out_of_fold(method, y, scores, seed=seed, prior=rates) if part == "val"
                     else calibrator.apply(scores))  # fmt: skip
            report[part] = {"before": calibration.quality(y, scores), "after": calibration.quality(y, after)}
        return calibrator.to_json(), report

    def claims(
        self, parts: Parts, decision: Decision, *, seed: int, resamples: int, costs: Any = None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        y, scores = parts["test"]
        if resamples and len(np.unique(y)) > 1:
            intervals = bootstrap.intervals(y, scores, self._cut(decision), seed=seed, resamples=resamples)
            out["intervals"] = {"test": intervals, "level": bootstrap.LEVEL, "resamples": resamples}
        if costs is not None:
            out["profit"] = {}
            for part, (y_p, s_p) in parts.items():
                total = business.profit(y_p, s_p, self._cut(decision), costs)
                out["profit"][part] = {"total": total, "per_customer": total / max(len(y_p), 1)}
        return out

    def probability_quality(
        self, y: np.ndarray, scores: np.ndarray, calibrator: Any
    ) -> dict[str, Any] | None:
        if calibrator is None or calibrator.method == "none" or len(np.unique(y)) < 2:
            return None
        after = calibrator.apply(scores)
        return {"method": calibrator.method, "before": calibration.quality(y, scores),
                "after": calibration.quality(y, after)}  # fmt: skip

    def versus(
        self, y: np.ndarray, scores: np.ndarray, other: np.ndarray, decisions: tuple[Decision, Decision],
        *, seed: int, resamples: int,
    ) -> dict[str, Any] | None:  # fmt: skip
        if not resamples or len(np.unique(y)) < 2:
            return None
        cuts = (self._cut(decisions[0]), self._cut(decisions[1]))
        return bootstrap.paired_difference(y, scores, other, seed=seed, thresholds=cuts, resamples=resamples)

    def drift_view(self, scores: np.ndarray, decision: Decision) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """The score itself, and 1 at or above the threshold."""
        return scores, (scores >= self._cut(decision)).astype(int), ["0", "1"]

    def per_class(self, y: np.ndarray, scores: np.ndarray, decision: Decision) -> dict[str, Any]:
        return binary_metrics.classification_report(y, scores, self._cut(decision))

    def header(self, decision: Decision) -> dict[str, Any]:
        out: dict[str, Any] = {"threshold": decision.threshold, "threshold_rule": decision.rule}
        out["class_names"] = list(self.names)  # what figures call class 0 and class 1
        return {**out, "target": self.target} if self.target else out

    @staticmethod
    def _cut(decision: Decision) -> float:
        assert decision.threshold is not None, "a binary decision has a threshold"
        return decision.threshold

    def write_outputs(
        self, folder: Path, metrics: dict[str, Any], ids: np.ndarray, y: np.ndarray, scores: np.ndarray,
        part: str = "test", cutoffs: np.ndarray | None = None,
    ) -> None:  # fmt: skip
        decision = self.decision_of(metrics)
        threshold = self._cut(decision)
        write_json(folder / files.METRICS, metrics)
        matrix = binary_metrics.confusion(y, scores, threshold)
        write_text(
            folder / files.CONFUSION_CSV,
            "true\\predicted,0,1\n" + "".join(f"{i},{row[0]},{row[1]}\n" for i, row in enumerate(matrix)),
        )
        self.write_predictions(folder / files.PREDICTIONS, ids, y, scores, decision, cutoffs)

    def write_predictions(
        self, path: Path, ids: np.ndarray, y: np.ndarray | None, scores: np.ndarray, decision: Decision,
        cutoffs: np.ndarray | None = None,
    ) -> None:  # fmt: skip
        threshold = self._cut(decision)
        with atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
            writer = csv.writer(handle)
            head = ["id", "y_true", "score", "y_pred"] if y is not None else ["id", "score", "y_pred"]
            writer.writerow(head if cutoffs is None else [head[0], "cutoff", *head[1:]])
            labels = y if y is not None else [None] * len(ids)
            dates = [None] * len(ids) if cutoffs is None else [str(c)[:19] for c in cutoffs]
            for cid, date, label, score in zip(ids, dates, labels, scores, strict=True):
                row = [cid] if date is None else [cid, date]
                row += [int(label)] if label is not None else []
                writer.writerow([*row, f"{score:.6f}", int(score >= threshold)])

    def write_figures(
        self, folder: Path, parts: Parts, decision: Decision, decided_on: str, *, calibrator: Any = None,
        costs: Any = None, title: str | None = None,
    ) -> None:  # fmt: skip
        from seqexp.reporting.confusion import plot_confusion
        from seqexp.reporting.decision_figures import write_decision_figures
        from seqexp.reporting.figures import write_score_plots

        threshold = self._cut(decision)
        calibrated = calibrator is not None and calibrator.method != "none"  # calibration.png: before/after
        write_score_plots(folder, parts, threshold, decided_on, title=title, calibration=not calibrated)
        write_decision_figures(folder, parts, threshold, calibrator=calibrator, costs=costs, title=title)
        part, (y, scores) = list(parts.items())[-1]  # test at training; the evaluated part later
        names = list(self.names)
        if self.names == DEFAULT:  # nothing named them: the 0/1 of predictions.csv beside the words
            names = [f"{name} ({i})" for i, name in enumerate(names)]
        heading = f"{part}, threshold {threshold:.3f}" + (f" · target {self.target}" if self.target else "")
        matrix = binary_metrics.confusion(y, scores, threshold)
        plot_confusion(matrix, names, folder / files.CONFUSION_PNG, heading=heading, title=title)

    def check_predict_options(self, cuts: list[float] | None, levels: list[str] | None) -> None:
        """Risk bands apply to binary scores."""

    def new_scored(self, output: Path, decision: Decision, bands: Any) -> Scored:
        scored = super().new_scored(output, decision, bands)
        scored.counts = Counter(dict.fromkeys(bands.levels, 0))  # every level shown, even when empty
        scored.bands = bands
        return scored

    def predict_header(self) -> list[str]:
        return ["id", "score", "probability", "y_pred", "risk"]

    def predict_rows(
        self, ids: np.ndarray, scores: np.ndarray, probabilities: np.ndarray, decision: Decision,
        bands: Any, scored: Scored,
    ) -> list[tuple[Any, ...]]:  # fmt: skip
        predicted = (scores >= self._cut(decision)).astype(int)
        risk = bands.assign(probabilities)
        scored.rows += len(ids)
        scored.predicted_positive += int(predicted.sum())
        scored.counts.update(risk.tolist())
        for level in np.unique(risk[predicted == 1]).tolist():  # which levels hold predicted positives
            scored.positive_in.add(level)
        return list(zip(ids.tolist(), np.char.mod("%.6f", scores).tolist(),
                        np.char.mod("%.6f", probabilities).tolist(), predicted.tolist(), risk.tolist(),
                        strict=True))  # fmt: skip

    def summary_lines(self, scored: Scored) -> list[str]:
        return [
            f"{scored.rows} customers scored; {scored.predicted_positive} predicted positive at "
            f"threshold {scored.threshold:.3f}",
            "risk levels: " + ", ".join(f"{k} {v}" for k, v in scored.counts.items()),
            *self._bands_line(scored),
            *unseen_line(scored.unseen),
        ]

    @staticmethod
    def _bands_line(scored: Scored) -> list[str]:
        """How the risk levels relate to the decision: where the top one starts, which hold positives."""
        bands = scored.bands
        if bands is None:
            return []
        cuts = " < ".join(
            f"{level} < {cut:.3f}" for level, cut in zip(bands.levels, bands.cuts, strict=False)
        )
        line = f"risk levels on calibrated probability: {cuts} <= {bands.levels[-1]}"
        if scored.threshold_probability is not None:
            line += f"; the decision threshold is probability {scored.threshold_probability:.3f}"
        held = [level for level in bands.levels if level in scored.positive_in]
        line += f"; predicted positives are in: {', '.join(held) or 'none'}"
        return [line]

    def title(self, metrics: dict[str, Any], part: str = "test") -> str:
        return f"{part} metrics (threshold {metrics['threshold']:.3f}: {metrics['threshold_rule']})"
