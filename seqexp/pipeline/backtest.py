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
from seqexp.data.split import cutoff_parts
from seqexp.errors import DataError, UserError
from seqexp.pipeline.fit import Say
from seqexp.pipeline.groups import GroupResult, train_group
from seqexp.runfolder import atomic, files, lifecycle


def test_cutoffs(cfg: ExperimentConfig, tests: int) -> list[np.datetime64]:
    """The last ``tests`` cutoffs that have a validation cutoff and a training cutoff before them
    (each a label window earlier)."""
    snapshots = getattr(cfg.data, "snapshots", None)
    if snapshots is None:
        raise UserError(
            "backtest: the data need snapshots at several cutoffs: data.snapshots: {every_days: 7, "
            "from: ..., to: ...} with labels: {horizon_days: ..., where: ...}"
        )
    if cfg.repeats > 1:
        raise UserError("backtest: one run per test cutoff; remove repeats (or run one backtest per seed)")
    horizon_days = cfg.data.labels.horizon_days  # type: ignore[attr-defined]
    dates = np.unique([np.datetime64(d, "s") for d in snapshots.dates()])
    usable = []
    for test in dates:
        try:
            cutoff_parts(dates, horizon_days, test_cutoff=test)  # the rule split.method time follows
        except DataError:
            continue  # no validation or training cutoff a label window before this one
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
    """One test cutoff: its base rates, the ranking metrics, and the threshold's transfer (the
    child's test metrics at its validation threshold, against the max-F1 threshold on the test
    scores themselves, in hindsight)."""
    import json

    import pandas as pd

    from seqexp.tasks.binary_metrics import binary_metrics, choose_threshold

    metrics = json.loads((child / files.METRICS).read_text())
    run = lifecycle.read_run(child)
    split, test = metrics["split"], metrics["test"]
    predictions = pd.read_csv(child / files.PREDICTIONS)
    y, score = predictions["y_true"].to_numpy(), predictions["score"].to_numpy()
    best = choose_threshold("max_f1", y, score)
    hindsight = binary_metrics(y, score, best)
    snapshots = {s["cutoff"]: s for s in run.get("data_report", {}).get("snapshots", [])}
    train = [snapshots[c] for c in split["train_cutoffs"] if c in snapshots]
    examples = sum(s["examples"] for s in train)
    return {
        "test_cutoff": split["test_cutoff"][:10],
        "val_cutoff": split["val_cutoff"][:10],
        "train_cutoffs": len(split["train_cutoffs"]),
        "train_base_rate": round(sum(s["positives"] for s in train) / examples, 4) if examples else None,
        "val_base_rate": round(metrics["val"]["positive_rate"], 4),
        "test_base_rate": round(test["positive_rate"], 4),
        "test_customers": test["rows"],
        "pr_auc": test["pr_auc"],
        "roc_auc": test["roc_auc"],
        "mcc": test["mcc"],
        "threshold": metrics["threshold"],
        "predicted_positive_rate": round(test["predicted_positive_rate"], 4),
        "precision_at_threshold": round(test["precision"], 4),
        "recall_at_threshold": round(test["recall"], 4),
        "f1_at_threshold": test["f1"],
        "best_f1_in_hindsight": round(hindsight["f1"], 4),
        "best_threshold_in_hindsight": round(best, 4),
        "precision_at_best": round(hindsight["precision"], 4),
        "recall_at_best": round(hindsight["recall"], 4),
    }
