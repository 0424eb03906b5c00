"""Rolling backtests: for each of the last K snapshot cutoffs, one ordinary child run that trains on
the cutoffs whose label windows end by its validation cutoff, chooses its threshold (and calibration)
at that validation cutoff, and is tested at the cutoff itself (``split.method: time``, see
``seqexp.data.split.time_split``). The parent adds what a deployment needs to know: the base rate at
every test cutoff, and how the threshold chosen on the past transfers to the future (precision and
recall at it, against the best-F1 threshold in hindsight at that cutoff)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.config.experiment import ExperimentConfig
from seqexp.errors import UserError
from seqexp.pipeline.fit import Say
from seqexp.pipeline.groups import GroupResult, train_group
from seqexp.runfolder import atomic, files, lifecycle

DAY = np.timedelta64(86400, "s")


def test_cutoffs(cfg: ExperimentConfig, tests: int) -> list[np.datetime64]:
    """The last ``tests`` cutoffs that have a validation cutoff and a training cutoff before them
    (each a label window earlier)."""
    snapshots = getattr(cfg.data, "snapshots", None)
    if snapshots is None:
        raise UserError(
            "backtest: the data need snapshots at several cutoffs: data.snapshots: {every_days: 7, "
            "from: ..., to: ...} with labels: {horizon_days: ..., where: ...}"
        )
    if cfg.split.method not in ("holdout", "time"):
        raise UserError(
            f"backtest: each cutoff is an out-of-time split; remove split.method: {cfg.split.method}"
        )
    if cfg.repeats > 1:
        raise UserError("backtest: one run per test cutoff; remove repeats (or run one backtest per seed)")
    horizon = round(cfg.data.labels.horizon_days * 86400) * np.timedelta64(1, "s")  # type: ignore[attr-defined]
    dates = np.array([np.datetime64(d, "s") for d in snapshots.dates()])
    usable = []
    for test in dates:
        val = dates[dates + horizon <= test]
        if len(val) and (dates + horizon <= val[-1]).any():
            usable.append(test)
    if len(usable) < tests:
        shown = ", ".join(str(d)[:10] for d in usable) or "none"
        raise UserError(
            f"backtest --tests {tests}: only {len(usable)} cutoff(s) have a validation cutoff and a training "
            f"cutoff a label window before them ({shown}); add earlier snapshots or ask for fewer tests"
        )
    return usable[-tests:]


def backtest_variants(cfg: ExperimentConfig, tests: int) -> list[tuple[str, ExperimentConfig]]:
    variants = []
    for cutoff in test_cutoffs(cfg, tests):
        day = str(cutoff)[:10]
        split = cfg.split.model_copy(
            update={"method": "time", "test_cutoff": cutoff.item(), "val_cutoff": None}
        )
        child = cfg.model_copy(update={"split": split, "name": f"{cfg.name}-{day.replace('-', '')}"})
        variants.append((f"test {day}", child))
    return variants


def train_backtest(
    cfg: ExperimentConfig,
    *,
    tests: int,
    runs_dir: Path,
    say: Say = lambda _: None,
    progress: Callable[[], Any] | None = None,
    on_end: Callable[[Path], None] | None = None,
) -> GroupResult:
    """One child run per test cutoff in one parent folder, then the per-cutoff table and figure."""
    variants = backtest_variants(cfg, tests)
    return train_group(
        cfg, variants, kind="backtest", table_name=files.BACKTEST_RUNS_CSV, runs_dir=runs_dir, say=say,
        progress=progress, same_split=False, on_end=on_end, extend=_per_cutoff,
    )  # fmt: skip


def _per_cutoff(parent: Path, children: list[Path]) -> dict[str, Any]:
    """The rows of ``backtest.csv`` (also in the parent's metrics.json) and the figure."""
    from seqexp.reporting.backtest_figure import plot_backtest

    rows = [cutoff_row(child) for child in children]
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(_cell(row[k]) for k in header) for row in rows]
    atomic.write_text(parent / files.BACKTEST_CSV, "\n".join(lines) + "\n")
    plot_backtest(rows, parent / files.BACKTEST_PNG, title=parent.name)
    return {"cutoffs": rows}


def _cell(value: Any) -> str:
    return "" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def cutoff_row(child: Path) -> dict[str, Any]:
    """One test cutoff: its base rates, the ranking metrics, and the threshold's transfer."""
    import json

    import pandas as pd
    from sklearn.metrics import precision_recall_curve

    metrics = json.loads((child / files.METRICS).read_text())
    run = lifecycle.read_run(child)
    split = metrics["split"]
    test = pd.read_csv(child / files.PREDICTIONS)
    val = pd.read_csv(child / files.VAL_PREDICTIONS)
    y, score, chosen = test["y_true"].to_numpy(), test["score"].to_numpy(), test["y_pred"].to_numpy()
    hits = int((chosen & y).sum())
    precision, recall, thresholds = precision_recall_curve(y, score)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best = int(np.argmax(f1[:-1])) if len(thresholds) else 0
    snapshots = {s["cutoff"]: s for s in run.get("data_report", {}).get("snapshots", [])}
    train = [snapshots[c] for c in split["train_cutoffs"] if c in snapshots]
    examples = sum(s["examples"] for s in train)
    return {
        "test_cutoff": split["test_cutoff"][:10],
        "val_cutoff": split["val_cutoff"][:10],
        "train_cutoffs": len(split["train_cutoffs"]),
        "train_base_rate": round(sum(s["positives"] for s in train) / examples, 4) if examples else None,
        "val_base_rate": round(float(val["y_true"].mean()), 4),
        "test_base_rate": round(float(y.mean()), 4),
        "test_customers": len(y),
        "pr_auc": metrics["test"]["pr_auc"],
        "roc_auc": metrics["test"]["roc_auc"],
        "mcc": metrics["test"]["mcc"],
        "threshold": metrics["threshold"],
        "predicted_positive_rate": round(float(chosen.mean()), 4),
        "precision_at_threshold": round(hits / max(int(chosen.sum()), 1), 4),
        "recall_at_threshold": round(hits / max(int(y.sum()), 1), 4),
        "f1_at_threshold": metrics["test"]["f1"],
        "best_f1_in_hindsight": round(float(f1[best]), 4),
        "best_threshold_in_hindsight": round(float(thresholds[best]), 4) if len(thresholds) else None,
        "precision_at_best": round(float(precision[best]), 4),
        "recall_at_best": round(float(recall[best]), 4),
    }
