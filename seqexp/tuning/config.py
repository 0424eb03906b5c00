"""The ``tune`` section of a config: which keras-tuner tuner, what to optimise, and the search space.

Only pydantic here, so ``seqexp validate`` checks a tune config without importing TensorFlow.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from seqexp.config.section import Section

OBJECTIVES = ("val_pr_auc", "val_loss", "val_auc", "val_f1", "val_mcc")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


class Objective(Section):
    """The validation metric the search optimises."""

    metric: Literal["val_pr_auc", "val_loss", "val_auc", "val_f1", "val_mcc"] = Field(
        "val_pr_auc",
        description="Validation metric; val_f1 / val_mcc are taken at the validation threshold that "
        "maximises each (see docs/tune.md).",
    )
    direction: Literal["max", "min"] | None = Field(
        None, description="max or min; null: min for val_loss, max for the others."
    )

    @model_validator(mode="after")
    def _direction_fits(self) -> Objective:
        natural = "min" if self.metric == "val_loss" else "max"
        if self.direction is not None and self.direction != natural:
            raise ValueError(
                f"{self.metric} is better when {'lower' if natural == 'min' else 'higher'}; "
                f"use direction: {natural} (or leave it out)"
            )
        return self

    @property
    def best(self) -> str:
        return self.direction or ("min" if self.metric == "val_loss" else "max")


class Distribution(Section):
    """One searched value: ``{int: [lo, hi], step?, log?}``, ``{float: [lo, hi], step?, log?}`` or
    ``{choice: [...]}``."""

    int_range: tuple[int, int] | None = Field(None, alias="int", description="Integer range, inclusive.")
    float_range: tuple[float, float] | None = Field(None, alias="float", description="Float range.")
    choice: list[Any] | None = Field(None, min_length=1, description="Values to choose from.")
    step: float | None = Field(None, gt=0, description="Grid step within the range.")
    log: bool = Field(False, description="Sample the range on a log scale (lo must be > 0).")

    @model_validator(mode="after")
    def _one_kind(self) -> Distribution:
        kinds = [k for k, v in (("int", self.int_range), ("float", self.float_range), ("choice", self.choice))
                 if v is not None]  # fmt: skip
        if len(kinds) != 1:
            raise ValueError("give exactly one of {int: [lo, hi]}, {float: [lo, hi]} or {choice: [...]}")
        if self.choice is not None:
            if self.step is not None or self.log:
                raise ValueError("step and log apply to int and float ranges, not to choice")
            return self
        lo, hi = self.int_range or self.float_range  # type: ignore[misc]
        if not lo < hi:
            raise ValueError(f"the range needs lo < hi (got [{lo}, {hi}])")
        if self.log and lo <= 0:
            raise ValueError(f"log: true needs lo > 0 (got {lo})")
        if self.int_range is not None and self.step is not None and self.step != int(self.step):
            raise ValueError(f"an int range needs an integer step (got {self.step})")
        return self

    @property
    def kind(self) -> str:
        return "int" if self.int_range is not None else "float" if self.float_range is not None else "choice"

    def candidates(self) -> list[Any]:
        """Values worth checking against the schema before searching: both ends, or every choice."""
        if self.choice is not None:
            return list(self.choice)
        return list(self.int_range or self.float_range)  # type: ignore[arg-type]


class TuneConfig(Section):
    """A keras-tuner search over any config fields (model, training, balancing)."""

    tuner: Literal["random", "hyperband", "bayesian"] = Field("random", description="keras-tuner tuner.")
    objective: Objective = Field(default_factory=Objective)
    max_trials: int | None = Field(
        None, ge=1, le=100_000,
        description="The most trials the search runs, for every tuner (hyperband stops when it is "
        "reached, even within its plan); null: 10 for random and bayesian, hyperband's whole plan.",
    )  # fmt: skip
    max_minutes: float | None = Field(
        None, gt=0, le=1_000_000,
        description="Time budget of each `seqexp tune` (or --resume) call: no trial starts after it "
        "(the running one finishes); null: none.",
    )  # fmt: skip
    max_epochs: int = Field(
        10, ge=1, le=100_000,
        description="Most epochs for one model (hyperband; with factor and hyperband_iterations it "
        "decides hyperband's plan of trials, see `seqexp validate`).",
    )  # fmt: skip
    factor: int = Field(3, ge=2, le=100, description="Hyperband's reduction factor.")
    hyperband_iterations: int = Field(1, ge=1, le=1000, description="Times to run the Hyperband algorithm.")
    executions_per_trial: int = Field(1, ge=1, le=100, description="Fits per trial (objective averaged).")
    top_k: int = Field(1, ge=0, le=100, description="Best trials retrained as ordinary run folders.")
    seed: int | None = Field(None, ge=0, description="Seed of the search; null uses the experiment seed.")
    trials_per_process: int = Field(
        10, ge=1, le=10_000,
        description="Trials run by one child process before a fresh one takes over (TensorFlow keeps "
        "memory from every model it trained; this bounds it).",
    )  # fmt: skip
    space: dict[str, Distribution] = Field(
        min_length=1, description="Dotted config path -> distribution, e.g. model.dropout: {float: [0, 0.5]}."
    )

    @field_validator("space", mode="before")
    @classmethod
    def _keys_are_paths(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key in value:
                if not isinstance(key, str) or not _PATH.match(key):
                    raise ValueError(f"{key!r} is not a dotted config path such as model.dropout")
        return value


def tune_of(cfg: Any) -> TuneConfig:
    """The config's tune section; a config without one cannot be searched."""
    if cfg.tune is None:
        from seqexp.errors import UserError

        raise UserError("the config has no 'tune' section: add tune: {space: {...}} (see docs/tune.md)")
    return cfg.tune
