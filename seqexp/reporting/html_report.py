"""``report.html``: one self-contained page (figures inlined as base64) to send to someone who was
not there. It opens with a summary per data set (the data, the split protocol, the best run and
whether it beats its baseline), then per data set the leaderboard with readable headers, the test
ROC and PR curves of all its runs overlaid, and how the runs' configs differ; runs that did not
complete are listed with their full error. It fits a 1400 px window and prints on A4.

Built from a Jinja2 template (``report_template``); Jinja2 is imported only here.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from seqexp.reporting.board import Leaderboard, Row, Section, short_name
from seqexp.reporting.board_out import cell, header
from seqexp.runfolder import atomic, files

COLUMNS = ("rank", "name", "model", "balancer", "pr_auc", "roc_auc", "f1", "mcc", "precision", "recall",
           "baseline_pr_auc", "threshold", "data", "epochs", "fit_seconds", "status")  # fmt: skip
MULTICLASS = ("rank", "name", "model", "balancer", "f1_macro", "accuracy", "balanced_accuracy", "mcc",
              "top_3_accuracy", "pr_auc_ovr_macro", "log_loss", "baseline_f1_macro", "data", "epochs",
              "fit_seconds", "status")  # fmt: skip
PRINT_HIDDEN = {"balancer", "threshold", "data", "epochs", "fit_seconds", "status"}  # A4 is narrow: the
# section header says the data, the config differences the balancer, the failed runs' list the status
NOISE = 0.02  # PR-AUC differences smaller than this are within split noise on these data sets
IGNORED_KEYS = ("name", "ensemble.members")


def write_report(board: Leaderboard, folder: Path) -> Path:
    """Draw the overlaid curves of each section into ``folder`` and write ``report.html`` there."""
    import jinja2

    from seqexp.reporting.report_template import TEMPLATE

    sections = [_section(board, section, i, folder) for i, section in enumerate(board.sections, 1)]
    failed = [r for r in board.rows if r["status"] != "completed"]
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    page = env.from_string(TEMPLATE).render(
        generated=datetime.now().strftime("%Y-%m-%d %H:%M"),
        runs=len(board.rows),
        completed=len(board.completed),
        sort=header(board.sort),
        warning=board.warning,
        notes=board.notes,
        sections=sections,
        failed=[
            {"name": r["name"], "status": r["status"], "path": r.get("path", ""), "error": r["error"]}
            for r in failed
        ],  # fmt: skip
    )
    path = folder / files.REPORT_HTML
    atomic.write_text(path, page)
    return path


def _section(board: Leaderboard, section: Section, index: int, folder: Path) -> dict[str, Any]:
    order = MULTICLASS if section.multiclass else COLUMNS
    columns = [c for c in order if any(r.get(c) not in (None, "") for r in section.rows)]
    if all(r["status"] == "completed" for r in section.rows):
        columns = [c for c in columns if c != "status"]
    if len({r.get("data") for r in section.rows if r.get("data")}) <= 1:  # the section's header says it
        columns = [c for c in columns if c != "data"]
    rows = [{"cells": [_html_cell(r, c) for c in columns], "status": r["status"],
             "child": bool(r.get("parent"))} for r in section.rows]  # fmt: skip
    notes: list[str] = []
    figures = _figures(section, index, folder, notes)
    return {
        "title": section.data,
        "fingerprint": section.fingerprint or "not recorded",
        "rows_of_data": f"{section.rows_of_data:,}" if section.rows_of_data else "unknown",
        "positive_rate": f"{section.positive_rate:.3f}"
        if section.positive_rate is not None
        else (f"none: {section.completed[0].get('n_classes')} classes" if section.multiclass else "unknown"),
        "protocol": section.protocol or "unknown",
        "summary": summary(section, section.sort),
        "columns": [{"label": header(c), "css": _css(c)} for c in columns],
        "rows": rows,
        "figures": figures,
        "notes": notes,
        "differences": differences(section.rows),
    }


_TEXT = {"rank", "name", "model", "balancer", "data", "status"}


def _html_cell(row: Row, column: str) -> dict[str, str]:
    """A cell's value and, for a group, its spread (shown under it) or its size (beside its name)."""
    value = row.get(column)
    spread = row.get(f"{column}_std")
    if column == "name" and row.get("_children") is not None:
        return {"value": cell(row, column), "note": f"{row.get('n')} {row['kind']}"}
    if isinstance(value, int | float) and isinstance(spread, int | float):
        return {"value": cell({column: value}, column), "note": f"± {spread:.3f}"}
    return {"value": cell(row, column), "note": ""}


