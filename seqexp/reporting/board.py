"""The leaderboard's rows, read from run folders of every kind seqexp writes, and its sections.

- A **run** (train, a tune ``top/`` run, an ensemble, a group's child) is one row of test metrics.
- A **group** parent (seeds, folds, backtest cutoffs) is one row of mean ± std; with
  ``children=True`` its children follow it, each an ordinary row.
- A **tune** folder is a search, not a model: its ``top/`` runs stand for it.
- A run that failed, was interrupted, is still running or cannot be read is a row with its status
  and error; no input makes the leaderboard raise anything but a ``UserError``.

Rows are grouped into **sections**, one per data fingerprint and protocol family (random split,
out of time, backtest, ordered): runs on different data, or measured in different ways, are never
ranked together.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from seqexp.errors import UserError
from seqexp.reporting.data_card import data_column, data_info
from seqexp.runfolder import files, lifecycle
from seqexp.runfolder.reader import group_of
from seqexp.tasks import task_of

METRICS = ("pr_auc", "roc_auc", "f1", "mcc", "precision", "recall", "balanced_accuracy", "log_loss", "brier")
LOWER_IS_BETTER = {"log_loss", "brier", "fit_seconds", "total_seconds"}
TEXT_COLUMNS = ("rank", "run", "name", "kind", "status", "model", "balancer", "data", "data_fingerprint",
                "parent", "threshold_rule", "baseline_model", "path", "error")  # fmt: skip
NUMBER_COLUMNS = ("val_pr_auc", "val_f1", "baseline_pr_auc", "threshold", "epochs", "best_epoch",
                  "train_loss_at_best", "val_loss_at_best", "fit_seconds", "total_seconds", "n")  # fmt: skip
SORTABLE = (*METRICS, *NUMBER_COLUMNS[:-1])
SKIPPED = {files.EVALUATIONS, files.TUNER_PROJECT, files.TENSORBOARD}  # never runs, never walked
STAMP = re.compile(r"^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-(.+)$")
Row = dict[str, Any]


@dataclass
class Section:
    """The runs of one data set (one data fingerprint), ranked among themselves."""

    fingerprint: str | None
    data: str
    rows_of_data: int | None
    positive_rate: float | None
    protocol: str
    rows: list[Row] = field(default_factory=list)
    sort: str = "pr_auc"  # what this section is ranked by (a multi-class one: its headline metric)

    @property
    def completed(self) -> list[Row]:
        return [r for r in self.rows if r["status"] == "completed"]

    @property
    def multiclass(self) -> bool:
        return any(r.get("task") == "multiclass" for r in self.completed)

    @property
    def title(self) -> str:
        rows = f"{self.rows_of_data:,} rows" if self.rows_of_data else "rows unknown"
        rate = f"positive rate {self.positive_rate:.3f}" if self.positive_rate is not None else ""
        if self.multiclass:
            rate = f"{self.completed[0].get('n_classes')} classes"
        fp = f"fingerprint {self.fingerprint[:8]}" if self.fingerprint else "no data fingerprint"
        return ", ".join(p for p in (self.data, rows, rate, self.protocol, fp) if p)


@dataclass
class Leaderboard:
    sections: list[Section]
    sort: str
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> list[Row]:
        return [row for section in self.sections for row in section.rows]

    @property
    def completed(self) -> list[Row]:
        return [row for row in self.rows if row["status"] == "completed"]

    @property
    def warning(self) -> str | None:
        """Said once when runs of different data sets, or measured differently, are compared."""
        known = [s for s in self.sections if s.fingerprint]
        if len(known) < 2:
            return None
        names = "; ".join(
            f"{s.data} (fingerprint {s.fingerprint and s.fingerprint[:8]}, positive rate "
            f"{'unknown' if s.positive_rate is None else f'{s.positive_rate:.3f}'}, {s.protocol})"
            for s in known
        )
        sets = len({s.fingerprint for s in known})
        return (
            f"these runs use {f'{sets} different data sets' if sets > 1 else 'one data set'} measured "
            f"{len(known)} ways (data and protocol: a random split overstates an out-of-time test), ranked "
            f"separately, one table each: {names}"
        )


# --------------------------------------------------------------------------- finding runs


def find_runs(runs_dir: Path) -> list[Path]:
    """Every run folder under ``runs_dir`` at any depth (tune ``top/`` runs, ensembles, group parents),
    never ``evaluations/`` nor keras-tuner's or TensorBoard's folders. A group parent stands for
    its children and a run's own sub-folders are not searched."""
    if not runs_dir.is_dir():
        raise UserError(f"--runs-dir {runs_dir}: no such folder")
    found: list[Path] = []
    for here, dirs, names in os.walk(runs_dir):
        folder = Path(here)
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
        if files.RUN not in names or folder == runs_dir:
            continue
        if _is_tune(folder):
            dirs[:] = [d for d in dirs if d == files.TOP]  # the search's runs are its top runs
            continue
        found.append(folder)
        dirs[:] = []  # a run's sub-folders: its evaluations, or a group's children (reached through it)
    if not found:
        raise UserError(f"{runs_dir}: no run folders (folders with {files.RUN}); train one first")
    return found


