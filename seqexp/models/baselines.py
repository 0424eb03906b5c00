"""Non-neural baselines: the bar a neural model has to clear on the same split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from seqexp.models.base import Estimator, FitData, InputSpec
from seqexp.registry import MODELS
from seqexp.schema import Section

LOGISTIC_FILE = "model_logistic.json"


class LogisticRegressionConfig(Section):
    """Logistic regression on the table, or on the flattened sequence steps."""

    name: Literal["logistic_regression"] = "logistic_regression"
    C: float = Field(1.0, gt=0, description="Inverse regularisation strength.")
    max_iter: int = Field(1000, ge=10, description="Solver iterations.")


def flatten(X: np.ndarray) -> np.ndarray:
    """Sequences become one row of step x feature columns (padding is already zero)."""
    return X.reshape(len(X), -1)


class LogisticEstimator(Estimator):
    """scikit-learn's LogisticRegression, saved as JSON coefficients (no pickle)."""

    kind = "logistic_regression"

    def __init__(self, model: Any):
        self.model = model

    def fit(self, train: FitData, val: FitData, *, train_cfg: Any, callbacks: list[Any]) -> list[dict]:
        from sklearn.metrics import log_loss

        self.model.set_params(class_weight=train.class_weight)
        self.model.fit(flatten(train.X), train.y)
        return [
            {
                "epoch": 1,
                "loss": float(log_loss(train.y, self.predict(train.X), labels=[0, 1])),
                "val_loss": float(log_loss(val.y, self.predict(val.X), labels=[0, 1])),
            }
        ]

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(flatten(X))[:, 1]

    def save(self, folder: Path) -> Path:
        from seqexp.runs import write_text

        state = {
            "params": self.model.get_params(),
            "coef": self.model.coef_.tolist(),
            "intercept": self.model.intercept_.tolist(),
            "classes": self.model.classes_.tolist(),
        }
        path = folder / LOGISTIC_FILE
        write_text(path, json.dumps(state))
        return path

    @classmethod
    def load(cls, folder: Path) -> LogisticEstimator:
        from sklearn.linear_model import LogisticRegression

        state = json.loads((folder / LOGISTIC_FILE).read_text())
        model = LogisticRegression(**state["params"])
        model.coef_ = np.asarray(state["coef"])
        model.intercept_ = np.asarray(state["intercept"])
        model.classes_ = np.asarray(state["classes"])
        return cls(model)


@MODELS.register(LogisticRegressionConfig, tags=("sklearn",))
def build_logistic_regression(cfg: LogisticRegressionConfig, spec: InputSpec, *, seed: int) -> Estimator:
    from sklearn.linear_model import LogisticRegression

    return LogisticEstimator(LogisticRegression(C=cfg.C, max_iter=cfg.max_iter, random_state=seed))
