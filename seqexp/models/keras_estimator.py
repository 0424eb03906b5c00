"""Keras models behind the ``Estimator`` face: compile, fit on arrays, save, safe reload.

A model built for a static vector beside the sequence has two inputs, ``[events, static]``, and is
fed a ``SequenceAndStatic`` (``seqexp.data.inputs``) as the list of its two arrays."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.config.sections import TrainConfig
from seqexp.data.inputs import ModelInput, SequenceAndStatic
from seqexp.models.base import Estimator, FitData
from seqexp.runfolder import files


def make_optimizer(train_cfg: TrainConfig) -> Any:
    import keras

    optimizers = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "rmsprop": keras.optimizers.RMSprop,
        "sgd": keras.optimizers.SGD,
    }
    return optimizers[train_cfg.optimizer](learning_rate=train_cfg.learning_rate)


def make_loss(train_cfg: TrainConfig, n_classes: int = 2) -> Any:
    """Binary cross-entropy, or focal loss (down-weights easy rows; alpha weighs the positives).

    A multi-class target (softmax over ``n_classes``, integer labels) trains with sparse categorical
    cross-entropy; focal loss is refused there (its alpha weighs "the positive class").
    """
    import keras

    if n_classes > 2:
        if getattr(train_cfg, "loss", "binary_crossentropy") == "focal":
            from seqexp.errors import UserError

            raise UserError(
                f"train.loss: focal is for binary targets; this target has {n_classes} classes and "
                "trains with sparse categorical cross-entropy. Remove train.loss (or set it to "
                "binary_crossentropy, which means cross-entropy) and use balance: {name: class_weight} "
                "to weigh rare classes"
            )
        return "sparse_categorical_crossentropy"
    if getattr(train_cfg, "loss", "binary_crossentropy") == "focal":
        focal = train_cfg.focal
        return keras.losses.BinaryFocalCrossentropy(
            apply_class_balancing=focal.alpha is not None,
            alpha=focal.alpha if focal.alpha is not None else 0.25,
            gamma=focal.gamma,
        )
    return "binary_crossentropy"


def compile_model(model: Any, train_cfg: TrainConfig) -> Any:
    """Attach optimizer, loss and the ranking metrics that matter on imbalanced data.

    A softmax output (more than one unit) is a multi-class model: sparse categorical cross-entropy
    and accuracy (the binary PR/ROC AUC metrics do not apply to integer class labels).
    """
    import keras

    n_outputs = int(model.output_shape[-1])
    if n_outputs > 1:
        model.compile(
            optimizer=make_optimizer(train_cfg),
            loss=make_loss(train_cfg, n_outputs),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
        return model
    model.compile(
        optimizer=make_optimizer(train_cfg),
        loss=make_loss(train_cfg),
        metrics=[
            keras.metrics.AUC(curve="PR", name="pr_auc"),
            keras.metrics.AUC(curve="ROC", name="auc"),
        ],
    )
    return model


def save_keras(model: Any, folder: Path) -> Path:
    """Write ``model.keras`` atomically."""
    from seqexp.runfolder.atomic import atomic_path

    path = folder / files.KERAS_MODEL
    with atomic_path(path) as tmp:
        model.save(tmp)
    return path


def load_keras(path: Path) -> Any:
    import keras

    import seqexp.models.layers  # noqa: F401  (registers the project's custom layers)
    from seqexp.errors import UserError

    if not path.is_file():
        raise UserError(f"{path.parent}: no {path.name} in this run folder")
    # safe_mode refuses Lambda layers and arbitrary code stored in the file.
    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except (ValueError, TypeError) as exc:
        if "safe_mode" in str(exc) or "Lambda" in str(exc):
            raise UserError(
                f"{path}: refused: the model contains code (a Lambda layer or an unregistered custom "
                "object), and loading it would run that code. seqexp loads only its own layers."
            ) from None
        raise UserError(f"{path}: not a Keras model seqexp can load ({str(exc).splitlines()[0]})") from None


def keras_inputs(model: Any, X: ModelInput) -> Any:
    """``X`` as the model takes it: one array, or ``[sequence, static]`` for a two-input model;
    rows of the other layout are refused with a message saying which the model reads."""
    from seqexp.errors import DataError

    two = len(model.inputs) == 2
    if two != isinstance(X, SequenceAndStatic):
        reads = "a sequence and a static vector" if two else "one array"
        given = "a sequence and a static vector" if not two else "one array"
        raise DataError(f"the model reads {reads} per customer, the data gives {given}")
    return [X.sequence, X.static] if isinstance(X, SequenceAndStatic) else X


def as_scores(output: Any, rows: int) -> np.ndarray:
    """A model's output as float64: one score per row (sigmoid), or ``(rows, classes)`` (softmax)."""
    out = np.asarray(output, dtype=np.float64).reshape(rows, -1)
    return out[:, -1] if out.shape[1] == 1 else out


class KerasEstimator(Estimator):
    kind = "keras"
    keras_callbacks = True

    @property
    def architecture(self) -> Any:
        return self.model

    def batch_scorer(self, threads: int | None = None) -> Callable[[ModelInput], np.ndarray]:
        """A traced ``tf.function`` over the model call: it avoids ``model.predict``'s per-call set-up
        (a data pipeline and callbacks), which dominates on chunks of a few thousand rows; the
        signature leaves the batch axis free, so a smaller last chunk is not retraced."""
        from seqexp.runtime.backend import tensorflow

        tf = tensorflow()
        model = self.model
        specs = [tf.TensorSpec([None, *tensor.shape[1:]], tf.float32) for tensor in model.inputs]
        call = tf.function(lambda *x: model(list(x) if len(x) > 1 else x[0], training=False),
                           input_signature=specs)  # fmt: skip

        def score(X: ModelInput) -> np.ndarray:
            fed = keras_inputs(model, X)
            arrays = fed if isinstance(fed, list) else [fed]
            return as_scores(call(*[tf.convert_to_tensor(a, tf.float32) for a in arrays]).numpy(), len(X))

        return score

    def __init__(self, model: Any):
        self.model = model

    def fit(
        self, train: FitData, val: FitData, *, train_cfg: TrainConfig, callbacks: list[Any]
    ) -> list[dict]:
        history = self.model.fit(
            keras_inputs(self.model, train.X),
            train.y.astype(np.float32),
            validation_data=(keras_inputs(self.model, val.X), val.y.astype(np.float32)),
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

    def predict(self, X: ModelInput) -> np.ndarray:
        return as_scores(self.model.predict(keras_inputs(self.model, X), batch_size=4096, verbose=0), len(X))

    def save(self, folder: Path) -> Path:
        return save_keras(self.model, folder)

    @classmethod
    def load(cls, folder: Path, *, trust: bool = False) -> KerasEstimator:
        return cls(load_keras(folder / files.KERAS_MODEL))
