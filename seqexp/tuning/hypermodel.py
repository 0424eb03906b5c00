"""The search's hypermodel: hyperparameters are config paths, models come from the train builders.

keras-tuner calls ``build`` to learn the space (and for ``load_model``); trials themselves are trained
in a child process by ``trial_process.run_trial`` with the same config and builders, and both use
``validation_scores_callback`` for the threshold-based objectives.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seqexp.config.experiment import ExperimentConfig
from seqexp.tuning import space as space_mod
from seqexp.tuning.config import tune_of


def validation_scores_callback(X_val: np.ndarray, y_val: np.ndarray) -> Any:
    """Adds val_f1 and val_mcc to each epoch's logs: each at the validation threshold maximising it."""
    import keras
    from sklearn.metrics import f1_score, matthews_corrcoef

    from seqexp.tasks.binary_metrics import choose_threshold

    class ValidationScores(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if logs is None:
                return
            scores = np.asarray(self.model.predict(X_val, batch_size=4096, verbose=0)).reshape(-1)
            t_f1 = choose_threshold("max_f1", y_val, scores)
            t_mcc = choose_threshold("max_mcc", y_val, scores)
            logs["val_f1"] = float(f1_score(y_val, scores >= t_f1, zero_division=0))
            logs["val_mcc"] = float(matthews_corrcoef(y_val, scores >= t_mcc))

    return ValidationScores()


def make_hypermodel(cfg: ExperimentConfig, prepared: Any) -> Any:
    """A keras-tuner HyperModel whose hyperparameters are config paths.

    keras-tuner calls ``build`` to learn the space (and for ``load_model``); trials themselves are
    trained in a child process by ``trial_process.run_trial`` with the same config and builders.
    """
    import keras_tuner as kt

    from seqexp.models import build_keras_model

    space, base = tune_of(cfg).space, space_mod.base_raw(cfg)

    class ConfigHyperModel(kt.HyperModel):
        def build(self, hp: Any) -> Any:
            values = space_mod.declare(hp, space, base)
            trial_cfg = space_mod.trial_config(base, values, source="trial config")
            return build_keras_model(trial_cfg.model, trial_cfg.train, prepared.spec)

    return ConfigHyperModel()
