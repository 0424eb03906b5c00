"""Anomaly detection: an LSTM autoencoder that learns to reconstruct majority-class sequences.

The minority class is treated as outliers: the model is fitted on class-0 training rows only (the
balancer's synthetic or re-weighted rows play no part), and a customer's score is how badly their
sequence is reconstructed. Raw errors have no fixed scale, so they are mapped to [0, 1] with
``error / (error + m)``, ``m`` the median error on the validation split (labels unused): an
increasing map, so ranking metrics are untouched, and the threshold is then chosen on validation
like any other model's. It reads the sequence alone: data with a static vector beside it
(``output: sequence_and_aggregates``) is refused, since a reconstruction error has no place for it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from seqexp.config.section import Section
from seqexp.config.sections import TrainConfig
from seqexp.data.inputs import ModelInput, SequenceAndStatic
from seqexp.models.base import Estimator, FitData, InputSpec
from seqexp.models.blocks import require_sequences
from seqexp.registry import MODELS
from seqexp.runfolder import files

STATIC_REFUSAL = (
    "model.name: lstm_autoencoder scores how badly it reconstructs each sequence and has no place for the "
    "static vector of data.output: sequence_and_aggregates; use data.output: sequence, or a classifier "
    "that reads both (lstm, gru, rnn, cnn_lstm, transformer, dense)"
)


class LSTMAutoencoderConfig(Section):
    """LSTM encoder-decoder trained on majority-class sequences; score = reconstruction error."""

    name: Literal["lstm_autoencoder"] = "lstm_autoencoder"
    units: list[int] = Field(
        [32, 16], min_length=1, description="Encoder LSTM units; the decoder mirrors them in reverse."
    )
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout between recurrent layers.")


def build_autoencoder_model(cfg: LSTMAutoencoderConfig, spec: InputSpec) -> Any:
    """Uncompiled encoder-decoder: sequence in, reconstructed sequence out."""
    import keras
    from keras import layers

    from seqexp.models.blocks import sequence_input
    from seqexp.models.recurrent import recurrent_stack

    inputs, x = sequence_input(spec, cfg.name)
    steps, features = spec.shape
    x = recurrent_stack(x, [(layers.LSTM, u) for u in cfg.units], dropout=cfg.dropout, bidirectional=False)
    x = layers.RepeatVector(steps)(x)
    for units in reversed(cfg.units):
        x = layers.LSTM(units, return_sequences=True)(x)
        if cfg.dropout:
            x = layers.Dropout(cfg.dropout)(x)
    outputs = layers.Dense(features, name="reconstruction")(x)
    return keras.Model(inputs, outputs, name=cfg.name)


def _sequences(X: ModelInput) -> np.ndarray:
    if isinstance(X, SequenceAndStatic):
        from seqexp.errors import UserError

        raise UserError(STATIC_REFUSAL)
    return X


def step_mask(X: np.ndarray, masked: bool) -> np.ndarray:
    """Real steps: for padded data those with any non-zero feature (padding is exactly 0)."""
    return np.any(X != 0.0, axis=-1) if masked else np.ones(X.shape[:2], dtype=bool)


class AutoencoderEstimator(Estimator):
    """Fit on class 0 only; ``predict`` returns validation-scaled reconstruction errors."""

    kind = "lstm_autoencoder"
    keras_callbacks = True

    def __init__(self, model: Any, *, masked: bool, scale: float | None = None):
        self.model = model
        self.masked = masked
        self.scale = scale

    def errors(self, X: np.ndarray) -> np.ndarray:
        """Mean squared reconstruction error over each row's real steps."""
        recon = np.asarray(self.model.predict(X, batch_size=4096, verbose=0), dtype=np.float64)
        per_step = np.mean((recon - X) ** 2, axis=-1)
        mask = step_mask(X, self.masked)
        return (per_step * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)

    def fit(
        self, train: FitData, val: FitData, *, train_cfg: TrainConfig, callbacks: list[Any]
    ) -> list[dict]:
        from seqexp.errors import DataError
        from seqexp.models.keras_estimator import make_optimizer

        normal, normal_val = train.y == 0, val.y == 0
        X_train, X_val = _sequences(train.X), _sequences(val.X)
        if normal.sum() == 0 or normal_val.sum() == 0:
            raise DataError("lstm_autoencoder needs class-0 rows in both the training and validation splits")
        self.model.compile(optimizer=make_optimizer(train_cfg), loss="mse")
        Xt, Xv = X_train[normal], X_val[normal_val]
        weights_t = step_mask(Xt, self.masked).astype(np.float32)  # padded steps do not count
        weights_v = step_mask(Xv, self.masked).astype(np.float32)
        history = self.model.fit(
            Xt,
            Xt,
            sample_weight=weights_t,
            validation_data=(Xv, Xv, weights_v),
            epochs=train_cfg.epochs,
            batch_size=train_cfg.batch_size,
            callbacks=[_ranking_on_validation(self, val), *callbacks],
            shuffle=True,
            verbose=0,
        )
        self.scale = float(max(np.median(self.errors(X_val)), 1e-12))
        keys = list(history.history)
        epochs = len(history.history[keys[0]]) if keys else 0
        return [{"epoch": i + 1, **{k: float(history.history[k][i]) for k in keys}} for i in range(epochs)]

    def predict(self, X: ModelInput) -> np.ndarray:
        if self.scale is None:
            raise RuntimeError("predict before fit")
        errors = self.errors(_sequences(X))
        return errors / (errors + self.scale)

    def save(self, folder: Path) -> Path:
        from seqexp.models.keras_estimator import save_keras
        from seqexp.runfolder.atomic import write_text

        path = save_keras(self.model, folder)
        write_text(
            folder / files.AUTOENCODER_STATE,
            json.dumps({"scale": self.scale, "masked": self.masked, "model": files.KERAS_MODEL}),
        )
        return path

    @classmethod
    def load(cls, folder: Path, *, trust: bool = False) -> AutoencoderEstimator:
        from seqexp.models.keras_estimator import load_keras

        state = json.loads((folder / files.AUTOENCODER_STATE).read_text())
        return cls(load_keras(folder / state["model"]), masked=bool(state["masked"]), scale=state["scale"])


