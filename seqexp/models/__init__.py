"""Model families (registry ``models``) and the one entry point that builds any of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seqexp.errors import UserError
from seqexp.models.base import Estimator, InputSpec
from seqexp.registry import MODELS


def build_keras_model(model_cfg: Any, train_cfg: Any, spec: InputSpec) -> Any:
    """The registered architecture, compiled with the training settings (also used by the tuner)."""
    from seqexp.models.keras_estimator import compile_model

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
    "lstm_autoencoder": "seqexp.models.autoencoder:AutoencoderEstimator",
    "logistic_regression": "seqexp.models.baselines:LogisticEstimator",
    "gradient_boosting": "seqexp.models.baselines:GradientBoostingEstimator",
}

# Estimator kinds whose files are pickles: they load only with ``trust=True``.
PICKLED: frozenset[str] = frozenset({"gradient_boosting"})


def load_estimator(kind: str, folder: Path, *, trust: bool = False) -> Estimator:
    """Reload a saved model from a run folder.

    Keras and JSON files execute no code stored in them. Pickled kinds (``PICKLED``) can, so they
    raise a ``UserError`` unless ``trust=True`` (the hook for a ``--trust-run`` flag).
    """
    import importlib

    from seqexp.backend import tensorflow

    if kind not in LOADERS:
        raise UserError(f"{folder}: unknown model kind '{kind}'; known: {', '.join(LOADERS)}")
    tensorflow()
    module, cls = LOADERS[kind].split(":")
    return getattr(importlib.import_module(module), cls).load(folder, trust=trust)
