"""Reason codes: contributions summed into a few readable reasons per customer, with direction.

The candidates a customer's contributions are summed into (all of them together hold every
contribution, so they add up to the score's log-odds minus the bias):

- a numeric feature, over the customer's real steps (and its aggregates over the history):
  "amount at events 1-3 before the cutoff (deposit x3): raises the score";
- one level of a categorical column, over the steps whose event has that level:
  "type=deposit at events 1-3 before the cutoff: raises the score" (the block of each step goes
  to the level the event has there; the share of the level over the history to that level too);
- a table's column, at the customer's value: "age = 61", "job=retired";
- the number of real steps (and what padded steps contributed): "number of events (4)".

Which events mattered: the steps whose contributions point the way of the reason's total, the
largest first, until they hold 80% of it (at most ``MAX_AGES``); when the history-wide part
outweighs the steps, the reason says "over the history" instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqexp.explain.contributions import Attribution
from seqexp.explain.layout import Layout, Unit, describe_ages

SHARE = 0.8  # the steps named hold this share of a reason's same-signed contributions
MAX_AGES = 5


@dataclass(frozen=True)
class Candidate:
    """A reason every customer has a contribution for; ``kind``: numeric or level (sequences),
    column (a table's), count (the number of events)."""

    feature: str
    kind: str
    unit: Unit | None = None
    level: str = ""
    column: int = -1


@dataclass(frozen=True)
class Reason:
    feature: str
    level: str
    ages: tuple[int, ...]
    contribution: float
    text: str

    @property
    def direction(self) -> str:
        return "raises" if self.contribution > 0 else "lowers"


@dataclass(frozen=True)
class Parts:
    """Every candidate's contribution per row (``totals``: ``(n, candidates)``) and, for reasons
    tied to events, its contribution per step (``(n, L)``, else None)."""

    candidates: list[Candidate]
    totals: np.ndarray
    on_steps: list[np.ndarray | None]


def split_into_candidates(
    attr: Attribution, layout: Layout, raw: np.ndarray, mask: np.ndarray | None
) -> Parts:
    """Sum ``attr`` into the candidates of ``layout`` (``raw``: the unscaled rows, for levels)."""
    n = len(attr.output)
    cands: list[Candidate] = []
    totals: list[np.ndarray] = []
    steps: list[np.ndarray | None] = []

    def add(c: Candidate, whole: np.ndarray, on_steps: np.ndarray | None = None) -> None:
        cands.append(c)
        steps.append(on_steps)
        totals.append(whole + (on_steps.sum(axis=1) if on_steps is not None else 0.0))

    if attr.steps is None:
        for u in layout.units:
            add(
                Candidate(u.name, "column", u, column=u.columns[0]),
                attr.whole[:, list(u.columns)].sum(axis=1),
            )
        return Parts(cands, np.column_stack(totals) if totals else np.zeros((n, 0)), steps)
    real = np.ones(attr.steps.shape[:2], bool) if mask is None else mask.astype(bool)
    for u in layout.units:
        if not u.categorical:
            j = u.columns[0]
            add(Candidate(u.name, "numeric", u, column=j), attr.whole[:, j], attr.steps[:, :, j] * real)
            continue
        block = attr.steps[:, :, list(u.columns)].sum(axis=2) * real
        onehot = raw[:, :, list(u.columns)] > 0.5
        for c, level in zip(u.columns, u.levels or (), strict=True):
            active = onehot[:, :, u.columns.index(c)] & real
            add(Candidate(u.name, "level", u, level, c), attr.whole[:, c], block * active)
        unseen = real & ~onehot.any(axis=2)
        if unseen.any():
            add(Candidate(u.name, "level", u, "(unseen level)"), np.zeros(n), block * unseen)
    padded = attr.steps.sum(axis=2) * ~real
    count = attr.count if attr.count is not None else np.zeros(n)
    add(Candidate("number of events", "count"), count + padded.sum(axis=1))
    return Parts(cands, np.column_stack(totals), steps)


def top_reasons(
    attr: Attribution, layout: Layout, raw: np.ndarray, mask: np.ndarray | None, top: int
) -> list[list[Reason]]:
    """Per row, its ``top`` reasons by absolute contribution (log-odds), largest first."""
    parts = split_into_candidates(attr, layout, raw, mask)
    if parts.totals.shape[1] == 0:
        return [[] for _ in range(len(attr.output))]
    order = np.argsort(-np.abs(parts.totals), axis=1, kind="stable")[:, :top]
    out: list[list[Reason]] = []
    for i, picks in enumerate(order):
        row = []
        for k in picks:
            value = float(parts.totals[i, k])
            if value == 0.0:
                continue
            on_steps = parts.on_steps[k]
            ages = _ages(on_steps[i], value, layout) if on_steps is not None else ()
            cand = parts.candidates[k]
            what, level = _what(cand, i, ages, layout, raw, mask)
            verb = "raises" if value > 0 else "lowers"
            row.append(Reason(cand.feature, level, ages, value, f"{what}: {verb} the score"))
        out.append(row)
    return out


def _ages(on_steps: np.ndarray, total: float, layout: Layout) -> tuple[int, ...]:
    """The ages (1 = latest) of the steps that carry the reason, or () when its history-wide part
    outweighs its steps."""
    along = on_steps * np.sign(total)
    if along.max(initial=0.0) <= 0 or abs(on_steps.sum()) < abs(total) / 2:
        return ()
    order = np.argsort(-along, kind="stable")
    positive = along[order][along[order] > 0]
    need = int(np.searchsorted(np.cumsum(positive), SHARE * positive.sum() - 1e-12)) + 1
    ages = layout.ages()[order[: min(need, MAX_AGES, len(positive))]]
    return tuple(sorted(int(a) for a in ages))


def _what(
    cand: Candidate, i: int, ages: tuple[int, ...], layout: Layout, raw: np.ndarray, mask: np.ndarray | None
) -> tuple[str, str]:
    """The reason's subject (before ": raises the score") and its level."""
    if cand.kind == "count":
        real = raw.shape[1] if mask is None else int(mask[i].sum())
        return f"number of events ({real})", ""
    if cand.kind == "column":
        assert cand.unit is not None
        if cand.unit.categorical:
            level = _level(raw[i, list(cand.unit.columns)], cand.unit)
            return f"{cand.feature}={level}", level
        return f"{cand.feature} = {_number(raw[i, cand.column])}", ""
    where = describe_ages(ages)
    if cand.kind == "level":
        if not ages:
            return f"share of {cand.feature}={cand.level} over the history", cand.level
        return f"{cand.feature}={cand.level} at {where}", cand.level
    if not ages:
        return f"{cand.feature} over the history", ""
    events = _events_at(i, ages, layout, raw)
    return f"{cand.feature} at {where}{events}", ""


def _events_at(i: int, ages: tuple[int, ...], layout: Layout, raw: np.ndarray) -> str:
    """`` (deposit x3)`` / `` (deposit, salary)``: the event levels at those ages, newest first."""
    unit = layout.events
    if unit is None or layout.steps is None:
        return ""
    levels = [_level(raw[i, layout.steps - a, list(unit.columns)], unit) for a in sorted(ages)]
    if len(set(levels)) == 1 and len(levels) > 1:
        return f" ({levels[0]} x{len(levels)})"
    return f" ({', '.join(levels)})"


def _level(onehot: np.ndarray, unit: Unit) -> str:
    if not np.nanmax(onehot, initial=0.0) > 0.5:
        return "(unseen level)"
    return (unit.levels or ())[int(np.nanargmax(onehot))]


def _number(value: float) -> str:
    return "missing" if np.isnan(value) else f"{float(value):.4g}"
