"""What a binary target's two classes are called on figures, read from the data config.

Class 0 and class 1 are indices inside the run; people read the names the config gives them:

- ``table``: the target column's own values (bank marketing's ``y``: ``no`` and ``yes``); the
  negative value is the one other value the column holds (the source records it as
  ``schema["negative"]``), else ``not <positive>``;
- ``events`` with a label file: the label column's positive value and ``not`` it (``0``/``1`` for a
  0/1 column);
- ``events`` with labels from the log: ``no``/``yes``, with the rule as what they answer
  (``is_target == 1 within 28 days of the cutoff``);
- anything else (synthetic, npz): ``negative``/``positive``.

``target`` says what the classes are of (a column or the label rule): the figures' axis labels.
Nothing here imports a data source: the config is read by its fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT = ("negative", "positive")


@dataclass(frozen=True)
class ClassNames:
    names: tuple[str, str] = DEFAULT  # class 0, class 1
    target: str | None = None  # what the classes are of: a column, or the label rule in words


def value_text(value: Any) -> str:
    """A target value as its name: ``1.0`` -> ``1``, ``True`` -> ``True``, ``" yes"`` -> ``yes``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _against(positive: Any, negative: Any = None) -> tuple[str, str]:
    """(negative, positive) names for a positive value and, when known, the one other value."""
    shown = value_text(positive)
    if negative is not None:
        return value_text(negative), shown
    if shown == "1" and not isinstance(positive, bool):
        return "0", shown
    return f"not {shown}", shown


def _window(labels: Any) -> str:
    """The label window after the cutoff, in words."""
    if getattr(labels, "until", None) is not None:
        return f"before {labels.until}"
    horizon = getattr(labels, "horizon_days", None)
    if horizon is None:
        return "from the cutoff to the end of the log"
    return f"within {horizon:g} days of the cutoff"


def binary_names(data: Any, schema: dict[str, Any] | None = None) -> ClassNames:
    """The names of a binary target's classes under the data config ``data`` (and the source's
    saved ``schema``)."""
    schema = schema or {}
    name = getattr(data, "name", None)
    if name == "table":
        positive = schema.get("positive", getattr(data, "positive", None))
        positive = 1 if positive is None else positive
        return ClassNames(_against(positive, schema.get("negative")), getattr(data, "target", None))
    labels = getattr(data, "labels", None)
    if name == "events" and labels is not None:
        if hasattr(labels, "column") and hasattr(labels, "positive"):  # a label file
            return ClassNames(_against(labels.positive), labels.column)
        rule = getattr(labels, "where", None) or "any event"
        return ClassNames(("no", "yes"), f"{rule} {_window(labels)}")
    return ClassNames()
