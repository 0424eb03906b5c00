"""Registering a Keras architecture as a model: one decorator gives it the models registry's contract.

An architecture is ``(model_cfg, spec) -> keras.Model`` (uncompiled); ``keras_architecture`` wraps it
into a builder that seeds, builds under the configured distribution strategy, compiles with the
training settings and returns a ``KerasEstimator``, and records how its saved file is reloaded.
The tuner builds trial models through the same path (``seqexp.models.build_keras_model``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from seqexp.config.section import Component
from seqexp.config.sections import TrainConfig
from seqexp.models.base import Estimator, InputSpec
from seqexp.registry import MODELS

Architecture = Callable[[Any, InputSpec], Any]

LOADER = "seqexp.models.keras_estimator:KerasEstimator"


def compiled(
    architecture: Architecture, model_cfg: Component, train_cfg: TrainConfig, spec: InputSpec
) -> Any:
    """The architecture built and compiled under ``train.distribute``'s strategy."""
    from seqexp.models.keras_estimator import compile_model
    from seqexp.runtime.distribute import scope

    with scope(train_cfg):  # variables created and compiled under the strategy
        return compile_model(architecture(model_cfg, spec), train_cfg)


def keras_architecture(
    config_class: type[BaseModel], *, tags: tuple[str, ...]
) -> Callable[[Architecture], Architecture]:
    """Decorator: register ``architecture`` in ``MODELS`` as a Keras model (tag ``keras``)."""

    def decorate(architecture: Architecture) -> Architecture:
        def build(model_cfg: Component, train_cfg: TrainConfig, spec: InputSpec, *, seed: int) -> Estimator:
            from seqexp.models.keras_estimator import KerasEstimator
            from seqexp.runtime.seeding import seed_everything

            seed_everything(seed)
            return KerasEstimator(compiled(architecture, model_cfg, train_cfg, spec))

        build.__doc__ = architecture.__doc__
        MODELS.register(
            config_class, tags=("keras", "epochs", *tags), kind="keras", loader=LOADER, pickled=False,
            tensorflow=True,
            architecture=architecture,
        )(build)  # fmt: skip
        return architecture

    return decorate
