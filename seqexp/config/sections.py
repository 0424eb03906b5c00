"""The fixed sections of an experiment: split, train, evaluate. Component sections (data, balance,
model) are validated by each component's own config class (seqexp/config/experiment.py).

This module imports no component, so a component may type its settings by these classes.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from seqexp.config.section import Section, moment, show


class SplitConfig(Section):
    """Which examples train, validate (early stopping, threshold, calibration) and test.

    holdout: a stratified random split of customers; kfold: a held-out test plus K folds of the rest;
    time (event snapshots): train on earlier cutoffs, validate on a later one, test on the latest, no
    label window reaching into the next part; ordered (tables): the first rows train, the next
    validate, the last test, in file order or by a column. docs/time.md says when each is right."""

    method: Literal["holdout", "kfold", "time", "ordered"] = Field(
        "holdout",
        description="holdout: one random train/val/test split; kfold: hold out test, a model per fold of the "
        "rest; time: by snapshot cutoff (data.snapshots); ordered: by row order or split.by (tables).",
    )

    train: float = Field(0.8, gt=0, lt=1, description="Fraction of customers used for training.")
    val: float = Field(0.1, gt=0, lt=1, description="Fraction used for early stopping and the threshold.")
    test: float = Field(0.1, gt=0, lt=1, description="Fraction held out for the reported metrics.")
    seed: int | None = Field(
        None,
        ge=0,
        description="Seed of the split; null uses the experiment seed (fix it to vary weights only).",
    )
    folds: int = Field(5, ge=2, le=100, description="kfold only: number of folds of the non-test rows.")
    stratified: bool = Field(True, description="kfold only: keep the class ratio in every fold.")
    fold: int | None = Field(
        None, ge=0, description="kfold only: train just this fold (0-based), as one ordinary run."
    )
    test_cutoff: dt.date | dt.datetime | None = Field(
        None, description="time only: the snapshot cutoff tested on; default: the latest."
    )
    val_cutoff: dt.date | dt.datetime | None = Field(
        None,
        description="time only: the cutoff validated on; default: the latest whose label window ends by "
        "the test cutoff. Training uses the cutoffs whose label window ends by it.",
    )
    customers: Literal["shared", "disjoint"] = Field(
        "shared",
        description="time only: shared: a customer may have examples in train and test (at different "
        "cutoffs), as when scoring next month's existing customers; disjoint: customers of the test "
        "(and validation) cutoff are left out of the earlier parts (new customers).",
    )
    by: str | None = Field(
        None,
        description="ordered only: the table column that orders rows (default: their order in the file).",
    )

    @model_validator(mode="after")
    def _sums_to_one(self) -> SplitConfig:
        changed = {"test_cutoff": self.test_cutoff is not None, "val_cutoff": self.val_cutoff is not None,
                   "customers": self.customers != "shared"}  # fmt: skip
        time_only = [k for k, set_here in changed.items() if set_here]
        if time_only and self.method != "time":
            raise ValueError(f"{time_only[0]} applies only with method: time")
        if self.by is not None and self.method != "ordered":
            raise ValueError("by applies only with method: ordered")
        if self.method == "time":
            if (
                self.val_cutoff is not None
                and self.test_cutoff is not None
                and (moment(self.val_cutoff) >= moment(self.test_cutoff))
            ):
                raise ValueError(f"val_cutoff {self.val_cutoff} is not before test_cutoff {self.test_cutoff}")
            return self  # the parts are cutoffs, not fractions
        if self.method == "kfold":  # train/val fractions are set by the folds; only `test` is used
            if self.fold is not None and self.fold >= self.folds:
                raise ValueError(f"fold {self.fold} does not exist with {self.folds} folds (0-based)")
            return self
        if self.fold is not None:
            raise ValueError("fold applies only with method: kfold")
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + val + test must sum to 1 (got {total:g})")
        return self


HIGHER_IS_BETTER = ("auc", "acc", "f1", "mcc", "precision", "recall")  # metric name parts


def monitor_mode(monitor: str | None, mode: str = "auto") -> Literal["min", "max"]:
    """Whether lower or higher values of ``monitor`` are better: ``mode`` when it says so, else from
    the name (rankings, accuracies, F1, MCC up; losses down). The one rule the early stopping, the
    best checkpoint, the history figure and compare's best epoch all use."""
    if mode in ("min", "max"):
        return "max" if mode == "max" else "min"
    return "max" if monitor and any(part in monitor for part in HIGHER_IS_BETTER) else "min"


