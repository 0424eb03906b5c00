"""What a run's model reads, in the units a person reasons in.

A run's features (``preprocess.json``, the names ``data_schema.json``'s encoding produced) become
*units*: a numeric column is one unit, and the one-hot block of one categorical column
(``type=deposit``, ``type=salary``, ...) is one unit, so permuting or explaining ``type`` moves
the whole block together. Sequences are ``(steps, features)``, pre-padded: the latest event is the
last step, so step ``t`` of ``L`` is the event ``L - t`` before the cutoff (its *age*, 1 = latest).

The baselines and LightGBM read sequences as per-customer features (``seqexp.models.features``):
``table_columns`` says which step and feature each of those columns came from, so their
contributions fold back onto the same steps x features grid as a Keras model's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

STATS = ("mean", "std", "min", "max")  # the order of table_features' aggregates over real steps


@dataclass(frozen=True)
class Unit:
    """One numeric column, or the one-hot block of one categorical column (``levels`` per column)."""

    name: str
    columns: tuple[int, ...]
    levels: tuple[str, ...] | None = None

    @property
    def categorical(self) -> bool:
        return self.levels is not None


@dataclass(frozen=True)
class Layout:
    """The run's feature names grouped into units; ``steps`` is the sequence length (None: a table)."""

    names: list[str]
    units: list[Unit]
    steps: int | None = None

    @classmethod
    def build(cls, names: list[str], onehot: list[bool], steps: int | None = None) -> Layout:
        """Consecutive one-hot columns named ``column=level`` with one ``column`` form one unit;
        every other column is a unit of its own."""
        units: list[Unit] = []
        for j, name in enumerate(names):
            column, sep, level = name.partition("=")
            last = units[-1] if units else None
            if onehot[j] and sep:
                if last is not None and last.categorical and last.name == column:
                    units[-1] = Unit(column, (*last.columns, j), (*(last.levels or ()), level))
                else:
                    units.append(Unit(column, (j,), (level,)))
            else:
                units.append(Unit(name, (j,)))
        return cls(list(names), units, steps)

    @classmethod
    def of_run(cls, run: Any) -> Layout:
        """From a saved run: the scaler's names and its passthrough (one-hot) columns, the input shape."""
        names = list(run.scaler.feature_names)
        shape = run.record.get("input_shape") or []
        steps = int(shape[0]) if len(shape) == 2 else None
        return cls.build(names, [not s for s in run.scaler.scaled], steps)

    @property
    def is_sequence(self) -> bool:
        return self.steps is not None

    @property
    def events(self) -> Unit | None:
        """The categorical unit that names each event (its type), when the steps have one."""
        return next((u for u in self.units if u.categorical), None) if self.is_sequence else None

    def ages(self) -> np.ndarray:
        """Each step's age: ``L, ..., 2, 1`` (1 = the latest event, in the last step)."""
        assert self.steps is not None
        return np.arange(self.steps, 0, -1)


def table_columns(n_features: int, steps: int, last_steps: int) -> list[tuple[str, int, int | None]]:
    """``(what, feature, step)`` for each column of ``table_features`` on ``(steps, n_features)``
    sequences: ``("count", -1, None)``, then ``(stat, j, None)`` per aggregate, then
    ``("step", j, t)`` for the last ``last_steps`` steps flattened (step-major)."""
    out: list[tuple[str, int, int | None]] = [("count", -1, None)]
    out += [(stat, j, None) for stat in STATS for j in range(n_features)]
    k = min(last_steps, steps)
    out += [("step", j, t) for t in range(steps - k, steps) for j in range(n_features)]
    return out


def describe_ages(ages: list[int] | tuple[int, ...]) -> str:
    """``[1]`` -> "the latest event"; ``[1, 2, 3]`` -> "events 1-3 before the cutoff";
    ``[1, 4, 5]`` -> "events 1, 4-5 before the cutoff"."""
    ages = sorted(set(int(a) for a in ages))
    if not ages:
        return "over the history"
    if ages == [1]:
        return "the latest event"
    if len(ages) == 1:
        return f"event {ages[0]} before the cutoff"
    runs: list[list[int]] = []
    for a in ages:
        if runs and a == runs[-1][-1] + 1:
            runs[-1].append(a)
        else:
            runs.append([a])
    parts = [f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs]
    return f"events {', '.join(parts)} before the cutoff"
