"""``seqexp generate``: write a synthetic source's data as the files a user would bring, and the
``events`` data section that reads them (``data.yaml``: ``seqexp evaluate RUN --data D/data.yaml``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seqexp.config.experiment import ExperimentConfig
from seqexp.errors import UserError
from seqexp.runfolder import files


def write_generated(cfg: ExperimentConfig, folder: Path) -> Path:
    """Write ``events.parquet``, ``labels.parquet``, ``card.json`` and (sources encoded as an event
    log) ``data.yaml`` into ``folder``."""
    import yaml

    from seqexp.data.synthetic import GENERATORS
    from seqexp.registry import DATA_SOURCES
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
    as_events = DATA_SOURCES.get(cfg.data.name).extras.get("events")
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
    if as_events is not None:
        # The section the source itself encodes the generated frames with: relative paths, so the
        # folder can move; a run trained on the source scores these files exactly as its own data.
        section = yaml.safe_dump({"data": as_events(cfg.data)}, sort_keys=False)
        header = f"# The events data section that reads these files as '{cfg.data.name}' encodes them.\n"
        write_text(folder / files.DATA_YAML, header + section)
        card["files"]["data_config"] = files.DATA_YAML
    write_text(folder / files.DATA_CARD, json.dumps(card, indent=2) + "\n")
    return folder
