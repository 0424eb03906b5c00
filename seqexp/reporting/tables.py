"""Terminal tables of results (rich): a run, a group's spread, an evaluation, an ensemble.

Every table takes its metric names and title from the run's task (``seqexp.tasks.task_of``), so
binary and multi-class runs are shown by the same code.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

from seqexp.tasks import task_of


def metrics_table(metrics: dict[str, Any]) -> Table:
    """Test metrics of the model beside its baselines, and the model's validation figures."""
    task = task_of(metrics)
    table = Table(title=task.title(metrics), title_justify="left")
    model = metrics.get("model", "model")
    table.add_column("metric")
    table.add_column(model, justify="right")
    others = [metrics[k] for k in (*task.reference_keys, "baseline") if metrics.get(k)]
    for other in others:
        table.add_column(f"{other['model']} (baseline)", justify="right")
    intervals = (metrics.get("intervals") or {}).get("test") or {}
    if intervals:
        table.add_column(f"{model} 95% interval", justify="right")
    table.add_column(f"{model} (val)", justify="right", style="dim")
    for name in task.shown:
        interval = intervals.get(name)
        table.add_row(
            name,
            f"{metrics['test'][name]:.4f}",
            *(f"{other['test'][name]:.4f}" for other in others),
            *([f"[{interval[0]:.4f}, {interval[1]:.4f}]" if interval else ""] if intervals else []),
            f"{metrics['val'][name]:.4f}",
        )
    table.caption = _verdict_caption(metrics)
    return table


def _verdict_caption(metrics: dict[str, Any]) -> str | None:
    """The paired comparison in words: against the baseline (train) or the best member (ensemble)."""
    paired = metrics.get("vs_baseline") or metrics.get("vs_best_member")
    if not isinstance(paired, dict):
        return None
    other = paired.get("baseline") or paired.get("member") or "the baseline"
    low, high = paired["interval"]
    verdict = "beats baseline" if "baseline" in paired else "beats its best member"
    return (
        f"{verdict}: {paired['verdict']} (test {paired['metric']} {paired['difference']:+.4f} vs {other}, "
        f"paired 95% interval [{low:+.4f}, {high:+.4f}])"
    )


def group_title(summary: dict[str, Any]) -> str:
    what = {"repeats": "seeds", "backtest": "test cutoffs"}.get(summary["kind"], "folds")
    return f"mean ± std over {summary['n']} {what} (threshold: {summary['threshold_rule']})"


def spread_table(summary: dict[str, Any]) -> Table:
    """Mean +- std of a group of runs: model test, baseline test, model val."""
    mean, std = summary["mean"], summary["std"]
    task = task_of(mean)
    table = Table(title=group_title(summary), title_justify="left")
    table.add_column("metric")
    columns: list[tuple[str, list[str]]] = [(f"{mean.get('model', 'model')} test", ["test"])]
    for key in (*task.reference_keys, "baseline"):
        if key in mean:
            columns.append((f"{mean[key].get('model', key)} (baseline) test", [key, "test"]))
    columns.append((f"{mean.get('model', 'model')} val", ["val"]))
    for label, _ in columns:
        table.add_column(label, justify="right")

    def pick(tree: dict[str, Any], path: list[str]) -> dict[str, Any]:
        for key in path:
            tree = tree[key]
        return tree

    for name in task.shown:
        row = [name]
        for _, path in columns:
            row.append(f"{pick(mean, path)[name]:.4f} ± {pick(std, path)[name]:.4f}")
        table.add_row(*row)
    if mean.get("threshold") is not None:  # a decision by threshold: show how much it moved
        spread = f"{mean['threshold']:.3f} ± {std['threshold']:.3f}"
        table.add_row("threshold", spread, *[""] * (len(columns) - 1))
    return table


def evaluation_table(metrics: dict[str, Any], part: str, run_metrics: dict[str, Any] | None = None) -> Table:
    """An evaluation's metrics beside the run's own test metrics."""
    task = task_of(metrics)
    table = Table(title=task.title(metrics, part), title_justify="left")
    table.add_column("metric")
    table.add_column("now", justify="right")
    if run_metrics:
        table.add_column("at training (test)", justify="right", style="dim")
    for name in task.shown:
        row = [name, f"{metrics[part][name]:.4f}"]
        if run_metrics:
            row.append(f"{run_metrics['test'][name]:.4f}")
        table.add_row(*row)
    table.caption = f"{metrics[part]['rows']} customers"
    return table


