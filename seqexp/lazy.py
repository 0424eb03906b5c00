"""A module imported on first use, so the light commands (``--help``, ``validate``, ``list``) never
pay for it: pandas alone costs about half a second of start-up on the project's machine.

``pd = lazy_module("pandas")`` at the top of a module reads like ``import pandas as pd``; the real
import happens the first time an attribute (``pd.DataFrame``) is looked up.
"""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """Stands in for a module until an attribute is first read."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> Any:
    return LazyModule(name)
