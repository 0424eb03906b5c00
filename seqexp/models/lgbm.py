"""LightGBM: gradient-boosted trees on the table, or on per-customer sequence features.

Reads its input like the scikit-learn baselines (``seqexp.models.features``: tables as they are,
sequences as aggregates plus the last steps; a sequence beside its static vector as that vector
plus the last steps). Fitted with ``lightgbm.train``: early stopping on the validation split, the
balancer's class weights as row weights (resampled rows arrive as rows), binary or multi-class,
seeded and deterministic (``deterministic``, ``force_row_wise``, a fixed thread count). The
history has one row per boosting round (train and validation loss, ROC-AUC and PR-AUC), so
``history.csv`` and its figure show where the validation metric stopped improving.

Saved in LightGBM's own text format (``model_lightgbm.txt``, the trees up to the best round) beside
a JSON of the feature settings, and reloaded with ``lightgbm.Booster(model_file=...)``: no pickle,
so evaluating and scoring a LightGBM run never needs ``--trust-run``. ``import lightgbm`` happens
inside the functions: ``seqexp --help``, ``validate`` and ``list`` never import it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from seqexp.config.section import Section
from seqexp.config.sections import TrainConfig
from seqexp.data.inputs import ModelInput
from seqexp.errors import UserError
from seqexp.models.base import Estimator, FitData, InputSpec
from seqexp.models.features import table_features
from seqexp.registry import MODELS
from seqexp.runfolder import files

# The saved model's files (to move into seqexp.runfolder.files beside the other model files).

# Our metric names -> LightGBM's, for a binary target (a multi-class one has multi_logloss only).
BINARY_METRICS = {"loss": "binary_logloss", "auc": "auc", "pr_auc": "average_precision"}


class LightGBMConfig(Section):
    """LightGBM gradient-boosted trees on the table, or on per-customer sequence features; saved
    as text, no pickle."""

    name: Literal["lightgbm"] = "lightgbm"
    num_leaves: int = Field(31, ge=2, le=131_072, description="Most leaves per tree.")
    learning_rate: float = Field(0.05, gt=0, le=1, description="Shrinkage of each tree.")
    n_estimators: int = Field(
        1000, ge=1, le=100_000,
        description="Most boosting rounds (LightGBM's num_boost_round); early stopping usually ends sooner.",
    )  # fmt: skip
    early_stopping_rounds: int | None = Field(
        50, ge=1, le=100_000,
        description="Stop when the validation metric has not improved for this many rounds and keep "
        "the best round; null: grow all n_estimators rounds.",
    )  # fmt: skip
    metric: Literal["loss", "auc", "pr_auc"] = Field(
        "loss",
        description="Validation metric early stopping watches: loss (log loss), auc (ROC-AUC) or "
        "pr_auc (average precision); auc and pr_auc are for binary targets.",
    )
    max_depth: int = Field(-1, ge=-1, le=1000, description="Tree depth limit; -1: none (num_leaves limits).")
    min_child_samples: int = Field(20, ge=1, description="Fewest rows in a leaf.")
    min_child_weight: float = Field(1e-3, ge=0, description="Smallest sum of hessians in a leaf.")
    feature_fraction: float = Field(
        1.0, gt=0, le=1, description="Fraction of the features each tree may use (seeded)."
    )
    bagging_fraction: float = Field(
        1.0, gt=0, le=1, description="Fraction of the rows each bagging round uses (seeded); 1: all."
    )
    bagging_freq: int = Field(
        0, ge=0, le=100_000, description="Re-draw the bagged rows every k rounds; 0: no bagging."
    )
    lambda_l1: float = Field(0.0, ge=0, description="L1 penalty on leaf values.")
    lambda_l2: float = Field(0.0, ge=0, description="L2 penalty on leaf values.")
    scale_pos_weight: float = Field(
        1.0, gt=0,
        description="Extra weight of the positive class (binary only); 1: none, since balancing is "
        "the balancer's job (balance: {name: class_weight}).",
    )  # fmt: skip
    num_threads: int = Field(
        1, ge=1, le=256, description="Threads LightGBM uses; fixed so that a run is reproducible."
    )
    last_steps: int = Field(
        3, ge=0, le=10_000,
        description="Sequences only: how many latest steps are passed flattened beside the aggregates.",
    )  # fmt: skip


def lightgbm_params(cfg: LightGBMConfig, n_classes: int, seed: int) -> dict[str, Any]:
    """LightGBM's parameters for this config: the objective, the metrics (the watched one first),
    and every setting that makes two runs with one seed give the same trees."""
    multiclass = n_classes > 2
    if multiclass and cfg.metric != "loss":
        raise UserError(
            f"model.metric: {cfg.metric} is for binary targets; this target has {n_classes} classes "
            "(use metric: loss)"
        )
    if multiclass and cfg.scale_pos_weight != 1.0:
        raise UserError("model.scale_pos_weight: applies to binary targets only (leave it at 1)")
    if multiclass:
        objective: dict[str, Any] = {"objective": "multiclass", "num_class": n_classes}
        metrics = ["multi_logloss"]
    else:
        objective = {"objective": "binary", "scale_pos_weight": cfg.scale_pos_weight}
        watched = BINARY_METRICS[cfg.metric]
        metrics = [watched, *(m for m in BINARY_METRICS.values() if m != watched)]
    return {
        **objective,
        "metric": metrics,
        "num_leaves": cfg.num_leaves,
        "learning_rate": cfg.learning_rate,
        "max_depth": cfg.max_depth,
        "min_child_samples": cfg.min_child_samples,
        "min_child_weight": cfg.min_child_weight,
        "feature_fraction": cfg.feature_fraction,
        "bagging_fraction": cfg.bagging_fraction,
        "bagging_freq": cfg.bagging_freq,
        "lambda_l1": cfg.lambda_l1,
        "lambda_l2": cfg.lambda_l2,
        "seed": seed,  # LightGBM derives its bagging, feature and data seeds from it
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": cfg.num_threads,
        "verbosity": -1,
    }


# LightGBM's metric names -> the history's (Keras' spelling, so figures and monitors read them).
_HISTORY_NAMES = {
    "binary_logloss": "loss",
    "multi_logloss": "loss",
    "auc": "auc",
    "average_precision": "pr_auc",
}


def history_rows(evals: dict[str, dict[str, list[float]]]) -> list[dict[str, Any]]:
    """``lightgbm.record_evaluation``'s record -> one row per boosting round (``epoch`` = round)."""
    columns: dict[str, list[float]] = {}
    for part, prefix in (("train", ""), ("val", "val_")):
        for metric, values in evals.get(part, {}).items():
            columns[prefix + _HISTORY_NAMES.get(metric, metric)] = values
    rounds = max((len(v) for v in columns.values()), default=0)
    return [
        {"epoch": i + 1, **{name: float(values[i]) for name, values in columns.items()}}
        for i in range(rounds)
    ]


