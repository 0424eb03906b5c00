"""Validating a raw config mapping against the schema; every problem becomes one line of one error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from seqexp.config.experiment import ExperimentConfig
from seqexp.config.messages import format_error
from seqexp.errors import ConfigError


def validate_sections(
    raw: dict[str, Any],
    *,
    source: str = "<config>",
    config_dir: Path | None = None,
    overrides: list[str] | None = None,
) -> ExperimentConfig:
    """Validate a raw mapping section by section; relative paths resolve against ``config_dir``.

    The tune space is not checked here (``seqexp.config.loading.validate_config`` does it), so that
    the search space can validate trial configs with this function."""
    try:
        return ExperimentConfig.model_validate(
            raw, context={"config_dir": str(config_dir) if config_dir else None}
        )
    except ValidationError as exc:
        set_keys = {o.split("=", 1)[0].strip() for o in overrides or []}
        problems = []
        for err in exc.errors(include_url=False):
            message = format_error(dict(err))
            if message.split(":", 1)[0] in set_keys:
                message += " (from --set)"
            if message not in problems:
                problems.append(message)
        raise ConfigError(source, problems) from None
