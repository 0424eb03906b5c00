"""A synthetic source's generated event log, encoded by the ``events`` source.

The synthetic sources generate the frames ``seqexp generate`` writes (``events.parquet``,
``labels.parquet``) and hand them, in memory, to the same builder that reads those files
(``seqexp.data.events.events_from_frame``), through an equivalent ``events`` data section. So a run
trained on synthetic data scores the generated files (or any log with the same columns) exactly as it
scored its own test customers: one code path for generated and real logs.

The levels of a generated categorical column are known in advance, so the schema is given, not
learned: the same features whatever the sample holds. Runs saved before this path existed have a
source-specific schema (no ``"source": "events"``); ``as_saved`` gives them their arrays, which are
the same numbers, under the feature names they were trained with.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqexp.data.dataset import Dataset
from seqexp.data.events_config import EventsConfig
from seqexp.runfolder import files

if TYPE_CHECKING:
    import pandas as pd

EVENTS_FILE = files.EVENTS_PARQUET  # what ``seqexp generate`` writes, and the events section reads
LABELS_FILE = files.LABELS_PARQUET


def events_section(values: dict[str, Any], *, path: str | Path | None = None) -> EventsConfig:
    """The ``events`` section of ``values`` (plain YAML values), reading ``path`` without labels
    (new customers to score) when ``path`` is given."""
    if path is not None:
        values = {**values, "path": str(Path(path).resolve()), "labels": None}
    return EventsConfig.model_validate(values)


def is_events_schema(schema: dict | None) -> bool:
    """A schema the events builder wrote (every synthetic run trained since this path existed)."""
    return bool(schema) and schema.get("source") == "events"  # type: ignore[union-attr]


def given_schema(section: EventsConfig, levels: dict[str, list[str]]) -> dict[str, Any]:
    """What the events builder would learn from a generated log, with the generator's own levels."""
    from seqexp.data.event_log import new_schema, timestamp

    assert section.reference_date is not None, "a generated log has a fixed reference date"
    schema = new_schema(section, timestamp(section.reference_date))
    schema["categorical"] = {column: list(levels[column]) for column in section.categorical}
    return schema


def encode_log(
    source: str,
    section: EventsConfig,
    events: pd.DataFrame,
    labels: pd.DataFrame | None,
    *,
    levels: dict[str, list[str]],
    labelled: bool,
) -> Dataset:
    """``events`` (and ``labels``) encoded by the events builder as ``section`` reads their files.

    The schema is the one ``section`` and ``levels`` fix, never a run's: a synthetic config asking for
    another encoding than the run's (another sequence length) gets its own, which the run's shape
    check then refuses, rather than the run's encoding silently."""
    from seqexp.data.events import events_from_frame

    in_memory = f"{source} (generated in memory)"  # messages name the data, not a file that is not there
    cfg = section.model_copy(update={"path": in_memory})
    if cfg.labels is not None:
        named = cfg.labels.model_copy(update={"path": f"{in_memory}: labels"})
        cfg = cfg.model_copy(update={"labels": named})
    schema = given_schema(section, levels)
    return events_from_frame(
        cfg, events, schema=schema, labelled=labelled, labels=labels if labelled else None
    )


def as_saved(data: Dataset, schema: dict | None, names: dict[str, str], *, mask: bool = True) -> Dataset:
    """``data`` as a run saved before the events path reads it: its features renamed by ``names``
    (the numbers are the same), its own schema, and (``mask=False``) no mask where it had none."""
    if schema is None or is_events_schema(schema):
        return data
    return replace(
        data,
        feature_names=[names.get(name, name) for name in data.feature_names],
        schema=dict(schema),
        mask=data.mask if mask else None,
    )