def _css(column: str) -> str:
    classes = ["text" if column in _TEXT else "num", column]
    return " ".join(classes + (["print-hidden"] if column in PRINT_HIDDEN else []))


def summary(section: Section, sort: str) -> dict[str, Any]:
    """The best run of a section and, in words, how it stands against its baseline."""
    best = next((r for r in section.completed if r.get(sort) is not None), None)
    if best is None:
        return {"best": None, "verdict": "no run of this data completed", "tone": "bad"}
    value = cell(best, sort, 3)
    tested = f" on {best['test_rows']:,.0f} test customers" if best.get("test_rows") else ""
    text, tone = baseline_verdict(best, str(best.get("headline") or "pr_auc"))
    return {"best": f"{best['name']} ({best.get('model') or best['kind']})", "metric": header(sort),
            "value": value + tested, "verdict": text, "tone": tone}  # fmt: skip


def baseline_verdict(row: Row, metric: str = "pr_auc") -> tuple[str, str]:
    """Whether a run beats the baseline trained beside it (its headline ``metric``, PR-AUC or macro-F1,
    on the same test split)."""
    model, base = row.get(metric), row.get(f"baseline_{metric}")
    if not isinstance(base, int | float) or not isinstance(model, int | float):
        why = ("it is the baseline model itself" if row.get("model") == "logistic_regression"
               else "evaluate.baseline: none")  # fmt: skip
        return f"no baseline beside it ({why}): nothing here says it beats one", "unclear"
    name = row.get("baseline_model") or "the baseline"
    gap = model - base
    said = f"{header(metric)} {model:.3f} against {base:.3f} for its baseline {name} ({gap:+.3f})"
    interval = row.get("paired_interval")
    if row.get("beats_baseline") and isinstance(interval, list) and len(interval) == 2:
        low, high = interval  # the paired bootstrap on the same test rows decides, not the gap alone
        paired = f"{said}; paired 95% interval of the difference [{low:+.3f}, {high:+.3f}]"
        verdict = row["beats_baseline"]
        if verdict == "yes":
            return f"beats its baseline: {paired}", "good"
        if verdict == "no":
            return f"worse than its baseline: {paired}", "bad"
        return f"not clearly better than its baseline: {paired}", "unclear"
    spread, base_spread = row.get(f"{metric}_std"), row.get(f"baseline_{metric}_std")
    if isinstance(spread, int | float):  # a group: the seeds (or folds) measure the noise
        noise = 2 * max(spread, base_spread if isinstance(base_spread, int | float) else 0.0)
        if gap > noise and row.get("kind") == "seeds" and row.get("beats_baseline") != "yes":
            return (  # seeds share one test split: their spread leaves out the test rows' own noise
                f"not clearly better than its baseline: {said}; the seeds share one test split, and "
                f"the paired bootstrap on it does not put every seed above its baseline",
                "unclear",
            )
        if gap > noise:
            return f"beats its baseline: {said}, more than twice the spread between {row['kind']}", "good"
        if gap < -noise:
            return f"worse than its baseline: {said}", "bad"
        return (
            f"not clearly better than its baseline: {said}, within the spread between {row['kind']}",
            "unclear",
        )
    if gap < -NOISE:
        return f"worse than its baseline: {said}", "bad"
    if gap <= NOISE:
        return f"level with its baseline: {said}, within split noise", "unclear"
    return (f"ahead of its baseline: {said} on one split; no paired interval was computed, so train "
            f"it with --seeds to know whether the lead holds", "good")  # fmt: skip


