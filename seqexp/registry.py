"""A small generic registry: name -> builder + its pydantic config class.

Components register by decorator when their module is imported (see ``seqexp.components``);
callers go through ``Registry.get`` / the family's ``build_*`` function and never touch the map.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from seqexp.errors import UserError


@dataclass(frozen=True)
class Entry:
    """One registered component."""

    name: str
    builder: Callable[..., Any]
    config_class: type[BaseModel]
    description: str
    tags: frozenset[str]


class Registry:
    """Name -> ``Entry`` map that fails loudly on duplicates and unknown names."""

    def __init__(self, family: str):
        self.family = family
        self._entries: dict[str, Entry] = {}

    def register(
        self, config_class: type[BaseModel], *, tags: tuple[str, ...] = ()
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator registering ``builder`` under the ``name`` literal of ``config_class``."""
        name = config_class.model_fields["name"].default
        if not isinstance(name, str):
            raise TypeError(f"{config_class.__name__}.name needs a string default")

        def decorate(builder: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._entries:
                raise ValueError(f"{self.family} registry: '{name}' is registered twice")
            doc = (config_class.__doc__ or builder.__doc__ or "").strip()
            self._entries[name] = Entry(
                name=name,
                builder=builder,
                config_class=config_class,
                description=doc.splitlines()[0] if doc else "",
                tags=frozenset(tags),
            )
            return builder

        return decorate

    def get(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise UserError(
                f"unknown {self.family} '{name}'{hint} Known: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)


DATA_SOURCES = Registry("data source")
BALANCERS = Registry("balancer")
MODELS = Registry("model")
