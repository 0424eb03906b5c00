"""``seqexp generate``: write a synthetic source's data as the files a user would bring."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seqexp.config.experiment import ExperimentConfig
from seqexp.errors import UserError
from seqexp.runfolder import files


def write_generated(cfg: ExperimentConfig, folder: Path) -> Path:
    """Write ``events.parquet``, ``labels.parquet`` and ``card.json`` into ``folder``."""
    from seqexp.data.synthetic import GENERATORS
    from seqexp.runfolder.atomic import atomic_path, write_text

    generator = GENERATORS.get(cfg.data.name)
    if generator is None:
        raise UserError(
            f"data.name: '{cfg.data.name}' reads existing files; generate works with the synthetic "
            f"sources: {', '.join(GENERATORS)}"
        )
    events, labels = generator(cfg.data, cfg.seed)
    folder.mkdir(parents=True, exist_ok=True)
    for frame, name in ((events, files.EVENTS_PARQUET), (labels, files.LABELS_PARQUET)):
        with atomic_path(folder / name) as tmp:
            frame.to_parquet(tmp, index=False)
    card: dict[str, Any] = {
        "source": cfg.data.name,
        "settings": cfg.data.model_dump(mode="json"),
        "seed": getattr(cfg.data, "seed", None) if getattr(cfg.data, "seed", None) is not None else cfg.seed,
        "files": {"events": files.EVENTS_PARQUET, "labels": files.LABELS_PARQUET},
        "events": len(events),
        "customers": len(labels),
        "positive_rate": round(float(labels["label"].mean()), 4),
        "columns": {"events": list(events.columns), "labels": list(labels.columns)},
    }
    write_text(folder / files.DATA_CARD, json.dumps(card, indent=2) + "\n")
    return folder
