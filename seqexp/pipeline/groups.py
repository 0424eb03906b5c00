"""A group of runs in one parent run folder: repeated seeds or cross-validation folds.

Each child is an ordinary run folder inside the parent (``evaluate``, ``compare`` and
``ensemble`` work on it as on any run); the parent holds the config, ``run.json`` listing the
children, ``metrics.json`` with the ``mean`` and ``std`` of every child metric, and a CSV with
one row per child.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqexp.config import ExperimentConfig, to_yaml
from seqexp.errors import UserError
from seqexp.pipeline.summary import aggregate, flat_rows, to_csv
from seqexp.pipeline.train import Say, train_experiment
from seqexp.runfolder import atomic, files, lifecycle


@dataclass(frozen=True)
class GroupResult:
    run_dir: Path
    children: list[Path]
    summary: dict[str, Any]


def train_group(
    cfg: ExperimentConfig,
    variants: list[tuple[str, ExperimentConfig]],
    *,
    kind: str,
    table_name: str,
    runs_dir: Path,
    say: Say = lambda _: None,
    progress: Callable[[], Any] | None = None,
    same_split: bool,
    on_end: Callable[[Path], None] | None = None,
) -> GroupResult:
    """Train each ``(label, config)`` variant as a child run of one new parent folder.

    ``same_split``: the children must share the split fingerprint (repeats); otherwise only the
    data fingerprint (folds). ``progress`` makes a fresh progress display per child. ``on_end(parent)``
    is called once the parent folder is final, however the group ended.
    """
    parent = lifecycle.create_run_dir(runs_dir, cfg.name)
    atomic.write_text(parent / files.CONFIG, to_yaml(cfg))
    record = lifecycle.RunRecord(parent, name=cfg.name, seed=cfg.seed, command="train", kind=kind, estimator=kind)
    children: list[Path] = []
    child_metrics: list[dict[str, Any]] = []
    try:
        for label, child_cfg in variants:
            say(f"{kind} {label}: training")
            result = train_experiment(
                child_cfg, runs_dir=parent, say=say, progress=progress() if progress else None
            )
            children.append(result.run_dir)
            child_metrics.append(result.metrics)
            record.update(children=[c.name for c in children])
        fingerprints = _shared_fingerprints(children, same_split)
        mean, std = aggregate(child_metrics)
        summary = {
            "kind": kind,
            "model": cfg.model.name,
            "threshold_rule": child_metrics[0]["threshold_rule"],
            "n": len(children),
            "runs": [
                {"label": label, "folder": c.name} for (label, _), c in zip(variants, children, strict=True)
            ],
            "mean": mean,
            "std": std,
        }
        header, rows = flat_rows([label for label, _ in variants], child_metrics)
        atomic.write_text(parent / table_name, to_csv(header, rows))
        atomic.write_json(parent / files.METRICS, summary)
    except KeyboardInterrupt:
        record.finish("interrupted", error="interrupted by the user")
        _ended(parent, on_end)
        raise
    except Exception as exc:
        record.finish("failed", error=f"{kind} child {len(children) + 1}: {exc}")
        _ended(parent, on_end)
        raise
    record.finish("completed", **fingerprints)
    _ended(parent, on_end)
    return GroupResult(parent, children, summary)


def _ended(parent: Path, on_end: Callable[[Path], None] | None) -> None:
    if on_end is not None:
        on_end(parent)


def _shared_fingerprints(children: list[Path], same_split: bool) -> dict[str, str]:
    records = [lifecycle.read_run(child) for child in children]
    keys = ["data_fingerprint"] + (["split_fingerprint"] if same_split else [])
    shared = {}
    for key in keys:
        values = {r.get(key) for r in records}
        if len(values) != 1:  # a bug, not a user mistake: the group promised one data set / split
            raise RuntimeError(f"children differ in {key}: {sorted(map(str, values))}")
        shared[key] = values.pop()
    return shared


def is_group(run_dir: Path) -> bool:
    """Whether a run folder is a parent of child runs (repeats or kfold), not one model."""
    try:
        return "children" in json.loads((Path(run_dir) / files.RUN).read_text()) and (
            lifecycle.read_run(run_dir).get("kind") in ("repeats", "kfold")
        )
    except (OSError, json.JSONDecodeError, UserError):
        return False


def needs_group(cfg: ExperimentConfig, seeds: int | None) -> bool:
    """Whether ``train`` makes a parent folder of child runs rather than one run."""
    return (seeds or cfg.repeats) > 1 or (cfg.split.method == "kfold" and cfg.split.fold is None)


def train_planned_group(
    cfg: ExperimentConfig,
    *,
    seeds: int | None,
    runs_dir: Path,
    say: Say = lambda _: None,
    progress: Callable[[], Any] | None = None,
    on_end: Callable[[Path], None] | None = None,
) -> GroupResult:
    """Cross-validation when the split asks for it, else ``seeds`` (or ``repeats``) seeds."""
    if cfg.split.method == "kfold" and cfg.split.fold is None:
        if (seeds or cfg.repeats) > 1:
            raise UserError("repeats/--seeds with split.method: kfold is not supported; use one of them")
        from seqexp.pipeline.kfold import train_kfold

        return train_kfold(cfg, runs_dir=runs_dir, say=say, progress=progress, on_end=on_end)
    from seqexp.pipeline.repeats import train_repeats

    return train_repeats(
        cfg, seeds or cfg.repeats, runs_dir=runs_dir, say=say, progress=progress, on_end=on_end
    )


def group_title(summary: dict[str, Any]) -> str:
    what = "seeds" if summary["kind"] == "repeats" else "folds"
    return f"mean ± std over {summary['n']} {what} (threshold: {summary['threshold_rule']})"
