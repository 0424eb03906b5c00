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
    from seqexp.runtime.distribute import scope

    with scope(train_cfg):  # train.distribute: variables created and compiled under the strategy
        return compile_model(MODELS.get(model_cfg.name).builder(model_cfg, spec), train_cfg)


def build_estimator(model_cfg: Any, train_cfg: Any, spec: InputSpec, *, seed: int) -> Estimator:
    """Build the configured model, seeded, behind the common ``Estimator`` face."""
    entry = MODELS.get(model_cfg.name)
    if "keras" in entry.tags:
        from seqexp.models.keras_estimator import KerasEstimator
        from seqexp.runtime.seeding import seed_everything

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

# Kinds whose saved file can only be a pickle (joblib). Unpickling runs whatever code the file
# names, so these load only when the user vouches for the run folder (``--trust-run``).
PICKLED: frozenset[str] = frozenset({"gradient_boosting"})

TRUST_HELP = (
    "Load models stored as pickles (e.g. gradient boosting) from this run folder. Unpickling can run "
    "any code the file contains: pass it only for run folders you made or trust."
)

# Kinds that load without TensorFlow.
_PLAIN = frozenset({"logistic_regression", "gradient_boosting"})


def load_estimator(kind: str, folder: Path, *, trust: bool = False) -> Estimator:
    """Reload a saved model from a run folder, executing no code stored in it.

    Keras files load with ``safe_mode=True`` and JSON models are plain numbers; a pickled model
    (``kind in PICKLED``) is refused with a ``UserError`` unless ``trust`` is True.
    """
    import importlib

    if kind not in LOADERS:
        raise UserError(
            f"{folder}: run.json names a model kind '{kind}' this version cannot load "
            f"(known: {', '.join(LOADERS)})"
        )
    if kind in PICKLED and not trust:
        raise UserError(
            f"{folder}: the {kind} model is stored as a pickle, and loading a pickle can run any code "
            "it contains. Pass --trust-run if you made this run folder or trust whoever did."
        )
    if kind not in _PLAIN:
        from seqexp.runtime.backend import tensorflow

        tensorflow()
    module, cls = LOADERS[kind].split(":")
    return getattr(importlib.import_module(module), cls).load(folder, trust=trust)
