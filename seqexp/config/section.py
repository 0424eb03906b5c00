"""Building blocks shared by every config class: the strict base section and path fields.

Component modules import from here (not from ``seqexp.config``), which assembles the whole
experiment schema from the registries and so must import the components first.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, ValidationInfo
from pydantic.functional_validators import AfterValidator


class Section(BaseModel):
    """A config section: unknown keys are errors, values are immutable once validated."""

    # allow_inf_nan=False: no setting has a use for .inf or .nan, and NaN breaks config equality.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(text: str) -> str:
    """Expand ``${VAR}`` and ``${VAR:-default}``; an unset variable without default is an error."""

    def repl(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = os.environ.get(name)
        if value is None or value == "":
            if default is None:
                raise ValueError(f"environment variable {name} is not set (or write ${{{name}:-default}})")
            return default
        return value

    return _ENV.sub(repl, text)


def _resolve(value: str, info: ValidationInfo) -> str:
    """Paths in a config are relative to the config file's folder (not to the working folder)."""
    path = Path(expand_env(str(value))).expanduser()
    base = (info.context or {}).get("config_dir")
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    return os.path.abspath(path)  # absolute and normalised ('a/../b' -> 'b'), symlinks kept


ConfigPath = Annotated[str, AfterValidator(_resolve)]
"""A file path given in YAML: ``${ENV:-default}`` expanded, relative to the config file."""


class Component(Section):
    """What every component's config class has: the ``name`` its registry knows it by (a static type:
    each component's own class declares ``name`` as a literal)."""

    name: str


def show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def moment(value: dt.date | dt.datetime) -> dt.datetime:
    """A date as its midnight, so that dates and datetimes compare (without importing pandas)."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
    return moment.replace(tzinfo=None)