class EarlyStoppingConfig(Section):
    """Stop when the monitored validation metric stops improving; keep the best weights."""

    monitor: Literal["val_loss", "val_pr_auc", "val_auc", "loss", "pr_auc", "auc"] = Field(
        "val_loss", description="Metric to watch (val_ metrics are measured on the validation split)."
    )
    mode: Literal["auto", "min", "max"] = Field("auto", description="Whether lower or higher is better.")
    patience: int = Field(5, ge=0, description="Epochs without improvement before stopping.")
    min_delta: float = Field(0.0, ge=0, description="Smallest change that counts as improvement.")
    restore_best_weights: bool = Field(True, description="Roll back to the best epoch's weights.")


class FocalConfig(Section):
    """Focal loss settings (keras.losses.BinaryFocalCrossentropy)."""

    gamma: float = Field(
        2.0, ge=0, le=10, description="Focusing power: how much easy rows are down-weighted."
    )
    alpha: float | None = Field(
        0.25, gt=0, lt=1, description="Weight of the positive class (1 - alpha for negatives); null: none."
    )


class ReduceLRConfig(Section):
    """Lower the learning rate when the monitored validation metric stalls."""

    monitor: Literal["val_loss", "val_pr_auc", "val_auc", "loss", "pr_auc", "auc"] = Field(
        "val_loss", description="Metric to watch."
    )
    mode: Literal["auto", "min", "max"] = Field("auto", description="Whether lower or higher is better.")
    factor: float = Field(0.5, gt=0, lt=1, description="Multiply the learning rate by this on a plateau.")
    patience: int = Field(2, ge=0, description="Epochs without improvement before lowering it.")
    min_lr: float = Field(1e-6, ge=0, description="Never go below this learning rate.")


class TrainConfig(Section):
    """How the model is fitted."""

    epochs: int = Field(30, ge=1, le=100_000, description="Maximum number of passes over the data.")
    batch_size: int = Field(256, ge=1, le=1_000_000, description="Rows per gradient step.")
    learning_rate: float = Field(1e-3, gt=0, le=10, description="Optimizer step size.")
    optimizer: Literal["adam", "adamw", "rmsprop", "sgd"] = Field("adam", description="Keras optimizer.")
    early_stopping: EarlyStoppingConfig | None = Field(
        default_factory=EarlyStoppingConfig, description="Early stopping on validation; null turns it off."
    )
    tensorboard: bool = Field(True, description="Write TensorBoard logs into the run folder.")
    loss: Literal["binary_crossentropy", "focal"] = Field(
        "binary_crossentropy", description="Classifier loss; focal down-weights easy, plentiful rows."
    )
    focal: FocalConfig = Field(default_factory=FocalConfig, description="Used when loss is focal.")
    reduce_lr: ReduceLRConfig | None = Field(
        None, description="ReduceLROnPlateau settings; null (default) keeps the learning rate fixed."
    )
    distribute: Literal["none", "mirrored"] = Field(
        "none",
        description="mirrored: tf.distribute.MirroredStrategy over all visible GPUs (one replica on CPU).",
    )


class MinRecall(Section):
    """Highest-precision threshold whose validation recall stays at or above this value."""

    min_recall: float = Field(gt=0, le=1)


class TopKPercent(Section):
    """Threshold that flags the top K percent of validation scores (a campaign budget)."""

    top_k_percent: float = Field(gt=0, lt=100)


ThresholdRule = float | Literal["max_f1", "max_mcc", "max_profit"] | MinRecall | TopKPercent


