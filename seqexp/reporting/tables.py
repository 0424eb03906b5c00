"""Terminal tables of results."""

from __future__ import annotations

from typing import Any

from rich.table import Table

SHOWN = ("pr_auc", "roc_auc", "f1", "mcc", "precision", "recall", "balanced_accuracy", "accuracy")


def metrics_table(metrics: dict[str, Any]) -> Table:
    """Test metrics of the model beside its baseline, at the validation-chosen threshold."""
    if metrics.get("task") == "multiclass":
        from seqexp.tasks.multiclass import metrics_table as multiclass_table

        return multiclass_table(metrics)
    table = Table(
        title=f"test metrics (threshold {metrics['threshold']:.3f}: {metrics['threshold_rule']})",
        title_justify="left",
    )
    table.add_column("metric")
    table.add_column(f"{metrics.get('model', 'model')}", justify="right")
    baseline = metrics.get("baseline")
    if baseline:
        table.add_column(f"{baseline['model']} (baseline)", justify="right")
    table.add_column(f"{metrics.get('model', 'model')} (val)", justify="right", style="dim")
    for name in SHOWN:
        row = [name, f"{metrics['test'][name]:.4f}"]
        if baseline:
            row.append(f"{baseline['test'][name]:.4f}")
        row.append(f"{metrics['val'][name]:.4f}")
        table.add_row(*row)
    return table