def expand(folders: list[Path], notes: list[str]) -> list[Path]:
    """Named folders as runs: a tune folder becomes its top runs (a note when it has none)."""
    runs: list[Path] = []
    for folder in folders:
        folder = Path(folder)
        if not (folder / files.RUN).is_file():
            raise UserError(f"{folder}: not a run folder (no {files.RUN}); for every run under it: "
                            f"seqexp compare --all --runs-dir {folder}")  # fmt: skip
        if not _is_tune(folder):
            runs.append(folder)
            continue
        top = sorted(p for p in (folder / files.TOP).glob("*") if (p / files.RUN).is_file())
        if not top:
            notes.append(f"{folder}: a tune search without top runs (tune.top_k: 0); its trials are in "
                         f"{files.TRIALS}")  # fmt: skip
        runs.extend(top)
    return runs


def _is_tune(folder: Path) -> bool:
    try:
        return read_record(folder).get("command") == "tune" and not (folder / files.METRICS).is_file()
    except UserError:
        return False


def read_record(folder: Path) -> dict[str, Any]:
    """``run.json`` as a mapping; anything else is a ``UserError`` naming the file."""
    record = lifecycle.read_run(folder)
    if not isinstance(record, dict):
        raise UserError(f"{folder / files.RUN}: not a JSON object")
    return record


# --------------------------------------------------------------------------- one row


def short_name(folder_name: str) -> str:
    """``20261201-201537-tiny_logreg`` -> ``12-01 20:15 tiny_logreg``: the date a person reads."""
    match = STAMP.match(folder_name)
    if not match:
        return folder_name
    _, month, day, hour, minute, _, rest = match.groups()
    return f"{month}-{day} {hour}:{minute} {rest}"


def plain_name(folder_name: str) -> str:
    """The run's name without its timestamp: ``tiny_logreg``."""
    match = STAMP.match(folder_name)
    return match.group(7) if match else folder_name


def summarize(folder: Path, root: Path | None = None) -> Row:
    """One leaderboard row; a folder that cannot be read is a row saying so, never an exception."""
    row: Row = {"run": folder.name, "name": short_name(folder.name), "kind": "run", "status": "unreadable",
                "path": _relative(folder, root), "error": "", "_folder": str(folder)}  # fmt: skip
    try:
        _fill(row, folder)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError, UserError) as exc:
        row["status"] = "unreadable" if row["status"] in ("completed", "unreadable") else row["status"]
        why = str(exc) if isinstance(exc, UserError) else f"cannot read it ({type(exc).__name__}: {exc})"
        row["error"] = row["error"] or why
    return row


