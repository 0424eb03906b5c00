"""A trial of a model that is not a Keras architecture (LightGBM, scikit-learn, the autoencoder).

It is fitted exactly as ``seqexp train`` fits it: ``build_estimator(...).fit(train, val)`` on the
balanced training rows, with its own early stopping on validation where it has one. The objective
comes from its scores on the validation split after the fit (``validation_objectives``): there are
no epochs to pick a best one from, so Hyperband, whose budget is epochs, does not apply.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def estimator_trial(
    trial_cfg: Any, prepared: Any, balanced: Any, *, executions: int, seed: int
) -> dict[str, float]:
    """Fit the trial's model ``executions`` times; the validation objectives averaged, and
    ``epochs``: the rows of its history (boosting rounds for LightGBM, 1 for scikit-learn)."""
    from seqexp.models import build_estimator
    from seqexp.models.base import FitData
    from seqexp.tuning.hypermodel import validation_objectives

    val = prepared.val
    rows = []
    for _ in range(executions):  # every execution starts from the same seed, as Keras trials do
        estimator = build_estimator(trial_cfg.model, trial_cfg.train, prepared.spec, seed=seed)
        callbacks: list[Any] = []
        if estimator.keras_callbacks:  # a Keras-based estimator of its own: train's early stopping
            from seqexp.pipeline.callbacks import fit_callbacks
            from seqexp.runtime.seeding import seed_everything

            seed_everything(seed)
            callbacks = fit_callbacks(trial_cfg.train)
        history = estimator.fit(
            FitData(balanced.inputs, balanced.y, balanced.class_weight),
            FitData(val.inputs, val.y),
            train_cfg=trial_cfg.train,
            callbacks=callbacks,
        )
        scores = np.asarray(estimator.predict(val.inputs), dtype=np.float64).reshape(-1)
        rows.append({**validation_objectives(val.y, scores), "epochs": float(len(history))})
    return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}
