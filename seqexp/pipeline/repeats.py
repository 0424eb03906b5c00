"""Repeated seeds: the same experiment trained with N seeds on ONE split, reported as mean +- std.

Only the weights' seed varies (initialisation, shuffling, the balancer's sampling); the data
generator's seed and the split seed stay fixed at the base seed, so every child sees the same
rows in train, validation and test, and differences between children are training noise.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from seqexp.config import ExperimentConfig
from seqexp.errors import ConfigError
from seqexp.pipeline.groups import GroupResult, train_group
from seqexp.pipeline.train import Say

RUNS_CSV = "seeds.csv"


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
    parent_cfg = cfg.model_copy(update={"repeats": count})
    return train_group(
        parent_cfg,
        seed_variants(cfg, count),
        kind="repeats",
        table_name=RUNS_CSV,
        runs_dir=runs_dir,
        say=say,
        progress=progress,
        on_end=on_end,
        same_split=True,
    )