class CostsConfig(Section):
    """What each outcome of acting on a customer is worth (a cost is negative), per customer."""

    tp: float = Field(description="Value of reaching a responder (e.g. margin of a sale minus the call).")
    fp: float = Field(description="Value of contacting a non-responder (usually minus the contact cost).")
    fn: float = Field(0.0, description="Value of missing a responder (often 0: the sale is simply not made).")
    tn: float = Field(0.0, description="Value of leaving a non-responder alone (usually 0).")


def _parse_threshold(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(
            "must be a number, max_f1, max_mcc, max_profit, {min_recall: R} or {top_k_percent: P}"
        )
    if isinstance(value, int | float):
        if not -1e300 < value < 1e300 or not 0.0 < float(value) < 1.0:  # (10**400 overflows float)
            raise ValueError(f"a fixed threshold must lie strictly between 0 and 1 (got {show(value)})")
        return float(value)
    if isinstance(value, str) and value in ("max_f1", "max_mcc", "max_profit"):
        return value
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        if key == "min_recall":
            return MinRecall(**value)
        if key == "top_k_percent":
            return TopKPercent(**value)
    if isinstance(value, MinRecall | TopKPercent):
        return value
    raise ValueError(
        f"{show(value)} is not a threshold rule; use a number in (0, 1), max_f1, max_mcc, max_profit, "
        "{min_recall: 0.6} or {top_k_percent: 10}"
    )


class EvaluateConfig(Section):
    """How scores become decisions, and what the model is compared against."""

    threshold: Annotated[ThresholdRule, BeforeValidator(_parse_threshold)] = Field(
        0.5, description="Fixed number, or a rule applied on the VALIDATION split (never test)."
    )
    baseline: Literal["auto", "lightgbm", "logistic_regression", "gradient_boosting", "none"] = Field(
        "auto",
        description="Non-neural model trained on the same split and shown beside the main model; auto: "
        "lightgbm on tables and aggregates, logistic_regression beside sequence models (and lightgbm).",
    )
    calibration: Literal["none", "sigmoid", "isotonic", "prior"] = Field(
        "sigmoid",
        description="Map scores to probabilities, fitted on validation (prior: the exact correction of "
        "random resampling or class weights, nothing fitted). See docs/evaluate.md, Calibration.",
    )
    costs: CostsConfig | None = Field(
        None, description="Value of each outcome ({tp, fp, fn, tn}): profit figures and the max_profit rule."
    )
    bootstrap: int = Field(
        1000, ge=0, le=100_000, description="Bootstrap resamples for the test intervals (0: none)."
    )
    risk_bands: list[float] = Field(
        [0.3, 0.7],
        description="Cut points of the risk levels 'seqexp predict' gives, on calibrated probabilities "
        "(increasing); the top level never starts below the decision threshold unless risk_below_threshold.",
    )
    risk_below_threshold: bool = Field(
        False, description="Let the top risk level reach below the decision threshold (off: it starts there)."
    )
    risk_levels: list[str] = Field(
        ["low", "medium", "high"], description="Names of the risk levels: one more than risk_bands."
    )

    @model_validator(mode="after")
    def _bands_fit_levels(self) -> EvaluateConfig:
        check_risk_bands(self.risk_bands, self.risk_levels)
        if self.threshold == "max_profit" and self.costs is None:
            raise ValueError(
                "threshold max_profit needs evaluate.costs: {tp: ..., fp: ...} (values per customer)"
            )
        return self


def check_risk_bands(bands: list[float], levels: list[str]) -> None:
    """Cut points strictly increasing inside (0, 1), and one level name more than cut points."""
    if any(not 0.0 < b < 1.0 for b in bands) or any(a >= b for a, b in zip(bands, bands[1:], strict=False)):
        raise ValueError(f"risk_bands must increase strictly inside (0, 1) (got {bands})")
    if len(levels) != len(bands) + 1:
        raise ValueError(
            f"{len(bands)} risk_bands cut scores into {len(bands) + 1} levels, but risk_levels names "
            f"{len(levels)}"
        )
