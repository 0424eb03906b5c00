"""Model families (registry ``models``) and the one entry point that builds any of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seqexp.models.base import Estimator, InputSpec
from seqexp.registry import MODELS


def build_keras_model(model_cfg: Any, train_cfg: Any, spec: InputSpec) -> Any:
    """The registered architecture, compiled with the training settings (also used by the tuner)."""
    from seqexp.distribute import scope
    from seqexp.models.keras_estimator import compile_model

    with scope(train_cfg):  # train.distribute: variables created and compiled under the strategy
        return compile_model(MODELS.get(model_cfg.name).builder(model_cfg, spec), train_cfg)


def build_estimator(model_cfg: Any, train_cfg: Any, spec: InputSpec, *, seed: int) -> Estimator:
    """Build the configured model, seeded, behind the common ``Estimator`` face."""
    entry = MODELS.get(model_cfg.name)
    if "keras" in entry.tags:
        from seqexp.models.keras_estimator import KerasEstimator
        from seqexp.seeding import seed_everything

        seed_everything(seed)
        return KerasEstimator(build_keras_model(model_cfg, train_cfg, spec))
    return entry.builder(model_cfg, spec, seed=seed)


# Estimator kind (stored in run.json) -> "module:Class" whose ``load(folder)`` reloads it.
LOADERS: dict[str, str] = {
    "keras": "seqexp.models.keras_estimator:KerasEstimator",
    "logistic_regression": "seqexp.models.baselines:LogisticEstimator",
}


def load_estimator(kind: str, folder: Path) -> Estimator:
    """Reload a saved model from a run folder, executing no code stored in it."""
    import importlib

    from seqexp.backend import tensorflow

    tensorflow()
    module, cls = LOADERS[kind].split(":")
    return getattr(importlib.import_module(module), cls).load(folder)
