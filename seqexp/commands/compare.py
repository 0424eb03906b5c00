"""``seqexp compare``: a leaderboard of run folders, two comparison figures and one self-contained
HTML report (figures embedded as base64, so the file can be mailed or archived alone).

Runs that failed, were interrupted or are still running are listed with their status, never
crash the leaderboard; they sort below the completed ones.
"""

from __future__ import annotations

import base64
import csv
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqexp.errors import UserError
from seqexp.runfolder import atomic, files, lifecycle

TEST_METRICS = (
    "pr_auc",
    "roc_auc",
    "f1",
    "mcc",
    "precision",
    "recall",
    "balanced_accuracy",
    "log_loss",
    "brier",
)
LOWER_IS_BETTER = {"log_loss", "brier", "fit_seconds", "total_seconds"}
COLUMNS = (
    "run", "status", "model", "balancer", *TEST_METRICS, "val_pr_auc", "val_f1", "baseline_pr_auc",
    "threshold", "threshold_rule", "epochs", "best_epoch", "train_loss_at_best", "val_loss_at_best",
    "fit_seconds", "total_seconds", "error",
)  # fmt: skip


def run(
    run_dirs: list[Path], *, all_runs: bool, runs_dir: Path, sort: str, out_dir: Path, quiet: bool
) -> None:
    from seqexp.reporting.console import out, result

    if bool(run_dirs) == all_runs:
        raise UserError("give run folders, or --all (with --runs-dir) for every run, not both")
    board, folder = compare_runs(find_runs(runs_dir) if all_runs else list(run_dirs), out_dir, sort)
    if not quiet:
        out.print(rich_table(board))
    result(folder)


@dataclass(frozen=True)
class Leaderboard:
    rows: list[dict[str, Any]]
    sort: str

    @property
    def completed(self) -> list[dict[str, Any]]:
        return [row for row in self.rows if row["status"] == "completed"]


def find_runs(runs_dir: Path) -> list[Path]:
    """Every run folder directly under ``runs_dir`` (evaluations inside runs are not runs)."""
    if not runs_dir.is_dir():
        raise UserError(f"--runs-dir {runs_dir}: no such folder")
    found = sorted(p for p in runs_dir.iterdir() if (p / files.RUN).is_file())
    if not found:
        raise UserError(f"{runs_dir}: no run folders (folders with {files.RUN}); train one first")
    return found


def summarize(folder: Path) -> dict[str, Any]:
    """One leaderboard row from a run folder; a failed or incomplete run keeps its status."""
    record = lifecycle.read_run(folder)
    row: dict[str, Any] = {"run": folder.name, "status": record.get("status", "unknown")}
    config = _read_config(folder)
    row["model"] = config.get("model", {}).get("name")
    row["balancer"] = config.get("balance", {}).get("name")
    row["error"] = record.get("error") or ""
    metrics_path = folder / files.METRICS
    if row["status"] == "completed" and not metrics_path.is_file():
        row["status"], row["error"] = "incomplete", f"no {files.METRICS}"
    if row["status"] != "completed":
        return row
    metrics = json.loads(metrics_path.read_text())
    row.update({name: metrics["test"].get(name) for name in TEST_METRICS})
    row["val_pr_auc"], row["val_f1"] = metrics["val"].get("pr_auc"), metrics["val"].get("f1")
    row["baseline_pr_auc"] = (metrics.get("baseline") or {}).get("test", {}).get("pr_auc")
    row["threshold"], row["threshold_rule"] = metrics.get("threshold"), metrics.get("threshold_rule")
    row["epochs"] = record.get("epochs")
    row["fit_seconds"], row["total_seconds"] = record.get("fit_seconds"), record.get("total_seconds")
    row.update(_best_epoch(folder, config))
    return row


def _read_config(folder: Path) -> dict[str, Any]:
    import yaml

    try:
        loaded = yaml.safe_load((folder / files.CONFIG).read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _best_epoch(folder: Path, config: dict[str, Any]) -> dict[str, Any]:
    """The epoch whose weights were kept, and train/val loss there (the overfitting view)."""
    from seqexp.reporting.figures import best_epoch

    path = folder / files.HISTORY
    if not path.is_file():
        return {}
    with path.open() as handle:
        history = [
            {k: float(v) if v not in ("", None) else None for k, v in row.items()}
            for row in csv.DictReader(handle)
        ]
    stop = (config.get("train") or {}).get("early_stopping") or {}
    monitor, mode = stop.get("monitor", "val_loss"), stop.get("mode", "auto")
    best = best_epoch(history, monitor, mode) or best_epoch(history, "val_loss", "min")
    if best is None:
        return {}
    at = next((r for r in history if int(r.get("epoch") or 0) == best), history[-1])
    return {"best_epoch": best, "train_loss_at_best": at.get("loss"), "val_loss_at_best": at.get("val_loss")}


def build_leaderboard(folders: list[Path], sort: str = "pr_auc") -> Leaderboard:
    if sort not in COLUMNS or sort in ("run", "status", "model", "balancer", "threshold_rule", "error"):
        numeric = [
            c for c in COLUMNS if c not in ("run", "status", "model", "balancer", "threshold_rule", "error")
        ]
        raise UserError(f"--sort: unknown metric '{sort}'; use one of {', '.join(numeric)}")
    rows = [summarize(folder) for folder in folders]
    sign = 1 if sort in LOWER_IS_BETTER else -1

    def key(row: dict[str, Any]) -> tuple:
        value = row.get(sort)
        missing = row["status"] != "completed" or value is None
        return (missing, sign * float(value) if value is not None and not missing else 0.0, row["run"])

    return Leaderboard(sorted(rows, key=key), sort)


def write_csv(board: Leaderboard, path: Path) -> None:
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), extrasaction="ignore")
    writer.writeheader()
    for row in board.rows:
        writer.writerow({k: _fmt(row.get(k), csv_cell=True) for k in COLUMNS})
    atomic.write_text(path, buffer.getvalue())


