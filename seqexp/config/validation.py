"""Validating a raw config mapping against the schema; every problem becomes one line of one error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from seqexp.config.experiment import ExperimentConfig
from seqexp.config.messages import format_error, union_branch
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
        problems: list[str] = []
        said: set[str] = set()  # one line per YAML key: a value refused by every member of a
        for err in best_members(exc.errors(include_url=False)):  # scalar union (date | datetime)
            message = format_error(dict(err))  # is one mistake, however many members refused it
            where = message.split(":", 1)[0]
            if where in said and err["type"] != "extra_forbidden":
                continue
            said.add(where)
            if where in set_keys:
                message += " (from --set)"
            if message not in problems:
                problems.append(message)
        raise ConfigError(source, problems) from None


def best_members(errors: list[Any]) -> list[Any]:
    """For a value that matched no member of a union of sections (``labels``: a file or a window),
    keep the errors of the member with the fewest: the one the user most likely meant."""
    counts: dict[tuple[Any, ...], dict[str, int]] = {}
    for err in errors:
        if (branch := union_branch(tuple(err["loc"]))) is not None:
            where, member = branch
            counts.setdefault(where, {}).setdefault(member, 0)
            counts[where][member] += 1
    best = {where: min(members, key=lambda m: members[m]) for where, members in counts.items()}
    kept = []
    for err in errors:
        branch = union_branch(tuple(err["loc"]))
        if branch is None or best[branch[0]] == branch[1]:
            kept.append(err)
    return kept
