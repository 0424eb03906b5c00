"""Non-neural baselines: the bar a neural model has to clear on the same split.

Both read tables as they are and sequences as per-customer features (``seqexp.models.features``);
beside a static vector (``output: sequence_and_aggregates``), that vector and the last steps.
Logistic regression saves as JSON; HistGradientBoosting can only be pickled, so it is saved with
joblib and reloads only with ``trust=True`` (a pickle runs code when it loads: trusted runs only).
LightGBM, the third baseline, lives in ``seqexp.models.lgbm`` (saved as text, no pickle) and is
registered by the import below, beside these two.
"""

from __future__ import annotations

import json
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

TAGS = ("sklearn", "sequence", "table")

LAST_STEPS_HELP = "Sequences only: how many latest steps are passed flattened beside the aggregates."


class LogisticRegressionConfig(Section):
    """Logistic regression on the table, or on per-customer aggregates plus the last sequence steps."""

    name: Literal["logistic_regression"] = "logistic_regression"
    C: float = Field(1.0, gt=0, description="Inverse regularisation strength.")
    max_iter: int = Field(1000, ge=10, description="Solver iterations.")
    last_steps: int = Field(3, ge=0, le=10_000, description=LAST_STEPS_HELP)


class GradientBoostingConfig(Section):
    """scikit-learn HistGradientBoostingClassifier on the table or on per-customer sequence features."""

    name: Literal["gradient_boosting"] = "gradient_boosting"
    learning_rate: float = Field(0.1, gt=0, le=1, description="Shrinkage of each tree.")
    max_iter: int = Field(200, ge=1, le=100_000, description="Most boosting rounds.")
    max_leaf_nodes: int = Field(31, ge=2, le=4096, description="Leaves per tree.")
    max_depth: int | None = Field(None, ge=1, description="Tree depth limit; null: none.")
    min_samples_leaf: int = Field(20, ge=1, description="Fewest rows in a leaf.")
    l2_regularization: float = Field(0.0, ge=0, description="L2 penalty on leaf values.")
    early_stopping: bool = Field(
        True, description="Stop when 10% of the training rows, held out inside the fit, stop improving."
    )
    last_steps: int = Field(3, ge=0, le=10_000, description=LAST_STEPS_HELP)


class _FeatureEstimator(Estimator):
    """Shared fit/predict for scikit-learn classifiers on ``table_features``."""

    def __init__(self, model: Any, *, last_steps: int, masked: bool, n_classes: int = 2):
        self.model = model
        self.last_steps = last_steps
        self.masked = masked
        self.n_classes = n_classes

    @property
    def _saved_features(self) -> dict[str, Any]:
        """Feature settings stored beside the model (``n_classes`` only for multi-class models)."""
        extra = {"n_classes": self.n_classes} if self.n_classes > 2 else {}
        return {"last_steps": self.last_steps, "masked": self.masked, **extra}

    def _from_proba(self, proba: np.ndarray) -> np.ndarray:
        """``predict_proba`` -> the positive-class column (binary) or one column per class, in class
        order (a class absent from the training rows gets probability 0)."""
        if self.n_classes <= 2:
            return proba[:, 1]
        out = np.zeros((len(proba), self.n_classes))
        out[:, self.model.classes_.astype(int)] = proba
        return out

    def features(self, X: ModelInput) -> np.ndarray:
        return table_features(X, last_steps=self.last_steps, masked=self.masked)

    def _fit(self, F: np.ndarray, y: np.ndarray) -> None:
        self.model.fit(F, y)

    def fit(
        self, train: FitData, val: FitData, *, train_cfg: TrainConfig, callbacks: list[Any]
    ) -> list[dict]:
        from sklearn.metrics import log_loss

        self.model.set_params(class_weight=train.class_weight)
        self._fit(self.features(train.X), train.y)
        labels = list(range(max(self.n_classes, 2)))
        return [
            {
                "epoch": 1,
                "loss": float(log_loss(train.y, self.predict(train.X), labels=labels)),
                "val_loss": float(log_loss(val.y, self.predict(val.X), labels=labels)),
            }
        ]

    def _scores(self, F: np.ndarray) -> np.ndarray:
        return self._from_proba(self.model.predict_proba(F))

    def predict(self, X: ModelInput) -> np.ndarray:
        return self._scores(self.features(X))