def _figures(section: Section, index: int, folder: Path, notes: list[str]) -> list[dict[str, str]]:
    from seqexp.reporting.curves import curves_of, plot_overlay

    curves = curves_of(section.completed, notes)
    if not curves:
        return []
    shown = []
    for kind, name, caption in (
        (
            "roc",
            files.ROC_PNG,
            "ROC curves of every run on the test split (higher and further left is better)",
        ),
        (
            "pr",
            files.PR_PNG,
            "Precision-recall curves on the test split; the dashed line is a random ranking",
        ),
    ):
        path = folder / (name if index == 1 else name.replace(".png", f"-{index}.png"))
        plot_overlay(curves, path, kind, section.data)
        shown.append({"src": "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode(),
                      "alt": caption, "caption": caption})  # fmt: skip
    return shown


def flatten(tree: Any, prefix: str = "") -> dict[str, str]:
    """A config as ``section.key -> value`` (lists and scalars as compact YAML-ish text)."""
    if not isinstance(tree, dict):
        return {prefix: json.dumps(tree, default=str) if not isinstance(tree, str) else tree}
    flat: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            flat.update(flatten(value, path))
        else:
            flat.update(flatten(value, path) if not isinstance(value, dict) else {path: "{}"})
    return flat


def _reads_train(model: Any) -> bool:
    """Whether the model fits with ``train.*`` (its registry entry's ``epochs`` tag); a name the
    registry does not know keeps its settings."""
    from seqexp import components  # noqa: F401  (fills the registry; no TensorFlow)
    from seqexp.registry import MODELS

    return not isinstance(model, str) or model not in MODELS or "epochs" in MODELS.get(model).tags


def differences(rows: list[Row]) -> dict[str, Any]:
    """How the configs of a section's runs differ, and what they all share.

    A key differs when the runs that have it disagree on it (``model.C`` between two logistic
    regressions), and a component's ``name`` when any run has another; a setting only one component
    has (``model.units`` of the one LSTM) is not a difference, nor are the ``train`` settings of a
    model fitted without them (LightGBM, scikit-learn). An ensemble has no training config: it is
    described by its members.
    """
    configs, ensembles = [], []
    for row in rows:
        if row.get("parent") or not row.get("_config"):
            continue
        if row["kind"] == "ensemble":
            members = ((row["_config"].get("ensemble") or {}).get("members")) or []
            ensembles.append({"name": row["name"], "values": [f"{row['model']} of {len(members)} runs: "
                              + ", ".join(short_name(Path(str(m)).name) for m in members)]})  # fmt: skip
            continue
        flat = flatten(row["_config"])
        if not _reads_train(row.get("model")):  # its train.epochs is a default it never read
            flat = {k: v for k, v in flat.items() if not k.startswith("train.")}
        configs.append((row["name"], flat))
    keys = sorted({k for _, c in configs for k in c if not k.startswith(IGNORED_KEYS)})

    def differs(key: str) -> bool:
        values = [c[key] for _, c in configs if key in c]
        return len(set(values)) > 1 or (key.endswith(".name") and len(values) < len(configs))

    differ = [k for k in keys if differs(k)]
    shared = [f"{k}: {configs[0][1][k]}" for k in keys if configs and not differs(k)
              and all(k in c for _, c in configs)]  # fmt: skip
    per_run = [{"name": name, "values": [f"{k}: {c[k]}" for k in differ if k in c]} for name, c in configs]
    return {"runs": (per_run if differ and len(configs) > 1 else []) + ensembles, "shared": shared}
