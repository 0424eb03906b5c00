"""A small generic registry: name -> builder + its pydantic config class (+ family-specific extras).

Components register by decorator when their module is imported (see ``seqexp.components``);
callers go through ``Registry.get`` / the family's ``build_*`` function and never touch the map.
Each registry states its contract, what a builder is called with and returns, below; the
contract tests (tests/test_registry.py) hold every entry to it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
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
    extras: Mapping[str, Any] = field(default_factory=dict)  # what the family's contract adds


class Registry:
    """Name -> ``Entry`` map that fails loudly on duplicates and unknown names."""

    def __init__(self, family: str, contract: str, extras: tuple[str, ...] = ()):
        self.family = family
        self.contract = contract
        self.extras = extras  # the extra keys every entry of this family gives at registration
        self._entries: dict[str, Entry] = {}

    def register(
        self, config_class: type[BaseModel], *, tags: tuple[str, ...] = (), **extras: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator registering ``builder`` under the ``name`` literal of ``config_class``; ``extras``
        are the family's own fields (for models: how a saved one is reloaded)."""
        name = config_class.model_fields["name"].default
        if not isinstance(name, str):
            raise TypeError(f"{config_class.__name__}.name needs a string default")
        if missing := [key for key in self.extras if key not in extras]:
            raise TypeError(f"{self.family} registry: '{name}' must give {', '.join(missing)}")

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
                extras=dict(extras),
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


DATA_SOURCES = Registry(
    "data source",
    "builder(cfg, *, seed: int, schema: dict | None = None, labelled: bool = True) -> Dataset. "
    "With a saved run's schema the builder encodes new data exactly as at training (same columns, "
    "levels, sequence length); labelled=False accepts rows without a label (y = -1). extras: check "
    "(cfg) -> str, a sample check for seqexp validate; frame (cfg, frame, *, schema, labelled) -> Dataset, "
    "for sources that read a file: the same encoding of a DataFrame already in memory (seqexp serve, "
    "the exported MLflow model); events (cfg) -> dict, for sources that generate an event log: the "
    "events data section reading the files seqexp generate writes (predict and serve read logs through "
    "it); saved (data, schema) -> Dataset, data as a run saved with an older encoding reads it.",
)
BALANCERS = Registry(
    "balancer",
    "builder(cfg, *, y: np.ndarray, seed: int) -> BalancePlan (seqexp.balancing): a sampler that "
    "resamples the training rows, class weights for the loss, or neither. Only ever applied to the "
    "training split, by seqexp.balancing.balance.",
)
MODELS = Registry(
    "model",
    "builder(model_cfg, train_cfg, spec: InputSpec, *, seed: int) -> Estimator (seqexp.models.base), "
    "seeded. extras: kind (run.json's 'estimator' value), loader ('module:Class' whose "
    "load(folder, *, trust) reloads a saved one), pickled (its file is a pickle: loads only with "
    "--trust-run), tensorflow (loading needs TensorFlow); Keras families also give architecture "
    "(model_cfg, spec) -> keras.Model, which the tuner compiles. Register Keras architectures with "
    "seqexp.models.keras_family.keras_architecture. Tag 'epochs': the model fits with train.* "
    "(epochs, batch size, optimiser, callbacks); a model without it never reads train.*.",
    extras=("kind", "loader", "pickled", "tensorflow"),
)
