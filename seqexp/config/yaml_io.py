"""Config files as text: strict YAML reading, ``${VAR}`` expansion, ``--set`` overrides, writing back.

Flow: ``yaml.safe_load`` (a key given twice is refused) -> ``--set`` overrides on the raw mapping ->
validation (``seqexp.config.loading``) -> frozen ``ExperimentConfig`` -> ``to_yaml`` in the run folder.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

from seqexp.config.experiment import ExperimentConfig
from seqexp.config.section import show
from seqexp.errors import ConfigError


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping (PyYAML keeps the last)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # ``<<: *base`` then overriding keys is fine
            continue
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:  # an unhashable key: PyYAML's own constructor reports it
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice in the same mapping", key_node.start_mark
            )
    yield from loader.construct_yaml_map(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _mapping_without_duplicates)


def _timestamp_or_text(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    """A date-looking scalar that is no real date (``1997-13-01``) stays text, so the schema names the
    key it sits under instead of the whole file failing to read."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def safe_load(text: str) -> Any:
    """``yaml.safe_load``, but a duplicated key is an error instead of a silent overwrite."""
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass


def read_yaml(path: Path) -> Any:
    """Read a YAML file safely; a missing file or a syntax error becomes a ``ConfigError``."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, ["no such file"]) from None
    except IsADirectoryError:
        raise ConfigError(source, ["is a folder, not a YAML file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, [f"cannot be read ({exc})"]) from None
    try:
        return safe_load(text)
    except (ValueError, RecursionError) as exc:  # PyYAML lets these through (10**5000, [[[[...]]]])
        raise ConfigError(source, [f"malformed YAML: {_yaml_failure(exc)}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(source, [f"malformed YAML: {where}{problem}"]) from None


# What PyYAML raises besides YAMLError: ValueError for integers past Python's 4,300-digit
# int-string limit, RecursionError for nesting thousands deep.
YAML_FAILURES = (yaml.YAMLError, ValueError, RecursionError)


def _yaml_failure(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if "digits" in str(exc):
        return "a number with too many digits"
    return str(exc).splitlines()[0][:200]


_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def parse_override(text: str) -> tuple[list[str], Any]:
    """``a.b=value`` -> (['a', 'b'], value parsed as YAML)."""
    if "=" not in text:
        raise ConfigError("--set", [f"{show(text)} is not KEY=VALUE (e.g. --set train.epochs=3)"])
    key, raw = text.split("=", 1)
    key = key.strip()
    if not _KEY.match(key):
        raise ConfigError("--set", [f"{show(key)} is not a dotted config path (e.g. model.units)"])
    try:
        value = safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        # Not YAML syntax (``%d-%b-%y``, ``[64,32``): the text itself. The schema then checks it
        # under its key, and an unknown key is reported as one, not as a YAML problem.
        value = raw
    except YAML_FAILURES:  # YAML, but no value Python can hold (a 5,000-digit number, a cycle)
        raise ConfigError("--set", [f"{key}: value {show(raw)} is not valid YAML"]) from None
    return key.split("."), value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of ``raw`` with each ``--set`` applied in order.

    A mapping value replaces the whole section (so ``model={name: gru}`` gets GRU's defaults);
    a scalar sets one field. Unknown keys are caught later by validation, like YAML typos.
    """
    result = copy.deepcopy(raw) if raw else {}
    for text in overrides:
        keys, value = parse_override(text)
        node = result
        for depth, key in enumerate(keys[:-1]):
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            elif not isinstance(child, dict):
                where = ".".join(keys[: depth + 1])
                raise ConfigError("--set", [f"{show(text)}: '{where}' is a value, not a section"])
            node = child
        node[keys[-1]] = value
    return result


def to_yaml(config: ExperimentConfig) -> str:
    """The resolved config as YAML, in schema order; loads back to an equal config."""
    exclude = {"tune"} if config.tune is None else None  # train configs stay free of an empty section
    data = config.model_dump(mode="json", by_alias=True, exclude=exclude)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
