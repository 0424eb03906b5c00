"""The whole experiment: every section, with the component sections (``data``, ``balance``,
``model``) as discriminated unions over their registries, keyed by ``name``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, Union, cast

from pydantic import Field, model_validator

from seqexp import components  # noqa: F401  (fills the registries)
from seqexp.config.section import Component, Section
from seqexp.config.sections import EvaluateConfig, SplitConfig, TrainConfig
from seqexp.registry import BALANCERS, DATA_SOURCES, MODELS, Registry
from seqexp.tuning.config import TuneConfig


def _component_union(registry: Registry) -> Any:
    classes = tuple(entry.config_class for entry in registry)
    if len(classes) == 1:
        return classes[0]
    return Annotated[Union[classes], Field(discriminator="name")]  # noqa: UP007


if TYPE_CHECKING:  # the unions are built at run time from the registries; statically, a component
    DataConfig: TypeAlias = Component
    BalanceConfig: TypeAlias = Component
    ModelConfig: TypeAlias = Component
else:
    DataConfig = _component_union(DATA_SOURCES)
    BalanceConfig = _component_union(BALANCERS)
    ModelConfig = _component_union(MODELS)

# Sections that pick a component by ``name``, and where their config classes come from.
COMPONENT_SECTIONS: dict[str, Registry] = {"data": DATA_SOURCES, "balance": BALANCERS, "model": MODELS}


def _default(registry: Registry, name: str) -> Component:
    """A component's default config (every component config class has a ``name``)."""
    return cast(Component, registry.get(name).config_class())


class ExperimentConfig(Section):
    """One declared experiment."""

    name: str = Field("experiment", min_length=1, max_length=120, description="Run name (folder suffix).")
    seed: int = Field(42, ge=0, le=2**32 - 1, description="Seeds data generation, splits and weights.")
    repeats: int = Field(
        1, ge=1, le=1000, description="Train seeds seed, seed+1... on one split; report mean +- std."
    )
    data: DataConfig = Field(default_factory=lambda: _default(DATA_SOURCES, "synthetic_transactions"))
    split: SplitConfig = Field(default_factory=SplitConfig)
    balance: BalanceConfig = Field(default_factory=lambda: _default(BALANCERS, "none"))
    model: ModelConfig = Field(default_factory=lambda: _default(MODELS, "lstm"))
    train: TrainConfig = Field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    tracking: Literal["none", "mlflow"] = Field(
        "none",
        description="mlflow: also log params, metrics and the run folder to MLflow (the mlflow extra).",
    )
    tune: TuneConfig | None = Field(
        None, description="Hyperparameter search for `seqexp tune` (docs/tune.md)."
    )

    @model_validator(mode="after")
    def _split_fits_the_data(self) -> ExperimentConfig:
        """A split the data can hold, refused before any run folder exists (docs/time.md)."""
        snapshots = getattr(self.data, "snapshots", None) is not None
        method = self.split.method
        if snapshots and method in ("holdout", "kfold"):
            raise ValueError(
                f"split.method: {method} would put one customer's examples at different snapshot cutoffs "
                "in different parts at random; use split: {method: time} (or seqexp backtest), or one "
                "data.labels.cutoff without data.snapshots for a random split of customers"
            )
        if method == "time" and not snapshots:
            raise ValueError(
                "split.method: time needs examples at several cutoffs: set data.snapshots (event logs); "
                "for a table in time order use split.method: ordered"
            )
        if method == "ordered" and self.data.name != "table":
            raise ValueError(
                f"split.method: ordered applies to tables (rows in time order), not {self.data.name} data; "
                "for an event log use data.snapshots with split.method: time"
            )
        return self