def ensemble_table(metrics: dict[str, Any]) -> Table:
    """The ensemble beside each member (test metrics; each member at its own threshold). Members of
    a stack are shown with their meta-model coefficient, the others with their weight."""
    task = task_of(metrics)
    shown = [m for m in metrics["members"] if m.get("test")][:6]
    table = Table(
        title=f"{metrics['model']}, {task.title(metrics)}",
        title_justify="left",
        caption="  ".join(f"#{i}: {m['run']}" for i, m in enumerate(shown, 1)),
        caption_justify="left",
    )
    table.add_column("metric")
    table.add_column("ensemble", justify="right", style="bold")
    table.add_column("ensemble (val)", justify="right", style="dim")
    for i, m in enumerate(shown, 1):
        share = f"coef={m['coef']:.2f}" if m.get("coef") is not None else f"w={m['weight']:.2f}"
        table.add_column(f"#{i} {m.get('model') or ''} {share}", justify="right")
    for name in task.shown:
        row = [name, f"{metrics['test'][name]:.4f}", f"{metrics['val'][name]:.4f}"]
        row += [f"{m['test'][name]:.4f}" for m in shown]
        table.add_row(*row)
    if verdict := _verdict_caption(metrics):
        table.caption = f"{table.caption}\n{verdict}"
    return table


# --------------------------------------------------------------------------- --format csv | json


def evaluation_document(
    metrics: dict[str, Any],
    part: str,
    run_metrics: dict[str, Any] | None,
    *,
    folder: Any,
    notes: list[str],
    drift: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``evaluate --format json``: where it was written, the metrics now and at training, and the
    data's drift against the run's reference (``measured`` false for runs without one)."""
    return {
        "folder": str(folder),
        "split": part,
        "model": metrics.get("model"),
        "threshold": metrics.get("threshold"),
        "threshold_rule": metrics.get("threshold_rule"),
        "metrics": metrics[part],
        "at_training": (run_metrics or {}).get("test"),
        "notes": notes,
        "drift": {k: v for k, v in drift.items() if k != "lines"} if drift else None,
    }


def evaluation_csv(metrics: dict[str, Any], part: str, run_metrics: dict[str, Any] | None) -> str:
    """``evaluate --format csv``: one row per metric, now and (on the run's test split) at training."""
    before = (run_metrics or {}).get("test") or {}
    lines = ["metric,now,at_training"]
    for name, value in metrics[part].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            lines.append(f"{name},{value:.6g},{_number(before.get(name))}")
    return "\n".join(lines) + "\n"


def _number(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, int | float) and not isinstance(value, bool) else ""


def prediction_document(summary: Any) -> dict[str, Any]:
    """``predict --format json``: the CSV written and what it holds."""
    return {
        "output": str(summary.output),
        "rows": summary.rows,
        "threshold": summary.threshold,
        "predicted_positive": summary.predicted_positive,
        "counts": {str(k): int(v) for k, v in summary.counts.items()},
        "unseen_levels": summary.unseen,
        "drift": {k: v for k, v in summary.drift.items() if k != "lines"} if summary.drift else None,
    }


def prediction_csv(summary: Any) -> str:
    """``predict --format csv``: one row: the CSV written, rows, threshold, and a count per level."""
    counts = {str(k): int(v) for k, v in summary.counts.items()}
    header = ["output", "rows", "threshold", "predicted_positive", *counts]
    values = [str(summary.output), str(summary.rows), _number(summary.threshold),
              str(summary.predicted_positive), *map(str, counts.values())]  # fmt: skip
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, values])
    return buffer.getvalue()


def backtest_table(rows: list[dict[str, Any]]) -> Table:
    """One row per test cutoff: base rates, ranking, and how the validation threshold transfers
    (precision / recall at it, against the best F1 in hindsight on that cutoff)."""
    table = Table(title="per test cutoff (threshold chosen at the validation cutoff)", title_justify="left")
    for label in ("test cutoff", "base rate train/test", "PR-AUC", "ROC-AUC", "P/R at threshold", "F1",
                  "best F1 (P/R)"):  # fmt: skip
        table.add_column(label, justify="right")
    for row in rows:
        table.add_row(
            row["test_cutoff"],
            f"{_shown(row['train_base_rate'])}/{_shown(row['test_base_rate'])}",
            _shown(row["pr_auc"]),
            _shown(row["roc_auc"]),
            f"{_shown(row['precision_at_threshold'], 2)}/{_shown(row['recall_at_threshold'], 2)}",
            _shown(row["f1_at_threshold"]),
            f"{_shown(row['best_f1_in_hindsight'])} ({_shown(row['precision_at_best'], 2)}/"
            f"{_shown(row['recall_at_best'], 2)})",
        )
    return table


def _shown(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)
