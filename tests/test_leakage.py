"""No leakage: validation and test rows never reach training, scaling or the threshold choice."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from seqexp.balancing import balance
from seqexp.config.loading import load_config
from seqexp.pipeline import prepare as preparing
from seqexp.pipeline import train as experiment
from seqexp.pipeline.scaling import Standardizer
from seqexp.runfolder import files
from seqexp.tasks.binary_metrics import choose_threshold
from tests.conftest import Tiny


@pytest.fixture(scope="module")
def tiny_cfg(tiny: Tiny):
    return load_config(tiny.path, ["data.customers=300"])


@pytest.mark.parametrize("balancer", ["smote", "random_over", "random_under", "class_weight", "none"])
def test_no_validation_or_test_row_is_in_the_resampled_training_set(
    tiny: Tiny, tiny_cfg, balancer: str
) -> None:
    cfg = load_config(tiny.path, ["data.customers=300", f"balance={{name: {balancer}}}"])
    prepared = preparing.prepare(cfg)
    split, train = prepared.split, prepared.train
    assert not set(split.train) & set(split.val) and not set(split.train) & set(split.test)
    assert not set(split.val) & set(split.test)
    assert len(split.train) + len(split.val) + len(split.test) == len(prepared.data.y)

    balanced = balance(cfg.balance, train.X, train.y, train.mask, prepared.data.onehot_groups, seed=cfg.seed)
    copied = balanced.origin[balanced.origin >= 0]
    assert copied.max() < len(train.y)  # origins index the TRAINING split
    held_out = set(prepared.val.ids) | set(prepared.test.ids)
    assert not set(train.ids[copied]) & held_out
    # Copied rows are exactly the training rows they claim to be ...
    np.testing.assert_array_equal(balanced.X[balanced.origin >= 0], train.X[copied])
    # ... and no row (copied or synthetic) equals a validation or test row.
    seen = {row.tobytes() for row in np.concatenate([prepared.val.X, prepared.test.X])}
    assert not any(row.tobytes() in seen for row in balanced.X)


def _shifted(cfg, shift: float):
    """The tiny data set with every validation and test value moved far from the training ones."""
    data = preparing.load_dataset(cfg)
    split = preparing.make_split(cfg, data)
    held_out = np.concatenate([split.val, split.test])
    X = data.X.copy()
    numeric = [j for j in range(X.shape[-1]) if j not in data.onehot_columns]
    for j in numeric:
        X[held_out, :, j] = np.where(data.mask[held_out], X[held_out, :, j] + shift, 0.0)
    return replace(data, X=X), split, numeric


def test_scaling_is_fitted_on_training_rows_only(tiny: Tiny, tiny_cfg, tmp_path: Path, monkeypatch) -> None:
    data, split, numeric = _shifted(tiny_cfg, shift=1000.0)
    train_rows = data.X[split.train][data.mask[split.train]]  # real (unpadded) steps only
    cfg = load_config(
        tiny.path, ["data.customers=300", "model={name: logistic_regression}", "evaluate.baseline=none"]
    )
    monkeypatch.setattr(preparing, "load_dataset", lambda _cfg: data)
    result = experiment.train_experiment(cfg, runs_dir=tmp_path)

    stored = Standardizer.load(result.run_dir / files.PREPROCESS)
    np.testing.assert_allclose(np.array(stored.mean)[numeric], train_rows[:, numeric].mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(np.array(stored.std)[numeric], train_rows[:, numeric].std(axis=0), rtol=1e-4)
    all_rows = data.X[data.mask]
    assert np.all(np.abs(np.array(stored.mean)[numeric] - all_rows[:, numeric].mean(axis=0)) > 50)
    assert not any(np.array(stored.scaled)[data.onehot_columns])  # one-hot blocks are not scaled


def _read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    return np.array([int(r["y_true"]) for r in rows]), np.array([float(r["score"]) for r in rows])


@pytest.mark.parametrize("rule", ["max_f1", "max_mcc", "{min_recall: 0.5}"])
def test_the_threshold_is_chosen_on_validation(tiny: Tiny, rule: str, tmp_path: Path) -> None:
    cfg = load_config(
        tiny.path,
        ["data.customers=600", "model={name: logistic_regression, C: 0.05}", f"evaluate.threshold={rule}"],
    )
    result = experiment.train_experiment(cfg, runs_dir=tmp_path)
    metrics = json.loads((result.run_dir / files.METRICS).read_text())
    y_val, s_val = _read(result.run_dir / files.VAL_PREDICTIONS)
    y_test, s_test = _read(result.run_dir / files.PREDICTIONS)
    # The CSVs hold scores rounded to 6 decimals, so the recomputed threshold is too.
    from_val = choose_threshold(cfg.evaluate.threshold, y_val, s_val)
    from_test = choose_threshold(cfg.evaluate.threshold, y_test, s_test)
    assert metrics["threshold"] == pytest.approx(from_val, abs=2e-6)
    assert metrics["threshold"] != pytest.approx(from_test, abs=1e-4)
