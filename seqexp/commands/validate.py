"""``seqexp validate``: check a config without training (and without importing TensorFlow)."""

from __future__ import annotations

from pathlib import Path

from seqexp.config.loading import load_config
from seqexp.reporting.console import out


def run(config: Path, overrides: list[str]) -> None:
    from seqexp.pipeline.data_check import check_data

    cfg = load_config(config, overrides)
    if (checked := check_data(cfg)) is not None:
        out.print(f"{config}: data: {checked}", soft_wrap=True)
    out.print(
        f"{config}: ok ({cfg.model.name} on {cfg.data.name}, balance {cfg.balance.name}, seed {cfg.seed})",
        soft_wrap=True,
    )