class LogisticEstimator(_FeatureEstimator):
    """scikit-learn's LogisticRegression on standardized features, saved as JSON (no pickle)."""

    kind = "logistic_regression"

    def __init__(self, model: Any, *, last_steps: int = 3, masked: bool = True, n_classes: int = 2):
        super().__init__(model, last_steps=last_steps, masked=masked, n_classes=n_classes)
        self.center: np.ndarray | None = None
        self.spread: np.ndarray | None = None

    def _fit(self, F: np.ndarray, y: np.ndarray) -> None:
        # Aggregates (step counts, spreads) are on other scales than the scaled inputs.
        self.center = F.mean(axis=0)
        spread = F.std(axis=0)
        self.spread = np.where(spread > 1e-12, spread, 1.0)
        self.model.fit((F - self.center) / self.spread, y)

    def _scores(self, F: np.ndarray) -> np.ndarray:
        return self._from_proba(self.model.predict_proba((F - self.center) / self.spread))

    def save(self, folder: Path) -> Path:
        from seqexp.runfolder.atomic import write_text

        assert self.center is not None and self.spread is not None, "save a fitted model"
        state = {
            "params": self.model.get_params(),
            "coef": self.model.coef_.tolist(),
            "intercept": self.model.intercept_.tolist(),
            "classes": self.model.classes_.tolist(),
            "features": self._saved_features,
            "center": self.center.tolist(),
            "spread": self.spread.tolist(),
        }
        path = folder / files.LOGISTIC_MODEL
        write_text(path, json.dumps(state))
        return path

    @classmethod
    def load(cls, folder: Path, *, trust: bool = False) -> LogisticEstimator:
        from sklearn.linear_model import LogisticRegression

        state = json.loads((folder / files.LOGISTIC_MODEL).read_text())
        params = dict(state["params"])
        if isinstance(params.get("class_weight"), dict):  # JSON turned the class keys into strings
            params["class_weight"] = {int(k): v for k, v in params["class_weight"].items()}
        model = LogisticRegression(**params)
        model.coef_ = np.asarray(state["coef"])
        model.intercept_ = np.asarray(state["intercept"])
        model.classes_ = np.asarray(state["classes"])
        estimator = cls(model, **state["features"])
        estimator.center, estimator.spread = np.asarray(state["center"]), np.asarray(state["spread"])
        return estimator


class GradientBoostingEstimator(_FeatureEstimator):
    """HistGradientBoostingClassifier; saved with joblib (pickle): reload trusted files only."""

    kind = "gradient_boosting"

    def save(self, folder: Path) -> Path:
        import joblib

        from seqexp.runfolder.atomic import write_text

        path = folder / files.GBM_MODEL
        tmp = folder / f".{files.GBM_MODEL}.tmp"
        joblib.dump(self.model, tmp)
        tmp.replace(path)
        state = {**self._saved_features, "format": "joblib (pickle)"}
        write_text(folder / files.GBM_STATE, json.dumps(state))
        return path

    @classmethod
    def load(cls, folder: Path, *, trust: bool = False) -> GradientBoostingEstimator:
        """Unpickle the model: only with ``trust=True``, since unpickling can run any code."""
        if not trust:
            raise UserError(
                f"{folder / files.GBM_MODEL}: a gradient_boosting model is a pickle, which can run code when "
                "loaded; load it only from a run you trust (trust=True; the CLI will ask for --trust-run)"
            )
        import joblib

        state = json.loads((folder / files.GBM_STATE).read_text())
        return cls(
            joblib.load(folder / files.GBM_MODEL),
            last_steps=state["last_steps"],
            masked=state["masked"],
            n_classes=state.get("n_classes", 2),
        )


@MODELS.register(
    LogisticRegressionConfig, tags=TAGS, kind="logistic_regression",
    loader="seqexp.models.baselines:LogisticEstimator", pickled=False, tensorflow=False,
)  # fmt: skip
def build_logistic_regression(
    cfg: LogisticRegressionConfig, train_cfg: TrainConfig, spec: InputSpec, *, seed: int
) -> Estimator:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=cfg.C, max_iter=cfg.max_iter, random_state=seed)
    return LogisticEstimator(model, last_steps=cfg.last_steps, masked=spec.masked, n_classes=spec.n_classes)


# Its file is a joblib pickle (scikit-learn has no plain format for it): loads only with --trust-run.
@MODELS.register(
    GradientBoostingConfig, tags=TAGS, kind="gradient_boosting",
    loader="seqexp.models.baselines:GradientBoostingEstimator", pickled=True, tensorflow=False,
)  # fmt: skip
def build_gradient_boosting(
    cfg: GradientBoostingConfig, train_cfg: TrainConfig, spec: InputSpec, *, seed: int
) -> Estimator:
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        learning_rate=cfg.learning_rate,
        max_iter=cfg.max_iter,
        max_leaf_nodes=cfg.max_leaf_nodes,
        max_depth=cfg.max_depth,
        min_samples_leaf=cfg.min_samples_leaf,
        l2_regularization=cfg.l2_regularization,
        early_stopping=cfg.early_stopping,
        random_state=seed,
    )
    return GradientBoostingEstimator(
        model, last_steps=cfg.last_steps, masked=spec.masked, n_classes=spec.n_classes
    )
