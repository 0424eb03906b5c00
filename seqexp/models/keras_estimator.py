"""Keras models behind the ``Estimator`` face: compile, fit on arrays, save, safe reload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqexp.models.base import Estimator, FitData

MODEL_FILE = "model.keras"


def compile_model(model: Any, train_cfg: Any) -> Any:
    """Attach optimizer, loss and the ranking metrics that matter on imbalanced data."""
    import keras

    optimizers = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "rmsprop": keras.optimizers.RMSprop,
        "sgd": keras.optimizers.SGD,
    }
    model.compile(
        optimizer=optimizers[train_cfg.optimizer](learning_rate=train_cfg.learning_rate),
        loss="binary_crossentropy",
        metrics=[
            keras.metrics.AUC(curve="PR", name="pr_auc"),
            keras.metrics.AUC(curve="ROC", name="auc"),
        ],
    )
    return model


class KerasEstimator(Estimator):
    kind = "keras"

    def __init__(self, model: Any):
        self.model = model

    def fit(self, train: FitData, val: FitData, *, train_cfg: Any, callbacks: list[Any]) -> list[dict]:
        history = self.model.fit(
            train.X,
            train.y.astype(np.float32),
            validation_data=(val.X, val.y.astype(np.float32)),
            epochs=train_cfg.epochs,
            batch_size=train_cfg.batch_size,
            class_weight=train.class_weight,
            callbacks=callbacks,
            shuffle=True,
            verbose=0,
        )
        keys = list(history.history)
        epochs = len(history.history[keys[0]]) if keys else 0
        return [{"epoch": i + 1, **{k: float(history.history[k][i]) for k in keys}} for i in range(epochs)]

    def predict(self, X: np.ndarray) -> np.ndarray:
        scores = self.model.predict(X, batch_size=4096, verbose=0)
        return np.asarray(scores, dtype=np.float64).reshape(len(X), -1)[:, -1]

    def save(self, folder: Path) -> Path:
        from seqexp.runs import atomic_path

        path = folder / MODEL_FILE
        with atomic_path(path) as tmp:
            self.model.save(tmp)
        return path

    @classmethod
    def load(cls, folder: Path) -> KerasEstimator:
        import keras

        from seqexp.errors import UserError

        path = folder / MODEL_FILE
        if not path.is_file():
            raise UserError(f"{folder}: no {MODEL_FILE} in this run folder")
        # safe_mode refuses Lambda layers and arbitrary code stored in the file.
        try:
            return cls(keras.models.load_model(path, compile=False, safe_mode=True))
        except (ValueError, TypeError) as exc:
            if "safe_mode" in str(exc) or "Lambda" in str(exc):
                raise UserError(
                    f"{path}: refused: the model contains code (a Lambda layer or an unregistered custom "
                    "object), and loading it would run that code. seqexp loads only its own layers."
                ) from None
            raise UserError(
                f"{path}: not a Keras model seqexp can load ({str(exc).splitlines()[0]})"
            ) from None