class LightGBMEstimator(Estimator):
    """A LightGBM booster behind the Estimator face; saved as LightGBM text plus a JSON."""

    kind = "lightgbm"

    def __init__(
        self,
        params: dict[str, Any],
        *,
        rounds: int,
        early_stopping_rounds: int | None,
        last_steps: int,
        masked: bool,
        n_classes: int = 2,
    ):
        self.params = params
        self.rounds = rounds
        self.early_stopping_rounds = early_stopping_rounds
        self.last_steps = last_steps
        self.masked = masked
        self.n_classes = n_classes
        self.booster: Any = None
        self.best_iteration: int | None = None  # None: use every tree the booster holds

    def features(self, X: ModelInput) -> np.ndarray:
        return table_features(X, last_steps=self.last_steps, masked=self.masked)

    def fit(
        self, train: FitData, val: FitData, *, train_cfg: TrainConfig, callbacks: list[Any]
    ) -> list[dict]:
        import lightgbm as lgb

        weight = None
        if train.class_weight:
            table = np.ones(max(self.n_classes, 2, int(train.y.max()) + 1))
            for label, w in train.class_weight.items():
                table[int(label)] = w
            weight = table[train.y.astype(int)]
        train_set = lgb.Dataset(self.features(train.X), label=train.y, weight=weight, free_raw_data=True)
        val_set = lgb.Dataset(self.features(val.X), label=val.y, reference=train_set)
        evals: dict[str, Any] = {}
        steps = [lgb.record_evaluation(evals)]
        if self.early_stopping_rounds is not None:
            stop = lgb.early_stopping(self.early_stopping_rounds, first_metric_only=True, verbose=False)
            steps.append(stop)
        self.booster = lgb.train(
            self.params,
            train_set,
            num_boost_round=self.rounds,
            valid_sets=[train_set, val_set],
            valid_names=["train", "val"],
            callbacks=steps,
        )
        best = int(self.booster.best_iteration or 0)
        self.best_iteration = best if best > 0 else None
        return history_rows(evals)

    @property
    def trees(self) -> int:
        """Boosting rounds the model uses (the best round when early stopping kept one)."""
        assert self.booster is not None, "fit or load the model first"
        return self.best_iteration or int(self.booster.current_iteration())

    def predict(self, X: ModelInput, threads: int | None = None) -> np.ndarray:
        assert self.booster is not None, "fit or load the model first"
        options = {"num_threads": threads} if threads else {}
        proba = np.asarray(self.booster.predict(self.features(X), num_iteration=self.trees, **options))
        if self.n_classes > 2:
            return proba.reshape(len(X), self.n_classes)
        return proba.reshape(-1)

    def batch_scorer(self, threads: int | None = None) -> Callable[[ModelInput], np.ndarray]:
        """``predict`` on at most ``threads`` threads (the same scores on any number: one thread keeps
        a busy machine's small requests free of OpenMP's waits, 8 ms at p99 for one row)."""
        return lambda X: self.predict(X, threads)

    def save(self, folder: Path) -> Path:
        from seqexp.runfolder.atomic import write_json, write_text

        assert self.booster is not None, "save a fitted model"
        path = folder / files.LIGHTGBM_MODEL
        write_text(path, self.booster.model_to_string(num_iteration=self.trees))
        state = {
            "format": "lightgbm text",
            "last_steps": self.last_steps,
            "masked": self.masked,
            "n_classes": self.n_classes,
            "trees": self.trees,
            "features": int(self.booster.num_feature()),
            "params": self.params,
        }
        write_json(folder / files.LIGHTGBM_STATE, state)
        return path

    @classmethod
    def load(cls, folder: Path, *, trust: bool = False) -> LightGBMEstimator:
        """Read the text model and its settings; no pickle, so ``trust`` is not needed."""
        import lightgbm as lgb

        state = json.loads((folder / files.LIGHTGBM_STATE).read_text())
        estimator = cls(
            state.get("params", {}),
            rounds=int(state["trees"]),
            early_stopping_rounds=None,
            last_steps=int(state["last_steps"]),
            masked=bool(state["masked"]),
            n_classes=int(state.get("n_classes", 2)),
        )
        estimator.booster = lgb.Booster(model_file=str(folder / files.LIGHTGBM_MODEL))
        estimator.best_iteration = int(state["trees"])
        return estimator


@MODELS.register(
    LightGBMConfig, tags=("lightgbm", "sequence", "table"), kind="lightgbm",
    loader="seqexp.models.lgbm:LightGBMEstimator", pickled=False, tensorflow=False,
)  # fmt: skip
def build_lightgbm(cfg: LightGBMConfig, train_cfg: TrainConfig, spec: InputSpec, *, seed: int) -> Estimator:
    """LightGBM from its config (``train`` settings are Keras' and do not apply)."""
    return LightGBMEstimator(
        lightgbm_params(cfg, spec.n_classes, seed),
        rounds=cfg.n_estimators,
        early_stopping_rounds=cfg.early_stopping_rounds,
        last_steps=cfg.last_steps,
        masked=spec.masked,
        n_classes=spec.n_classes,
    )
