"""Mean and spread of metrics over a group of runs (repeated seeds, cross-validation folds).

A group is a parent run folder whose children are ordinary run folders; the parent's
``metrics.json`` holds ``mean`` and ``std`` of every number the children report, and ``seeds.csv``
(or ``folds.csv``) one row per child.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seqexp.tasks import task_of


def aggregate(children: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Mean and standard deviation (ddof=1; 0 for a single run) of every number in the children's
    ``metrics.json``, keeping their nesting (``val``, ``test``, ``baseline.val``...)."""
    mean: dict[str, Any] = {}
    std: dict[str, Any] = {}
    first = children[0]
    for key, value in first.items():
        values = [child.get(key) for child in children]
        if isinstance(value, dict):
            nested = [v for v in values if isinstance(v, dict)]
            if len(nested) == len(values):
                mean[key], std[key] = aggregate(nested)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            numbers = np.array([np.nan if v is None else float(v) for v in values])
            mean[key] = float(np.mean(numbers))
            std[key] = float(np.std(numbers, ddof=1)) if len(numbers) > 1 else 0.0
        elif all(v == value for v in values):
            mean[key] = value  # shared labels such as the model name or threshold rule
    return mean, std


def flat_rows(labels: list[str], children: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """One row per child: its label and every headline metric (val, test, baseline test)."""
    names = task_of(children[0]).shown
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