def _relative(folder: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(folder.relative_to(root))
        except ValueError:
            pass
    return str(folder)


def _fill(row: Row, folder: Path) -> None:
    record = read_record(folder)
    config = read_yaml(folder / files.CONFIG)
    row["status"] = str(record.get("status", "unknown"))
    row["error"] = str(record.get("error") or "")
    fingerprint = record.get("data_fingerprint")
    row["data_fingerprint"] = fingerprint if isinstance(fingerprint, str) and fingerprint else None
    row["_config"] = config
    group = group_of(folder, record)
    if group is not None:
        row["kind"] = group.what
        row["n"] = len(group.children)
        row["_children"] = group.children
        data_record, data_config = _first_readable(group.children, record, config)
    elif record.get("estimator") == "ensemble":
        row["kind"] = "ensemble"
        data_record, data_config = _first_readable([Path(p) for p in record.get("members") or []],
                                                   record, config)  # fmt: skip
    else:
        row["kind"] = "tune top run" if record.get("command") == "tune" else "run"
        data_record, data_config = record, config
    method = (config.get("ensemble") or {}).get("method")
    row["model"] = (config.get("model") or {}).get("name") or (f"ensemble ({method})" if method else None)
    row["balancer"] = (config.get("balance") or {}).get("name")
    row["_data"] = data_info(
        data_config, data_record, group=(group.kind, len(group.children)) if group else None
    )
    row["data"] = data_column(row["_data"]["name"], row["data_fingerprint"])
    metrics_path = folder / files.METRICS
    if row["status"] == "completed" and not metrics_path.is_file():
        row["status"], row["error"] = "incomplete", f"no {files.METRICS}"
    if row["status"] != "completed":
        return
    metrics = json.loads(metrics_path.read_text())
    row["_metrics"] = metrics
    if group is not None:
        _fill_group(row, metrics, group.children)
    else:
        _fill_metrics(row, metrics, record)
        row.update(loss_at_best_epoch(folder, config))


def _first_readable(
    folders: list[Path], record: dict[str, Any], config: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run record and config of the first readable run among ``folders`` (a group's children,
    an ensemble's members): where the data a parent was built on is described."""
    for folder in folders:
        if (folder / files.RUN).is_file():
            with_data = read_yaml(folder / files.CONFIG)
            return read_record(folder), with_data or config
    return record, config


def _fill_metrics(row: Row, metrics: dict[str, Any], record: dict[str, Any]) -> None:
    test, val = metrics.get("test") or {}, metrics.get("val") or {}
    row.update({name: test.get(name) for name in METRICS})
    row.update({name: value for name, value in test.items() if name not in row and _number(value)})
    row["val_pr_auc"], row["val_f1"] = val.get("pr_auc"), val.get("f1")
    task = task_of(metrics)
    row["task"], row["headline"], row["n_classes"] = task.name, task.headline, metrics.get("n_classes")
    key = next((k for k in ("baseline", *task.reference_keys) if isinstance(metrics.get(k), dict)), None)
    reference = metrics.get(key) or {} if key else {}
    row["baseline_model"] = reference.get("model") or key
    row[f"baseline_{task.headline}"] = (reference.get("test") or {}).get(task.headline)
    row["threshold"], row["threshold_rule"] = metrics.get("threshold"), metrics.get("threshold_rule")
    paired = metrics.get("vs_baseline") or metrics.get("vs_best_member")
    if isinstance(paired, dict):  # the paired bootstrap on the run's own test rows
        row["beats_baseline"] = paired.get("verdict")
        row["paired_difference"], row["paired_interval"] = paired.get("difference"), paired.get("interval")
    row["test_rows"] = test.get("rows")
    row["epochs"] = record.get("epochs")
    row["fit_seconds"], row["total_seconds"] = record.get("fit_seconds"), record.get("total_seconds")


def _fill_group(row: Row, summary: dict[str, Any], children: list[Path]) -> None:
    """Mean and spread of a group's children: each metric ``name`` and ``name_std``."""
    mean, std = summary.get("mean") or {}, summary.get("std") or {}
    _fill_metrics(row, mean, {})
    for name in METRICS:
        row[f"{name}_std"] = (std.get("test") or {}).get(name)
    headline = row.get("headline", "pr_auc")
    for key in ("baseline", "most_frequent"):
        if isinstance(std.get(key), dict):
            row[f"baseline_{headline}_std"] = (std[key].get("test") or {}).get(headline)
            break
    row["threshold_std"] = std.get("threshold")
    row["threshold_rule"] = summary.get("threshold_rule", row.get("threshold_rule"))
    row["n"] = summary.get("n", row.get("n"))
    records = [read_record(c) for c in children if (c / files.RUN).is_file()]
    for key in ("epochs", "fit_seconds", "total_seconds"):
        values = [r[key] for r in records if _number(r.get(key))]
        row[key] = sum(values) / len(values) if values else None


def loss_at_best_epoch(folder: Path, config: dict[str, Any]) -> Row:
    """The epoch whose weights were kept, and train / val loss there (the train loss is measured on
    the balanced training rows, so it is not comparable with the val loss)."""
    import csv

    from seqexp.reporting.figures import best_epoch

    path = folder / files.HISTORY
    if not path.is_file():
        return {}
    with path.open() as handle:
        history = [{k: float(v) if v not in ("", None) else None for k, v in r.items()}
                   for r in csv.DictReader(handle)]  # fmt: skip
    if len(history) < 2:  # one "epoch" (a tree, a linear model): no history to speak of
        return {}
    stop = (config.get("train") or {}).get("early_stopping") or {}
    monitor, mode = stop.get("monitor", "val_loss"), stop.get("mode", "auto")
    best = best_epoch(history, monitor, mode) or best_epoch(history, "val_loss", "min")
    if best is None:
        return {}
    at = next((r for r in history if int(r.get("epoch") or 0) == best), history[-1])
    return {"best_epoch": best, "train_loss_at_best": at.get("loss"), "val_loss_at_best": at.get("val_loss")}


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


# --------------------------------------------------------------------------- the board


def build_leaderboard(
    folders: list[Path], sort: str = "pr_auc", *, children: bool = False, root: Path | None = None
) -> Leaderboard:
    """Rows of every folder (expanded: tune folders become their top runs), in one section per data
    fingerprint, each ranked by ``sort``; with ``children``, a group's children follow its row."""
    if sort not in SORTABLE:
        raise UserError(f"--sort: unknown metric '{sort}'; use one of {', '.join(SORTABLE)}")
    notes: list[str] = []
    rows = [summarize(folder, root) for folder in dict.fromkeys(expand(folders, notes))]
    sections: dict[tuple[str | None, str], Section] = {}
    for row in rows:
        key = (row.get("data_fingerprint"), str((row.get("_data") or {}).get("family", "random")))
        if key not in sections:
            info = row.get("_data") or {"name": "unknown data", "rows": None, "positive_rate": None,
                                        "protocol": ""}  # fmt: skip
            sections[key] = Section(
                key[0], info["name"], info["rows"], info["positive_rate"], info["protocol"]
            )
        sections[key].rows.append(row)
    ordered = sorted(sections.values(), key=lambda s: (s.fingerprint is None, -len(s.completed), s.data))
    for section in ordered:
        section.sort = _section_sort(section, sort, notes)
        ranked = sorted(section.rows, key=lambda r: _rank(r, section.sort))
        for rank, row in enumerate((r for r in ranked if r["status"] == "completed"), start=1):
            row["rank"] = rank
        section.rows = _with_children(ranked, children, root)
    return Leaderboard(ordered, sort, notes)


def _section_sort(section: Section, sort: str, notes: list[str]) -> str:
    """``sort``, unless no run of the section has it (multi-class runs have no ``pr_auc``): then the
    runs' own headline metric, said in a note."""
    done = section.completed
    if not done or any(_number(r.get(sort)) for r in done):
        return sort
    headline = str(done[0].get("headline") or sort)
    if headline != sort:
        notes.append(f"{section.data}: ranked by {headline} (its runs have no {sort})")
    return headline


def _rank(row: Row, sort: str) -> tuple:
    value = row.get(sort)
    if row["status"] != "completed" or not _number(value):
        return (True, 0.0, row["run"])
    sign = 1 if sort in LOWER_IS_BETTER else -1
    return (False, sign * float(value), row["run"])


def _with_children(rows: list[Row], children: bool, root: Path | None) -> list[Row]:
    if not children:
        return rows
    out: list[Row] = []
    for row in rows:
        out.append(row)
        for child in row.get("_children") or []:
            entry = summarize(child, root)
            entry["parent"], entry["name"] = row["run"], f"└ {short_name(child.name)}"
            entry["kind"] = "child"
            out.append(entry)
    return out
