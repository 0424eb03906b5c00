"""The backtest figure: ranking metrics and F1 at the validation-chosen threshold (against the best
F1 in hindsight) per test cutoff, with the base rate on a second axis, so a fall in PR-AUC that is
only a fall in base rate reads as such."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seqexp.reporting.figures import pyplot, save


def plot_backtest(rows: list[dict[str, Any]], path: Path, title: str | None = None) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    x = list(range(len(rows)))
    for key, label, style in (
        ("pr_auc", "PR-AUC", "o-"),
        ("roc_auc", "ROC-AUC", "s-"),
        ("f1_at_threshold", "F1 at the validation threshold", "^-"),
        ("best_f1_in_hindsight", "best F1 in hindsight", "v--"),
    ):
        ax.plot(x, [row[key] for row in rows], style, label=label, linewidth=1.4, markersize=5)
    ax.set_ylim(0, 1)
    ax.set_ylabel("metric on the test cutoff")
    ax.set_xticks(x, [row["test_cutoff"] for row in rows], rotation=30, fontsize=8)
    ax.set_xlabel("test cutoff")
    rates = ax.twinx()
    rates.bar(x, [row["test_base_rate"] for row in rows], width=0.35, alpha=0.25, color="grey",
              label="test base rate")  # fmt: skip
    rates.set_ylabel("base rate (bars)")
    rates.set_ylim(0, max(0.05, 2.5 * max(row["test_base_rate"] for row in rows)))
    handles = ax.get_legend_handles_labels()
    bars = rates.get_legend_handles_labels()
    ax.legend(handles[0] + bars[0], handles[1] + bars[1], loc="upper center", bbox_to_anchor=(0.5, -0.28),
              ncols=3, fontsize=8, frameon=False)  # fmt: skip
    ax.set_title(f"rolling backtest: {len(rows)} test cutoffs\n{title}" if title else "rolling backtest",
                 fontsize=10)  # fmt: skip
    save(fig, path)
