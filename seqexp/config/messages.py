"""Validation errors as one line each, naming the YAML key a user wrote and suggesting a fix."""

from __future__ import annotations

import difflib
import re
from types import UnionType
from typing import Any, Union, get_origin

from pydantic import BaseModel

from seqexp.config.experiment import COMPONENT_SECTIONS, ExperimentConfig
from seqexp.config.section import show


def _walk(loc: tuple[Any, ...]) -> tuple[list[str], type[BaseModel] | None]:
    """Turn a pydantic error location into a YAML path and the config class that holds its leaf.

    Pydantic inserts the discriminator tag (``('model', 'lstm', 'unit')``) and union member
    names into locations; a user only knows the YAML keys, so those are dropped.
    """
    path: list[str] = []
    current: type[BaseModel] | None = ExperimentConfig
    parent: type[BaseModel] | None = ExperimentConfig
    items = list(loc)
    i = 0
    while i < len(items):
        item = items[i]
        path.append(str(item))
        parent = current
        field = current.model_fields.get(str(item)) if current else None
        current = None
        if field is not None:
            if parent is ExperimentConfig and str(item) in COMPONENT_SECTIONS:
                registry = COMPONENT_SECTIONS[str(item)]
                if i + 1 < len(items) and items[i + 1] in registry:
                    current = registry.get(items[i + 1]).config_class
                    i += 1  # skip the tag
            else:
                ann = field.annotation
                candidates = [ann, *getattr(ann, "__args__", ())]
                models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
                current = models[0] if models else None
                if len(models) > 1 and i + 1 < len(items) and (member := _member(models, items[i + 1])):
                    current = member  # a union of sections: pydantic names the member tried; skip it
                    i += 1
                elif current is None and get_origin(ann) in (Union, UnionType):
                    break  # union member names follow (``dict[int,float]``); they mean nothing in YAML
                if str(item) == "threshold":
                    break
        i += 1
    return path, parent


def _member(models: list[type[BaseModel]], label: Any) -> type[BaseModel] | None:
    """The union member a pydantic location label (``WindowLabels``, ``function-after[..., FileLabels]``)
    stands for."""
    text = str(label)
    return next((m for m in models if m.__name__ in text.replace("[", ",").replace("]", ",").split(", ")
                 or text == m.__name__ or text.endswith(f" {m.__name__}]")), None)  # fmt: skip


def union_branch(loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], str] | None:
    """``(where, member)`` when ``loc`` passes through a union of sections: errors of one value are
    reported for every member pydantic tried, and only the member that fits best is worth showing.
    (A component's registry tag, ``('model', 'lstm', ...)``, is one member only: not a branch.)"""
    path, _ = _walk(loc)
    j = 0
    for i, item in enumerate(loc):
        if j < len(path) and str(item) == path[j]:
            j += 1
            continue
        if i > 0 and i == 1 and str(loc[0]) in COMPONENT_SECTIONS:
            continue  # the registry tag of data / balance / model
        return tuple(loc[:i]), str(item)
    return None


def format_error(err: dict[str, Any]) -> str:
    """One pydantic error -> ``yaml.path: what is wrong; how to fix it``."""
    kind = err["type"]
    loc = tuple(err.get("loc", ()))
    path, holder = _walk(loc)
    where = ".".join(path) or "(top level)"
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        known = list(holder.model_fields) if holder else []
        close = difflib.get_close_matches(path[-1], known, n=1)
        hint = (
            f"; did you mean '{close[0]}'?"
            if close
            else (f"; known keys: {', '.join(known)}" if known else "")
        )
        return f"{where}: unknown key{hint}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        registry = COMPONENT_SECTIONS.get(path[0]) if path else None
        names = ", ".join(registry.names()) if registry else ctx.get("expected_tags", "")
        if kind == "union_tag_not_found":
            return f"{where}.name: missing; one of {names}"
        return f"{where}.name: '{ctx.get('tag')}' is not one of {names}"
    if kind == "invalid_key":  # a YAML key that is a number, boolean or null where names belong
        parent = ".".join(path[:-1]) or "(top level)"
        return f"{parent}: key {show(err.get('input'))} is not a name; keys here are words such as 'epochs'"
    if kind == "missing":
        return f"{where}: required but missing"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{where}: expected a mapping of keys, got {show(err.get('input'))}"
    message = str(err.get("msg", "invalid"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if not path and re.match(r"[a-z_]+(\.[a-z_]+)+: ", message):  # a rule across sections names its key
        return message
    return (
        f"{where}: {message[0].lower() + message[1:] if message else message} (got {show(err.get('input'))})"
    )
