"""ROC and precision-recall curves of several runs of one data set, overlaid (``seqexp compare``).

Each run's curve is drawn from its ``predictions.csv`` (test customers: ``y_true``, ``score``); a
group's children are drawn thin in the group's colour, under one legend entry. Runs without binary
scores (multi-class runs, folders without predictions) are named in the returned notes instead.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.reporting.board import plain_name
from seqexp.reporting.figures import pr_points, pyplot, roc_points, save
from seqexp.runfolder import files

MAX_RUNS = 10  # more curves than this are a tangle: the best ones by the leaderboard's order
NAME_WIDTH = 30  # characters of a run's name in the legend (longer ones end in "…")
SIZE = (6.6, 4.2)  # inches; shown at 100 CSS px per inch in the report (two fit a 1400 px page)


@dataclass(frozen=True)
class Curves:
    label: str
    scores: list[tuple[np.ndarray, np.ndarray]]  # (y, score) per drawn run: one, or a group's children
    group: str = ""  # a group's size ("3 seeds"), said on the legend's second line with the area


def read_scores(folder: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """``(y_true, score)`` of a run's test predictions, or None when it has no binary scores."""
    path = folder / files.PREDICTIONS
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"y_true", "score"} <= set(reader.fieldnames):
                return None
            pairs = [(r["y_true"], r["score"]) for r in reader if r["y_true"] not in ("", None)]
        y = np.array([float(a) for a, _ in pairs])
        s = np.array([float(b) for _, b in pairs])
    except (OSError, ValueError, TypeError, csv.Error, UnicodeDecodeError):
        return None  # no file, or not one seqexp wrote: no curve (the caller says so)
    keep = np.isfinite(y) & np.isfinite(s)
    y, s = y[keep], s[keep]
    return (y.astype(int), s) if set(np.unique(y)) == {0.0, 1.0} else None


def curves_of(rows: list[dict[str, Any]], notes: list[str]) -> list[Curves]:
    """The curves to draw for completed rows (in their order), at most ``MAX_RUNS``."""
    drawn: list[Curves] = []
    for row in rows:
        if row.get("parent"):  # a group's child row: drawn with its group
            continue
        if len(drawn) == MAX_RUNS:
            notes.append(f"curves: the first {MAX_RUNS} runs shown")
            break
        folders = list(row.get("_children") or []) or [Path(row["_folder"])]
        scores = [s for s in (read_scores(f) for f in folders) if s is not None]
        if not scores:
            notes.append(f"curves: {row['name']} has no binary test scores ({files.PREDICTIONS})")
            continue
        label = f"#{row.get('rank', '?')} {_short(plain_name(row['run']))}"
        drawn.append(Curves(label, scores, f"{len(scores)} {row['kind']}" if row.get("_children") else ""))
    return drawn


def plot_overlay(curves: list[Curves], path: Path, kind: str, title: str) -> None:
    """``kind`` ``roc`` or ``pr``: every run's test curve on one axes, the legend beside it."""
    plt = pyplot()
    fig = plt.figure(figsize=SIZE)
    fig.subplots_adjust(left=0.09, right=0.56, bottom=0.13, top=0.86)
    ax = fig.add_subplot()
    for i, entry in enumerate(curves):
        color = f"C{i % 10}"
        areas = []
        for j, (y, s) in enumerate(entry.scores):
            x_, y_, area = roc_points(y, s) if kind == "roc" else pr_points(y, s)
            areas.append(area)
            ax.plot(x_, y_, color=color, lw=1.6 if len(entry.scores) == 1 else 1.1,
                    alpha=1.0 if len(entry.scores) == 1 else 0.75, drawstyle="default" if kind == "roc"
                    else "steps-post", label=None if j else "_")  # fmt: skip
        name = "AUC" if kind == "roc" else "AP"
        value = f"{np.mean(areas):.3f}" + (f" ± {np.std(areas, ddof=1):.3f}" if len(areas) > 1 else "")
        group = f"{entry.group}: " if entry.group else ""  # two lines: the legend fits beside the plot
        ax.lines[-len(entry.scores)].set_label(f"{entry.label}\n{group}{name} {value}")
    if kind == "roc":
        ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="chance")
        ax.set(xlabel="false positive rate", ylabel="true positive rate (recall)")
    elif curves:
        rate = float(np.mean(curves[0].scores[0][0]))
        ax.axhline(rate, color="k", ls="--", lw=0.8, label=f"no skill (positive rate {rate:.3f})")
        ax.set(xlabel="recall", ylabel="precision")
    ax.set(xlim=(0, 1), ylim=(0, 1.02))
    ax.set_title(f"{'ROC' if kind == 'roc' else 'precision-recall'} curves, test split\n{title}", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.03, 1.0), fontsize=7.5, frameon=False)
    save(fig, path, tight=False)


def _short(label: str, width: int = NAME_WIDTH) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"
