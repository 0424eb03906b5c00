"""The search's hypermodel: hyperparameters are config paths, models come from the train builders.

keras-tuner calls ``build`` to learn the space (and for ``load_model``); trials themselves are trained
in a child process by ``trial_process.run_trial`` with the same config and builders. Keras trials
add the threshold-based objectives with ``validation_scores_callback`` after each epoch; trials of
other models (LightGBM, scikit-learn) score validation once with ``validation_objectives``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seqexp.config.experiment import ExperimentConfig
from seqexp.tuning import space as space_mod
from seqexp.tuning.config import tune_of


def threshold_objectives(y_val: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """val_f1 and val_mcc: each at the validation threshold that maximises it."""
    from sklearn.metrics import f1_score, matthews_corrcoef

    from seqexp.tasks.binary_metrics import choose_threshold

    t_f1 = choose_threshold("max_f1", y_val, scores)
    t_mcc = choose_threshold("max_mcc", y_val, scores)
    return {
        "val_f1": float(f1_score(y_val, scores >= t_f1, zero_division=0)),
        "val_mcc": float(matthews_corrcoef(y_val, scores >= t_mcc)),
    }


def validation_objectives(y_val: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Every objective tune offers, from a fitted model's validation scores (non-Keras trials):
    val_pr_auc is average precision and val_auc ROC-AUC, as in metrics.json; val_loss log loss."""
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

    both = len(np.unique(y_val)) > 1
    return {
        "val_loss": float(log_loss(y_val, np.clip(scores, 1e-7, 1 - 1e-7), labels=[0, 1])),
        "val_pr_auc": float(average_precision_score(y_val, scores)) if both else float("nan"),
        "val_auc": float(roc_auc_score(y_val, scores)) if both else float("nan"),
        **threshold_objectives(y_val, scores),
    }


def validation_scores_callback(X_val: Any, y_val: np.ndarray) -> Any:
    """Adds val_f1 and val_mcc to each epoch's logs: each at the validation threshold maximising it
    (``X_val`` as the model takes it: one array, or the list of its inputs)."""
    import keras

    class ValidationScores(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if logs is None:
                return
            scores = np.asarray(self.model.predict(X_val, batch_size=4096, verbose=0)).reshape(-1)
            logs.update(threshold_objectives(y_val, scores))

    return ValidationScores()


def make_hypermodel(cfg: ExperimentConfig, prepared: Any) -> Any:
    """A keras-tuner HyperModel whose hyperparameters are config paths.

    keras-tuner calls ``build`` to learn the space (and for ``load_model``); trials themselves are
    trained in a child process by ``trial_process.run_trial`` with the same config and builders.
    """
    import keras_tuner as kt

    from seqexp.models import build_estimator, build_keras_model

    space, base = tune_of(cfg).space, space_mod.base_raw(cfg)

    class ConfigHyperModel(kt.HyperModel):
        def build(self, hp: Any) -> Any:
            values = space_mod.declare(hp, space, base)
            trial_cfg = space_mod.trial_config(base, values, source="trial config")
            if space_mod.is_keras(trial_cfg.model.name):
                return build_keras_model(trial_cfg.model, trial_cfg.train, prepared.spec)
            # Not a Keras model: keras-tuner only needs the space declared; building checks the
            # values (no model is trained here, and nothing uses what is returned).
            return build_estimator(trial_cfg.model, trial_cfg.train, prepared.spec, seed=cfg.seed)

    return ConfigHyperModel()