def _ranking_on_validation(estimator: AutoencoderEstimator, val: FitData) -> Any:
    """Adds val_pr_auc / val_auc (errors as scores, all validation rows) to each epoch's logs,
    so early stopping on val_pr_auc works as for the classifiers. Runs before other callbacks."""
    import keras
    from sklearn.metrics import average_precision_score, roc_auc_score

    class RankingOnValidation(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if logs is None or len(np.unique(val.y)) < 2:
                return
            errors = estimator.errors(_sequences(val.X))
            logs["val_pr_auc"] = float(average_precision_score(val.y, errors))
            logs["val_auc"] = float(roc_auc_score(val.y, errors))

    return RankingOnValidation()


@MODELS.register(
    LSTMAutoencoderConfig, tags=("sequence", "anomaly", "epochs"), kind="lstm_autoencoder",
    loader="seqexp.models.autoencoder:AutoencoderEstimator", pickled=False, tensorflow=True,
)  # fmt: skip
def build_lstm_autoencoder(
    cfg: LSTMAutoencoderConfig, train_cfg: TrainConfig, spec: InputSpec, *, seed: int
) -> Estimator:
    from seqexp.runtime.seeding import seed_everything

    require_sequences(spec, cfg.name)
    if spec.multiclass:
        from seqexp.errors import UserError

        raise UserError(
            f"model.name: lstm_autoencoder treats the minority class of a binary target as outliers; "
            f"this target has {spec.n_classes} classes. Use a classifier such as lstm, gru or dense"
        )
    if spec.static:
        from seqexp.errors import UserError

        raise UserError(STATIC_REFUSAL)
    seed_everything(seed)
    return AutoencoderEstimator(build_autoencoder_model(cfg, spec), masked=spec.masked)
