"""Prediction tasks behind one interface (``Task``), and the two places a task is chosen.

``task_for`` picks it from the data (the class names a source declares), once, at training;
``task_of`` reads it back from a saved run's ``metrics.json``. Nothing else asks which task it is in.
"""

from __future__ import annotations

from typing import Any

from seqexp.tasks.base import Decision, Scored, Task
from seqexp.tasks.binary import BinaryTask
from seqexp.tasks.class_names import DEFAULT, ClassNames
from seqexp.tasks.multiclass import MulticlassTask

__all__ = ["BinaryTask", "Decision", "MulticlassTask", "Scored", "Task", "task_for", "task_of"]


def task_for(classes: list[str] | None, names: ClassNames | None = None) -> Task:
    """Binary for two classes (or none declared), multi-class for more; ``names``: what a binary
    target's classes are called (``tasks.class_names.binary_names``)."""
    if classes and len(classes) > 2:
        return MulticlassTask(list(classes))
    names = names or ClassNames()
    return BinaryTask(names.names, names.target)


def task_of(metrics: dict[str, Any]) -> Task:
    """The task of a saved run; runs written before tasks were recorded are binary (and runs written
    before class names were recorded call their classes negative and positive)."""
    if metrics.get("task") == "multiclass":
        return MulticlassTask(list(metrics["classes"]))
    return BinaryTask(list(metrics.get("class_names") or DEFAULT), metrics.get("target"))
