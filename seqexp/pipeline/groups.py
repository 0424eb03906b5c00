"""A group of runs in one parent run folder: repeated seeds, cross-validation folds, or the test
cutoffs of a backtest (seqexp/pipeline/backtest.py).

Each child is an ordinary run folder inside the parent (``evaluate``, ``compare`` and ``ensemble``
work on it as on any run); the parent holds the config, ``run.json`` listing the children,
``metrics.json`` with the ``mean`` and ``std`` of every child metric, and a CSV with one row per child.

- **Seeds** (``repeats: N`` or ``--seeds N``): only the weights' seed varies (initialisation,
  shuffling, the balancer's sampling); the data generator's seed and the split seed stay fixed at the
  base seed, so every child sees the same rows and differences between children are training noise.
- **Folds** (``split: {method: kfold, folds: K, test: 0.1}``): the test fraction is held out first
  (stratified, seeded); the rest is cut into K folds. Fold ``i`` is one ordinary run whose validation
  split is fold ``i``, so scaling and balancing are fitted on that fold's training part only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqexp.config.experiment import ExperimentConfig
from seqexp.config.yaml_io import to_yaml
from seqexp.errors import ConfigError, UserError
from seqexp.pipeline.fit import Say
from seqexp.pipeline.spread import aggregate, flat_rows, to_csv
from seqexp.pipeline.train import train_experiment
from seqexp.runfolder import atomic, files, lifecycle


@dataclass(frozen=True)
class GroupResult:
    run_dir: Path
    children: list[Path]
    summary: dict[str, Any]


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
    count = seeds or cfg.repeats
    if cfg.split.method == "kfold" and cfg.split.fold is None:
        if count > 1:
            raise UserError("repeats/--seeds with split.method: kfold is not supported; use one of them")
        return train_kfold(cfg, runs_dir=runs_dir, say=say, progress=progress, on_end=on_end)
    return train_repeats(cfg, count, runs_dir=runs_dir, say=say, progress=progress, on_end=on_end)


def train_repeats(
    cfg: ExperimentConfig,
    count: int,
    *,
    runs_dir: Path,
    say: Say = lambda _: None,
    progress: Callable[[], Any] | None = None,
    on_end: Callable[[Path], None] | None = None,
) -> GroupResult:
    """Train ``count`` seeds of ``cfg`` into one parent run folder (``repeats`` in the config)."""
    if cfg.split.method == "kfold" and cfg.split.fold is None:
        raise ConfigError("repeats", ["repeated seeds of a kfold experiment are not supported; pick one"])
    return train_group(
        cfg.model_copy(update={"repeats": count}), seed_variants(cfg, count), kind="repeats",
        table_name=files.SEEDS_CSV, runs_dir=runs_dir, say=say, progress=progress, same_split=True,
        on_end=on_end,
    )  # fmt: skip


def train_kfold(
    cfg: ExperimentConfig,
    *,
    runs_dir: Path,
    say: Say = lambda _: None,
    progress: Callable[[], Any] | None = None,
    on_end: Callable[[Path], None] | None = None,
) -> GroupResult:
    """Train one model per fold into one parent run folder; write per-fold metrics and the spread."""
    return train_group(
        cfg, fold_variants(cfg), kind="kfold", table_name=files.FOLDS_CSV, runs_dir=runs_dir, say=say,
        progress=progress, same_split=False, on_end=on_end,
    )  # fmt: skip


def seed_variants(cfg: ExperimentConfig, count: int) -> list[tuple[str, ExperimentConfig]]:
    """Child configs for seeds ``seed, seed+1, ...``; split (and generated data) pinned to ``seed``."""
    base = cfg.seed
    split = cfg.split.model_copy(update={"seed": cfg.split.seed if cfg.split.seed is not None else base})
    data = cfg.data
    if "seed" in type(data).model_fields and getattr(data, "seed", None) is None:
        data = data.model_copy(update={"seed": base})
    variants = []
    for seed in range(base, base + count):
        child = cfg.model_copy(
            update={
                "seed": seed,
                "split": split,
                "data": data,
                "repeats": 1,
                "name": f"{cfg.name}-seed{seed}",
            }
        )
        variants.append((f"seed {seed}", child))
    return variants


def fold_variants(cfg: ExperimentConfig) -> list[tuple[str, ExperimentConfig]]:
    """One child config per fold, each an ordinary run (``split.fold`` set)."""
    width = len(str(cfg.split.folds))
    return [
        (
            f"fold {i}",
            cfg.model_copy(
                update={
                    "split": cfg.split.model_copy(update={"fold": i}),
                    "name": f"{cfg.name}-fold{i:0{width}d}",
                }
            ),
        )
        for i in range(cfg.split.folds)
    ]


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
    extend: Callable[[Path, list[Path]], dict[str, Any]] | None = None,
) -> GroupResult:
    """Train each ``(label, config)`` variant as a child run of one new parent folder.

    ``same_split``: the children must share the split fingerprint (repeats); otherwise only the
    data fingerprint (folds). ``progress`` makes a fresh progress display per child. ``on_end(parent)``
    is called once the parent folder is final, however the group ended. ``extend(parent, children)``
    writes what a kind of group adds (a backtest's per-cutoff table) and returns it for the summary.
    """
    record = lifecycle.create(
        runs_dir, cfg.name, to_yaml(cfg), seed=cfg.seed, command="train", kind=kind, estimator=kind
    )
    parent = record.folder
    children: list[Path] = []
    child_metrics: list[dict[str, Any]] = []
    with lifecycle.recording(record, on_end=on_end):
        for label, child_cfg in variants:
            record.context = f"{kind} child {len(children) + 1}"
            say(f"{kind} {label}: training")
            result = train_experiment(
                child_cfg, runs_dir=parent, say=say, progress=progress() if progress else None
            )
            children.append(result.run_dir)
            child_metrics.append(result.metrics)
            record.update(children=[c.name for c in children])
        record.context = kind
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
        if extend is not None:
            summary.update(extend(parent, children))
        header, rows = flat_rows([label for label, _ in variants], child_metrics)
        atomic.write_text(parent / table_name, to_csv(header, rows))
        atomic.write_json(parent / files.METRICS, summary)
        record.finish("completed", **fingerprints)
    return GroupResult(parent, children, summary)


def _shared_fingerprints(children: list[Path], same_split: bool) -> dict[str, Any]:
    records = [lifecycle.read_run(child) for child in children]
    keys = ["data_fingerprint"] + (["split_fingerprint"] if same_split else [])
    shared = {}
    for key in keys:
        values = {r.get(key) for r in records}
        if len(values) != 1:  # a bug, not a user mistake: the group promised one data set / split
            raise RuntimeError(f"children differ in {key}: {sorted(map(str, values))}")
        shared[key] = values.pop()
    return shared
