"""``seqexp validate``: check a config without training (and without importing TensorFlow)."""

from __future__ import annotations

from pathlib import Path

from seqexp.config.loading import load_config
from seqexp.reporting.console import out, warn


def run(config: Path, overrides: list[str]) -> None:
    from seqexp.pipeline.data_check import check_data

    cfg = load_config(config, overrides)
    if (checked := check_data(cfg)) is not None:
        out.print(f"{config}: data: {checked}", soft_wrap=True)
    if cfg.tune is not None:  # what limits the search, and settings that contradict each other
        from seqexp.tuning import budget

        out.print(f"{config}: tune: {budget.describe(cfg.tune)}", soft_wrap=True)
        for note in budget.warnings_for(cfg.tune):
            warn(f"{config}: {note}")
    out.print(
        f"{config}: ok ({cfg.model.name} on {cfg.data.name}, balance {cfg.balance.name}, seed {cfg.seed})",
        soft_wrap=True,
    )
