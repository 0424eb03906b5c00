"""``seqexp generate``: write a config's synthetic data as the files a user could have brought."""

from __future__ import annotations

from pathlib import Path

from seqexp.config.loading import load_config
from seqexp.reporting.console import result


def run(config: Path, overrides: list[str], *, out_dir: Path | None) -> None:
    from seqexp.data.generate import write_generated

    cfg = load_config(config, overrides)
    result(write_generated(cfg, out_dir or Path("data") / cfg.name))
