"""Model families (registry ``models``) and the entry points that build and reload any of them.

The registry's contract (``seqexp.registry.MODELS``): ``builder(model_cfg, train_cfg, spec, *, seed)
-> Estimator``; each entry also says how a saved one is reloaded (``kind``, ``loader``, ``pickled``,
``tensorflow``), so adding a model is one registration and nothing else.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from seqexp.config.section import Component
from seqexp.config.sections import TrainConfig
from seqexp.errors import UserError
from seqexp.models.base import Estimator, InputSpec
from seqexp.registry import MODELS, Entry


def build_estimator(model_cfg: Component, train_cfg: TrainConfig, spec: InputSpec, *, seed: int) -> Estimator:
    """Build the configured model, seeded, behind the common ``Estimator`` face."""
    return MODELS.get(model_cfg.name).builder(model_cfg, train_cfg, spec, seed=seed)


def build_keras_model(model_cfg: Component, train_cfg: TrainConfig, spec: InputSpec) -> Any:
    """The registered Keras architecture, compiled with the training settings (the tuner's path)."""
    from seqexp.models.keras_family import compiled

    entry = MODELS.get(model_cfg.name)
    if "architecture" not in entry.extras:
        raise UserError(f"model.name: {entry.name} is not a Keras model: it has no architecture to compile")
    return compiled(entry.extras["architecture"], model_cfg, train_cfg, spec)


def loader_of(kind: str) -> Entry | None:
    """The registered model whose saved files carry ``kind`` in run.json (all Keras architectures
    share the kind ``keras``: one loader reads them all)."""
    from seqexp import components  # noqa: F401  (a fresh process: fill the registry first)

    return next((entry for entry in MODELS if entry.extras.get("kind") == kind), None)


def load_estimator(kind: str, folder: Path, *, trust: bool = False) -> Estimator:
    """Reload a saved model from a run folder, executing no code stored in it.

    Keras files load with ``safe_mode=True`` and JSON models are plain numbers; a pickled model is
    refused with a ``UserError`` unless ``trust`` is True.
    """
    entry = loader_of(kind)
    if entry is None:
        known = sorted({e.extras["kind"] for e in MODELS})
        raise UserError(
            f"{folder}: run.json names a model kind '{kind}' this version cannot load "
            f"(known: {', '.join(known)})"
        )
    if entry.extras["pickled"] and not trust:
        raise UserError(
            f"{folder}: the {kind} model is stored as a pickle, and loading a pickle can run any code "
            "it contains. Pass --trust-run if you made this run folder or trust whoever did."
        )
    if entry.extras["tensorflow"]:
        from seqexp.runtime.backend import tensorflow

        tensorflow()
    module, cls = entry.extras["loader"].split(":")
    return getattr(importlib.import_module(module), cls).load(folder, trust=trust)
