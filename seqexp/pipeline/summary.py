"""Mean and spread of metrics over a group of runs (repeated seeds, cross-validation folds).

A group is a parent run folder whose children are ordinary run folders; the parent's
``metrics.json`` holds ``mean`` and ``std`` of every number the children report, and ``runs.csv``
one row per child.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seqexp.reporting.tables import SHOWN


def aggregate(children: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Mean and standard deviation (ddof=1; 0 for a single run) of every number in the children's
    ``metrics.json``, keeping their nesting (``val``, ``test``, ``baseline.val``...)."""
    mean: dict[str, Any] = {}
    std: dict[str, Any] = {}
    first = children[0]
    for key, value in first.items():
        values = [child.get(key) for child in children]
        if isinstance(value, dict):
            if all(isinstance(v, dict) for v in values):
                mean[key], std[key] = aggregate(values)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            numbers = np.array([np.nan if v is None else float(v) for v in values])
            mean[key] = float(np.mean(numbers))
            std[key] = float(np.std(numbers, ddof=1)) if len(numbers) > 1 else 0.0
        elif all(v == value for v in values):
            mean[key] = value  # shared labels such as the model name or threshold rule
    return mean, std


def shown(metrics: dict[str, Any]) -> tuple[str, ...]:
    """The headline metric names of a run's (or a group mean's) metrics: binary or multi-class."""
    if metrics.get("task") == "multiclass":
        from seqexp.tasks.multiclass import SHOWN as MULTICLASS_SHOWN

        return MULTICLASS_SHOWN
    return SHOWN


def flat_rows(labels: list[str], children: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """One row per child: its label and every headline metric (val, test, baseline test)."""
    names = shown(children[0])
    header = ["run", "threshold"]
    header += [f"{part}_{name}" for part in ("val", "test") for name in names]
    with_baseline = all("baseline" in child for child in children)
    if with_baseline:
        header += [f"baseline_test_{name}" for name in names]
    rows = []
    for label, child in zip(labels, children, strict=True):
        row: list[Any] = [label, child["threshold"]]
        row += [child[part][name] for part in ("val", "test") for name in names]
        if with_baseline:
            row += [child["baseline"]["test"][name] for name in names]
        rows.append(row)
    return header, rows


def to_csv(header: list[str], rows: list[list[Any]]) -> str:
    def cell(value: Any) -> str:
        return f"{value:.6g}" if isinstance(value, float) else str(value)

    return "\n".join(",".join(cell(v) for v in row) for row in [header, *rows]) + "\n"


def spread_table(summary: dict[str, Any], title: str) -> Any:
    """Rich table of mean +- std: model test, baseline test, model val."""
    from rich.table import Table

    mean, std = summary["mean"], summary["std"]
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    columns: list[tuple[str, list[str]]] = [(f"{mean.get('model', 'model')} test", ["test"])]
    if "baseline" in mean:
        columns.append((f"{mean['baseline'].get('model', 'baseline')} (baseline) test", ["baseline", "test"]))
    columns.append((f"{mean.get('model', 'model')} val", ["val"]))
    for label, _ in columns:
        table.add_column(label, justify="right")

    def pick(tree: dict[str, Any], path: list[str]) -> dict[str, Any]:
        for key in path:
            tree = tree[key]
        return tree

    for name in shown(mean):
        row = [name]
        for _, path in columns:
            row.append(f"{pick(mean, path)[name]:.4f} ± {pick(std, path)[name]:.4f}")
        table.add_row(*row)
    if mean.get("threshold") is None:  # multi-class: argmax, no threshold
        return table
    spread = f"{mean['threshold']:.3f} ± {std['threshold']:.3f}"
    table.add_row("threshold", spread, *[""] * (len(columns) - 1))
    return table
