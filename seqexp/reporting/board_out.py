"""The leaderboard written out: a terminal table per data section (fitted to the window, readable
headers, run names that stay readable), the CSV and the JSON document (``--format csv|json``)."""

from __future__ import annotations

import csv
import io
from typing import Any

from seqexp.reporting.board import METRICS, NUMBER_COLUMNS, TEXT_COLUMNS, Leaderboard, Row, Section

HEADERS = {
    "name": "run", "kind": "kind", "status": "status", "model": "model", "balancer": "balancer",
    "data": "data", "pr_auc": "PR-AUC", "roc_auc": "ROC-AUC", "f1": "F1", "mcc": "MCC",
    "precision": "precision", "recall": "recall", "balanced_accuracy": "balanced acc.",
    "log_loss": "log loss", "brier": "Brier", "val_pr_auc": "val PR-AUC", "val_f1": "val F1",
    "baseline_model": "baseline", "baseline_pr_auc": "baseline PR-AUC", "threshold": "threshold",
    "threshold_rule": "threshold rule", "epochs": "epochs", "best_epoch": "best epoch",
    "fit_seconds": "fit s", "total_seconds": "total s", "n": "runs", "error": "error", "rank": "#",
    "f1_macro": "macro F1", "accuracy": "accuracy", "top_3_accuracy": "top-3 acc.",
    "pr_auc_ovr_macro": "PR-AUC (macro)", "roc_auc_ovr_macro": "ROC-AUC (macro)",
    "baseline_f1_macro": "baseline macro F1",
}  # fmt: skip
# Terminal columns, most important first: the table drops from the end until it fits the window.
TERMINAL = ("name", "model", "pr_auc", "roc_auc", "f1", "mcc", "baseline_pr_auc", "precision", "recall",
            "threshold", "data", "balancer", "epochs", "fit_seconds")  # fmt: skip
TERMINAL_MULTICLASS = ("name", "model", "f1_macro", "accuracy", "balanced_accuracy", "mcc", "top_3_accuracy",
                       "pr_auc_ovr_macro", "log_loss", "baseline_f1_macro", "data", "balancer", "epochs",
                       "fit_seconds")  # fmt: skip
KEPT = 3  # never dropped: run (with its status when not completed), model, the first metric
TEXT = {"name", "model", "status", "balancer", "data", "kind", "baseline_model", "threshold_rule", "error"}


def header(column: str) -> str:
    """A readable header for a column name (``val_pr_auc`` -> ``val PR-AUC``)."""
    return HEADERS.get(column, column.replace("_", " "))


def cell(row: Row, column: str, digits: int = 3) -> str:
    """A value as shown: numbers at ``digits`` decimals, a group's mean ± std, blanks for none."""
    value = row.get(column)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if column in ("epochs", "best_epoch", "n", "rank"):
        text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    elif column.endswith("seconds"):
        text = f"{value:.1f}"
    else:
        text = f"{value:.{digits}f}"
    spread = row.get(f"{column}_std")
    return f"{text}±{spread:.{digits}f}" if isinstance(spread, int | float) else text


def fit_columns(section: Section, width: int | None) -> list[str]:
    """The terminal columns of a section that fit ``width`` (all of them when ``width`` is None)."""
    rows = section.rows
    order = TERMINAL_MULTICLASS if section.multiclass else TERMINAL
    columns = [c for c in order if any(r.get(c) not in (None, "") for r in rows) or order.index(c) < KEPT]
    if width is None:
        return columns

    def needed(cols: list[str]) -> int:
        return 1 + sum(3 + max(len(header(c)), *(len(shown(r, c)) for r in rows)) for c in cols)

    while needed(columns) > width and len(columns) > KEPT - 1:
        droppable = [c for c in columns if order.index(c) >= KEPT]
        if not droppable:
            break
        columns.remove(droppable[-1])
    return columns


def section_table(section: Section, board: Leaderboard, width: int | None) -> Any:
    from rich.table import Table

    columns = fit_columns(section, width)
    every = fit_columns(section, None)
    dropped = [header(c) for c in every if c not in columns]
    caption = f"not shown at this width: {', '.join(dropped)} (see --format csv)" if dropped else None
    table = Table(
        title=f"{section.title}\ntest split, sorted by {header(section.sort)}",
        title_justify="left",
        caption=caption,
        caption_justify="left",
    )
    for column in columns:
        longest = max(len(shown(r, column)) for r in section.rows)
        table.add_column(
            header(column),
            justify="left" if column in TEXT else "right",
            no_wrap=True,
            min_width=min(longest, 48) if column == "name" else None,
        )
    for row in section.rows:
        style = None if row["status"] == "completed" else "dim red"
        table.add_row(*(shown(row, c) for c in columns), style=style)
    return table


def shown(row: Row, column: str) -> str:
    """A terminal cell: a run that did not complete says so beside its name."""
    text = cell(row, column)
    return f"{text} ({row['status']})" if column == "name" and row["status"] != "completed" else text


def print_board(board: Leaderboard) -> None:
    """One table per data section; the different-data warning and notes on stderr."""
    from seqexp.reporting.console import out, print_wide, warn

    if board.warning:
        warn(board.warning)
    for note in board.notes:
        warn(note)
    width = out.width if out.is_terminal else None
    for section in board.sections:
        print_wide(section_table(section, board, width))
    failed = [r for r in board.rows if r["status"] != "completed" and r.get("error")]
    for row in failed:
        out.print(f"[red]{row['status']}[/red] {row['name']}: {row['error']}", soft_wrap=True, markup=True)


# --------------------------------------------------------------------------- CSV and JSON


def columns_of(board: Leaderboard) -> list[str]:
    """Every CSV column: the fixed ones, then any metric only some runs have (multi-class), and a
    ``_std`` column next to each metric when a group is among the rows."""
    rows = board.rows
    metrics = list(METRICS)
    extra = sorted({k for r in rows for k in r if not k.startswith("_") and k not in _FIXED and
                    not k.endswith("_std") and k != "test_rows"})  # fmt: skip
    metrics += extra
    groups = any(k.endswith("_std") for r in rows for k in r)
    if groups:
        metrics = [name for m in metrics for name in (m, f"{m}_std")]
    texts = [
        c for c in TEXT_COLUMNS if c not in ("threshold_rule", "baseline_model", "path", "error", "parent")
    ]
    numbers = [c for c in NUMBER_COLUMNS if c != "threshold"]
    threshold = ["threshold", "threshold_std"] if groups else ["threshold"]
    return [*texts, *metrics, *numbers, *threshold, "threshold_rule", "baseline_model", "test_rows",
            "parent", "path", "error"]  # fmt: skip


_FIXED = {*TEXT_COLUMNS, *METRICS, *NUMBER_COLUMNS}


def to_csv(board: Leaderboard) -> str:
    columns = columns_of(board)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in board.rows:
        writer.writerow({c: _csv_cell(row.get(c)) for c in columns})
    return buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    return f"{value:.6g}" if isinstance(value, float) else value


def public(row: Row) -> Row:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def to_document(board: Leaderboard, report: Any = None) -> dict[str, Any]:
    """The leaderboard as one JSON document: sections of ranked rows, the warning and notes."""
    return {
        "report": str(report) if report is not None else None,
        "sort": board.sort,
        "warning": board.warning,
        "notes": board.notes,
        "sections": [
            {"data": s.data, "data_fingerprint": s.fingerprint, "rows_of_data": s.rows_of_data,
             "positive_rate": s.positive_rate, "protocol": s.protocol, "runs": [public(r) for r in s.rows]}
            for s in board.sections
        ],
    }  # fmt: skip