def _fmt(value: Any, csv_cell: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if csv_cell else f"{value:.4f}"
    return str(value)


SHOWN = ("run", "status", "model", "balancer", "pr_auc", "roc_auc", "f1", "mcc", "precision", "recall",
         "threshold", "epochs", "fit_seconds")  # fmt: skip


def rich_table(board: Leaderboard) -> Any:
    from rich.table import Table

    table = Table(title=f"leaderboard (test split, sorted by {board.sort})", title_justify="left")
    for column in SHOWN:
        table.add_column(
            column, justify="left" if column in ("run", "status", "model", "balancer") else "right"
        )
    for row in board.rows:
        style = None if row["status"] == "completed" else "dim red"
        table.add_row(*(_fmt(row.get(c)) for c in SHOWN), style=style)
    return table


def plot_comparison(board: Leaderboard, path: Path) -> None:
    """One bar group per run: val and test PR-AUC and F1."""
    import numpy as np

    from seqexp.reporting.figures import pyplot, save

    plt = pyplot()
    rows = board.completed
    bars = (("val_pr_auc", "val PR-AUC"), ("pr_auc", "test PR-AUC"), ("val_f1", "val F1"), ("f1", "test F1"))
    x = np.arange(len(rows))
    width = 0.8 / len(bars)
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(rows) + 2), 4.5))
    for i, (key, label) in enumerate(bars):
        ax.bar(x + (i - (len(bars) - 1) / 2) * width, [r.get(key) or 0.0 for r in rows], width, label=label)
    ax.set_xticks(x, [r["run"] for r in rows], rotation=20, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_title("validation vs test: PR-AUC and F1 at each run's threshold")
    ax.legend(fontsize=8, ncols=4, loc="upper center")
    save(fig, path)


def plot_overfitting(board: Leaderboard, path: Path) -> None:
    """Train vs validation loss at the best epoch: a large gap means the model memorised train."""
    import numpy as np

    from seqexp.reporting.figures import pyplot, save

    plt = pyplot()
    rows = [r for r in board.completed if r.get("train_loss_at_best") is not None]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(rows) + 2), 4.5))
    ax.bar(x - 0.2, [r["train_loss_at_best"] for r in rows], 0.4, label="train loss (balanced train)")
    ax.bar(x + 0.2, [r.get("val_loss_at_best") or 0.0 for r in rows], 0.4, label="val loss")
    labels = [f"{r['run']}\n(epoch {r['best_epoch']})" for r in rows]
    ax.set_xticks(x, labels, rotation=20, ha="right", fontsize=8)
    ax.set_title("loss at the best epoch, train vs validation")
    ax.legend(fontsize=8)
    save(fig, path)


def write_html(board: Leaderboard, folder: Path, images: list[str]) -> Path:
    """One self-contained HTML file: the leaderboard table and the figures inlined as base64."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS if c != "error")
    body = []
    for row in board.rows:
        cells = "".join(f"<td>{html.escape(_fmt(row.get(c)))}</td>" for c in COLUMNS if c != "error")
        title = f' title="{html.escape(row["error"])}"' if row.get("error") else ""
        body.append(f'<tr class="{html.escape(row["status"])}"{title}>{cells}</tr>')
    figures = "".join(
        f'<figure><img alt="{name}" src="data:image/png;base64,'
        f'{base64.b64encode((folder / name).read_bytes()).decode()}"><figcaption>{name}</figcaption></figure>'
        for name in images
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>seqexp leaderboard</title>
<style>
body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse;font-size:13px}}
th,td{{border:1px solid #ccc;padding:3px 6px;text-align:right}} th{{background:#eee}}
td:nth-child(-n+4){{text-align:left}} tr.failed,tr.interrupted,tr.running,tr.incomplete{{color:#a00}}
figure{{display:inline-block;margin:1em}} img{{max-width:100%}}
</style></head><body>
<h1>Leaderboard</h1>
<p>{len(board.rows)} run(s), {len(board.completed)} completed; test-split metrics at each run's
validation-chosen threshold, sorted by {html.escape(board.sort)}.</p>
<table id="leaderboard"><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(body)}
</tbody></table>
{figures}
</body></html>
"""
    path = folder / files.REPORT_HTML
    atomic.write_text(path, page)
    return path


def compare_runs(folders: list[Path], out_dir: Path, sort: str = "pr_auc") -> tuple[Leaderboard, Path]:
    """Write leaderboard.csv, comparison.png, overfitting.png and report.html into ``out_dir``."""
    for folder in folders:
        if not (Path(folder) / files.RUN).is_file():
            raise UserError(f"{folder}: not a run folder (no {files.RUN})")
    board = build_leaderboard([Path(f) for f in folders], sort)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(board, out_dir / files.LEADERBOARD_CSV)
    images = []
    if board.completed:
        plot_comparison(board, out_dir / files.COMPARISON_PNG)
        images.append(files.COMPARISON_PNG)
        if any(r.get("train_loss_at_best") is not None for r in board.completed):
            plot_overfitting(board, out_dir / files.OVERFITTING_PNG)
            images.append(files.OVERFITTING_PNG)
    write_html(board, out_dir, images)
    return board, out_dir
