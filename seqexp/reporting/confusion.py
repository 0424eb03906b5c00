"""The confusion matrix figure of binary and multi-class runs: counts beside the share of each true
class, the classes by their names (a binary target's from its config, ``tasks.class_names``; a
multi-class target's class names). Past ``ANNOTATED_UP_TO`` classes it is one heat map of the shares
without numbers. Margins are set from the longest class name, so nothing is cut and no layout pass
is needed (``figures``: why that matters)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.reporting.figures import new_figure, save, wrapped

ANNOTATED_UP_TO = 15  # confusion matrices with more classes are drawn as a heat map without numbers
CHAR = 0.075  # inches per character of a 9 pt tick label (a generous average: names are never cut)


def tick_text(name: str, width: int = 16) -> str:
    """A class name as a tick label: wrapped at ``width`` characters, at most two lines."""
    lines = textwrap.wrap(str(name), width) or [str(name)]
    return "\n".join(lines[:2]) + ("…" if len(lines) > 2 else "")


def plot_confusion(
    matrix: np.ndarray, names: list[str], path: Path, *, heading: str, title: str | None = None
) -> None:
    """``matrix``: rows true class, columns predicted, in ``names`` order. ``heading`` says what was
    decided (``test, threshold 0.517``); ``title`` names the run, model and data."""
    matrix = np.asarray(matrix)
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    top_text = f"confusion matrix: {heading}" + (f"\n{wrapped(title, 100)}" if title else "")
    if len(names) > ANNOTATED_UP_TO:
        _heat_map(rates, names, path, top_text)
        return
    shown = [tick_text(name) for name in names]
    n = len(names)
    longest = max(len(line) for name in shown for line in name.split("\n"))
    rotate = n > 2 and longest > 3  # side by side, long names would run into each other
    side = max(2.4, 0.5 * n)  # inches per panel
    left, gap, right = 0.55 + CHAR * longest, 0.5, 0.2
    bottom = 0.55 + (CHAR * longest if rotate else 0.18 * max(s.count("\n") + 1 for s in shown))
    top = 0.25 + 0.18 * (top_text.count("\n") + 1) + 0.3
    width, height = left + 2 * side + gap + right, bottom + side + top
    fig = new_figure((width, height))
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - top / height, wspace=gap / side)  # fmt: skip
    fig.suptitle(top_text, fontsize=10, y=1 - 0.12 / height, va="top")
    axes = fig.subplots(1, 2)
    size = 11 if n <= 3 else 9 if n <= 8 else 7
    for ax, values, fmt, name in ((axes[0], matrix, "d", "counts"),
                                  (axes[1], rates, ".2f", "share of each true class")):  # fmt: skip
        _cells(ax, values, fmt, size)
        ax.set_title(name, fontsize=10, y=1.0)
        ax.set_xticks(range(n), shown, rotation=90 if rotate else 0, fontsize=9)
        ax.set_xlabel("predicted class", fontsize=9)
    axes[0].set_yticks(range(n), shown, fontsize=9)
    axes[0].set_ylabel("true class", fontsize=9)
    axes[1].set_yticks(range(n), [""] * n)  # the same rows as on the left
    axes[1].tick_params(axis="y", length=0)
    save(fig, path, tight=False)


def _cells(ax: Any, values: np.ndarray, fmt: str, size: int) -> None:
    """The matrix as coloured cells, each with its number (white on the dark ones)."""
    ax.imshow(values, cmap="Blues", vmin=0, vmax=max(float(values.max()), 1e-9), aspect="auto")
    dark = values > 0.55 * values.max()
    for (i, j), value in np.ndenumerate(values):
        ax.text(j, i, format(value, fmt), ha="center", va="center", fontsize=size,
                color="white" if dark[i, j] else "black")  # fmt: skip


def _heat_map(rates: np.ndarray, names: list[str], path: Path, top_text: str) -> None:
    n = len(names)
    shown = [tick_text(name, 24).replace("\n", " ") for name in names]
    room = 0.5 + 0.045 * max(len(s) for s in shown)  # 5 pt labels
    fig = new_figure((10, 9.5))
    fig.subplots_adjust(left=room / 10, right=0.95, bottom=room / 9.5, top=0.88)
    fig.suptitle(top_text, fontsize=10)
    ax = fig.add_subplot()
    image = ax.imshow(rates, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(n), shown, rotation=90, fontsize=5)
    ax.set_yticks(range(n), shown, fontsize=5)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fig.colorbar(image, ax=ax, label="share of each true class", fraction=0.04)
    save(fig, path, tight=False)
