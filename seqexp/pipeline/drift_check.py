"""The drift stage: measured at training (``drift.json``), on new data against that reference
(``evaluate --data``, ``predict``), judged by the warning rules and said in a few lines. The numbers
(bins, PSI) come from ``drift.py``.

A warning line, never silence, when (against the run's saved reference):

- the positive rate moves by more than half: ``|new / train - 1| > 0.5``;
- the predicted-positive rate does: ``|new / validation - 1| > 0.5``;
- the PSI of the score or of any feature exceeds 0.25 (the usual "significant shift" level);
- multi-class targets: the PSI of the class shares, true or predicted, exceeds 0.25.

PSI on few rows is large by chance alone: with no drift, ``n`` and ``m`` rows over ``b`` bins give
about chi-square(b - 1) x (1/n + 1/m); a PSI warning says so when that chance level (its 95th
percentile) is above 0.25 itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.data.dataset import Dataset
from seqexp.pipeline.drift import (
    PSI_WARN,
    RATE_WARN,
    TOP,
    VERSION,
    compare,
    rates,
    reference,
    score_psi,
    score_reference,
)
from seqexp.runfolder import files
from seqexp.runfolder.reader import SavedRun
from seqexp.tasks import Decision, Task


def moved(new: float | None, old: float | None, limit: float = RATE_WARN) -> bool:
    """A rate moving by more than ``limit`` of itself; from zero, any rise is a move."""
    if new is None or old is None:
        return False
    return new > 0 if old == 0 else abs(new / old - 1) > limit


def chance_psi(n: int, m: int, bins: int) -> float:
    """The PSI that two samples of one distribution (``n`` and ``m`` rows, ``bins`` bins) exceed 1
    time in 20 by chance alone: chi-square(bins - 1) 95th percentile x (1/n + 1/m)."""
    from scipy.stats import chi2

    if n <= 0 or m <= 0 or bins < 2:
        return float("inf")
    return float(chi2.ppf(0.95, bins - 1) * (1 / n + 1 / m))


def warnings(ref: dict[str, Any], part: dict[str, Any], on: str) -> list[str]:
    """The warning lines for one part (``on`` says where: "on test", "in the data")."""
    out: list[str] = []
    train, val = ref["train"], ref["val"]
    if moved(part.get("positive_rate"), train.get("positive_rate")):
        out.append(
            f"the positive rate moved by more than half: {part['positive_rate']:.3f} {on} against "
            f"{train['positive_rate']:.3f} in training; PR-AUC, precision, F1 and lift depend on it and "
            "are not comparable with the run's"
        )
    if moved(part.get("predicted_positive_rate"), val.get("predicted_positive_rate")):
        out.append(
            f"the predicted-positive rate moved by more than half: {part['predicted_positive_rate']:.1%} "
            f"predicted positive {on} against {val['predicted_positive_rate']:.1%} on validation "
            f"(threshold {ref['threshold']:.3f})"
        )
    for key, what, against in (
        ("class_shares_psi", "class shares", "training"),
        ("predicted_shares_psi", "predicted class shares", "validation"),
    ):
        if part.get(key, 0.0) > PSI_WARN:
            out.append(f"the {what} moved {on}: PSI {part[key]:.2f} > {PSI_WARN} against {against}")
    score = ref["score"]
    if part["score_psi"] > PSI_WARN:
        small = _small(int(part["rows"]), int(score["rows"]), len(score["edges"]) + 1)
        out.append(
            f"the score's distribution moved {on}: PSI {part['score_psi']:.2f} > {PSI_WARN} against "
            f"validation{small}"
        )
    high = {name: value for name, value in part["feature_psi"].items() if value > PSI_WARN}
    if high:
        shown = ", ".join(f"{name} {value:.2f}" for name, value in list(high.items())[:TOP])
        more = f" and {len(high) - TOP} more" if len(high) > TOP else ""
        small = _small(int(part["feature_rows"]), int(ref["feature_rows"]), ref["bins"])
        out.append(
            f"{len(high)} feature(s) moved {on}: PSI > {PSI_WARN} against training: {shown}{more}{small}"
        )
    return out


def _small(n: int, m: int, bins: int) -> str:
    """Said beside a PSI warning when PSI on this few rows is above the warning level by chance."""
    level = chance_psi(n, m, bins)
    if level < PSI_WARN:
        return ""
    return f" (on {n} rows against {m}, PSI reaches {level:.2f} 1 time in 20 with no drift at all)"


def summary_lines(ref: dict[str, Any], parts: dict[str, dict[str, Any]]) -> list[str]:
    """The drift section: rates per part, the score's PSI, the largest features' PSI (last part).

    At training ``parts`` are train, val and test (train is the features' reference, val the
    score's); later, the one part of new data, shown beside the reference's numbers."""
    train, val = ref["train"], ref["val"]
    own = "train" in parts

    def row(key: str, base: dict[str, Any], name: str) -> str:
        shown = ", ".join(f"{n} {_rate(p.get(key))}" for n, p in parts.items())
        return shown if own else f"{shown} ({name} {_rate(base.get(key))})"

    lines: list[str] = []
    if len(ref["classes"]) == 2:
        if any(p.get("positive_rate") is not None for p in parts.values()):  # labelled data
            lines.append(f"drift: positive rate {row('positive_rate', train, 'train')}")
        at = f"drift: predicted positive at threshold {ref['threshold']:.3f}:"
        lines.append(f"{at} {row('predicted_positive_rate', val, 'validation')}")
    for key, what, skip, against in (
        ("class_shares_psi", "class shares", "train", "train"),
        ("predicted_shares_psi", "predicted class shares", "val", "validation"),
    ):  # multi-class
        shown = ", ".join(f"{n} {p[key]:.3f}" for n, p in parts.items() if key in p and n != skip)
        if shown:
            lines.append(f"drift: {what} PSI against {against}: {shown}")
    scored = ", ".join(f"{n} {p['score_psi']:.3f}" for n, p in parts.items() if n != "val")
    lines.append(f"drift: score PSI against validation: {scored}")
    last, compared = list(parts.items())[-1]
    top = list(compared["feature_psi"].items())[:TOP]
    if top:
        listed = ", ".join(f"{name} {value:.3f}" for name, value in top)
        lines.append(f"drift: feature PSI against train ({last}, largest {len(top)}): {listed}")
    return lines


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


# --------------------------------------------------------------------------- the stage
SCORED_TRAIN_ROWS = 4096  # training rows scored for drift (one predict batch)
NO_REFERENCE = (
    "drift cannot be measured: the run folder has no drift reference (drift.json; runs trained "
    "before drift was measured have none)"
)


def scored_training_rows(rows: int, seed: int) -> np.ndarray:
    """Which training rows are scored for drift (sorted): all of them up to ``SCORED_TRAIN_ROWS``,
    else a seeded sample of that many. Their scores only give the training part's score PSI and
    predicted-positive rate (the score's reference is validation), and at 4,096 rows the PSI's
    chance level is already ~0.01 against the 0.25 warning; scoring every training row instead was
    the largest cost of the stage (1.5 s for 24,000 LSTM rows, against 0.4 s for 3,000, at
    load 3.8)."""
    if rows <= SCORED_TRAIN_ROWS:
        return np.arange(rows)
    return np.sort(np.random.default_rng(seed).choice(rows, SCORED_TRAIN_ROWS, replace=False))


def at_training(
    task: Task, decision: Decision, raw: dict[str, Dataset], scores: dict[str, np.ndarray]
) -> dict[str, Any]:
    """``drift.json`` of a run: the reference (the features of ``raw["train"]`` as the source built
    them, unscaled; the score on ``raw["val"]``), every part compared with it, and the warnings
    (validation and test; train is the reference). ``scores["train"]`` may hold the scores of the
    ``scored_training_rows`` only: the true shares still count every training row."""
    views = {part: task.drift_view(scores[part], decision) for part in raw}
    classes = views["train"][2]
    part_rates = {part: rates(data.y, views[part][1], classes) for part, data in raw.items()}
    train = raw["train"]
    ref = reference(
        train.X, train.mask, train.feature_names, train.onehot_groups, train_rates=part_rates["train"],
        score=views["val"][0], score_rates=part_rates["val"], classes=classes, threshold=decision.threshold,
    )  # fmt: skip
    parts = {
        part: compare(ref, data.X, data.mask, score=views[part][0], part_rates=part_rates[part])
        for part, data in raw.items()
    }
    said = [line for part in parts if part != "train" for line in warnings(ref, parts[part], f"on {part}")]
    return {"reference": ref, "parts": parts, "warnings": said}


def load_reference(path: Path) -> dict[str, Any] | None:
    """A run's drift reference (``drift.json``), or None for runs written before drift was measured."""
    if not path.is_file():
        return None
    ref = json.loads(path.read_text()).get("reference")
    return ref if isinstance(ref, dict) and ref.get("version") == VERSION else None


def against(
    ref: dict[str, Any],
    task: Task,
    decision: Decision,
    data: Dataset,
    scores: np.ndarray,
    where: str = "data",
) -> dict[str, Any]:
    """New data (``data`` as the source built it; unlabelled where ``y`` is -1) against a saved
    reference, at the run's own decision (the one the reference was measured at): ``{parts: {where:
    ...}, warnings, lines}``."""
    score, predicted, _ = task.drift_view(scores, decision)
    labels = data.y if len(data.y) and bool((data.y >= 0).all()) else None
    part = compare(ref, data.X, data.mask, score=score, part_rates=rates(labels, predicted, ref["classes"]))
    return {
        "parts": {where: part},
        "warnings": warnings(ref, part, "in the data" if where == "data" else f"on {where}"),
        "lines": summary_lines(ref, {where: part}),
    }


def against_run(run: SavedRun, data: Dataset, scores: np.ndarray, where: str = "data") -> dict[str, Any]:
    """``against`` the run's own reference; for a run folder without one (trained before drift was
    measured, an ensemble), ``measured`` is false and the one line says drift cannot be measured."""
    ref = load_reference(run.folder / files.DRIFT)
    if ref is None:
        return {"measured": False, "parts": {}, "warnings": [], "lines": [NO_REFERENCE]}
    return {"measured": True, **against(ref, run.task, run.decision, data, scores, where)}


def for_ensemble(
    member: Path, task: Task, decision: Decision, parts: dict[str, tuple[np.ndarray, np.ndarray]]
) -> dict[str, Any] | None:
    """An ensemble's ``drift.json``: its first member's feature reference (members share the data
    and split, so the features' PSI per part are the member's), with the ensemble's own score and
    predicted-positive rate on validation. None when the member has no reference."""
    if not member.is_file() or (ref := load_reference(member)) is None:
        return None
    measured = json.loads(member.read_text())["parts"]
    views = {part: task.drift_view(scores, decision) for part, (_, scores) in parts.items()}
    part_rates = {part: rates(y, views[part][1], ref["classes"]) for part, (y, _) in parts.items()}
    ref = {**ref, "threshold": decision.threshold, "val": part_rates["val"],
           "score": score_reference(views["val"][0])}  # fmt: skip
    found = {
        part: {**part_rates[part], "score_psi": score_psi(ref["score"], views[part][0]),
               "feature_psi": measured[part]["feature_psi"], "feature_rows": measured[part]["feature_rows"]}
        for part in parts
    }  # fmt: skip
    said = [line for part in found if part != "train" for line in warnings(ref, found[part], f"on {part}")]
    return {"reference": ref, "parts": found, "warnings": said}
