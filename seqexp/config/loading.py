"""Loading a config: read, override, validate against the schema and, for tune, against its space."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seqexp.config.experiment import ExperimentConfig
from seqexp.config.validation import validate_sections
from seqexp.config.yaml_io import apply_overrides, read_yaml
from seqexp.errors import ConfigError

EMPTY = (
    "expected a mapping of sections, but the file is empty; write at least "
    "'data: {name: synthetic_transactions}' and 'model: {name: lstm}' (see configs/tiny.yaml)"
)


def load_config(path: str | Path, overrides: list[str] | None = None) -> ExperimentConfig:
    """Load, override and validate an experiment config; all problems become one ``ConfigError``."""
    path = Path(path)
    raw = read_yaml(path)
    if raw is None:  # empty, or only comments: training "every default" is never what was meant
        raise ConfigError(str(path), [EMPTY])
    if not isinstance(raw, dict):
        raise ConfigError(
            str(path), [f"expected a mapping of sections (name, data, model...), got {type(raw).__name__}"]
        )
    raw = apply_overrides(raw, overrides or [])
    return validate_config(raw, source=str(path), config_dir=path.parent, overrides=overrides)


def validate_config(
    raw: dict[str, Any],
    *,
    source: str = "<config>",
    config_dir: Path | None = None,
    overrides: list[str] | None = None,
) -> ExperimentConfig:
    """Validate a raw mapping: the schema, then (with a ``tune`` section) every path of its space."""
    cfg = validate_sections(raw, source=source, config_dir=config_dir, overrides=overrides)
    if cfg.tune is not None:  # space keys must be config paths; checked against the whole schema
        from seqexp.tuning.space import space_problems

        if problems := space_problems(cfg):
            raise ConfigError(source, problems)
    return cfg
