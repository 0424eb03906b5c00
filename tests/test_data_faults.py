"""Data faults on the core pipeline: each works (and says what was done) or fails with a clear message.

Faults of raw files (empty file, header only, mixed-type columns, duplicated ids, 100,000 events for
one customer) belong to the file readers; these tests feed model-ready ``Dataset`` arrays straight
to ``seqexp.pipeline.train.prepare`` and the balancers.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from seqexp.balancing import balance
from seqexp.config.loading import load_config
from seqexp.data.dataset import Dataset
from seqexp.errors import DataError
from seqexp.pipeline import prepare as experiment
from tests.conftest import Tiny


def table(n: int = 200, positives: int = 30, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    y = np.zeros(n, dtype=np.int64)
    y[rng.choice(n, positives, replace=False)] = 1
    X = rng.normal(size=(n, 3)).astype(np.float32) + y[:, None]
    return Dataset(
        X=X, y=y, ids=np.array([f"C{i}" for i in range(n)]), feature_names=["age", "income", "visits"]
    )


def sequences(n: int = 200, steps: int = 1, positives: int = 30) -> Dataset:
    rng = np.random.default_rng(1)
    y = np.zeros(n, dtype=np.int64)
    y[:positives] = 1
    X = rng.normal(size=(n, steps, 4)).astype(np.float32)
    X[..., 2:] = 0.0
    X[np.arange(n), :, 2 + (rng.random(n) < 0.5)] = 1.0  # a one-hot pair
    return Dataset(
        X=X, y=y, ids=np.arange(n), feature_names=["amount", "gap", "type=a", "type=b"],
        mask=np.ones((n, steps), dtype=bool), onehot_groups=[[2, 3]],
    )  # fmt: skip


@pytest.fixture(scope="module")
def cfg(tiny: Tiny):
    """The tiny config with SMOTE on three neighbours (these data sets are small)."""
    return tiny.load(["balance={name: smote, k_neighbors: 3}"])


@pytest.mark.parametrize(
    "bad, word", [(np.nan, "missing (NaN)"), (np.inf, "infinite"), (-np.inf, "infinite")]
)
def test_nan_and_inf_features_are_refused_naming_the_feature(cfg, bad: float, word: str) -> None:
    data = table()
    data.X[[3, 17], 1] = bad
    with pytest.raises(DataError, match=rf"'income' has 2 {re.escape(word)}"):
        experiment.prepare(cfg, data)


def test_nan_in_padding_is_ignored_but_not_in_real_steps(cfg) -> None:
    data = sequences(steps=3)
    data.mask[:, 0] = False
    data.X[:, 0, 0] = np.nan  # padded steps hold no data
    prepared = experiment.prepare(cfg, data)
    assert np.isfinite(prepared.train.X).all()  # the scaler zeroes padding
    data.X[0, 2, 0] = np.nan  # a real step
    with pytest.raises(DataError, match="'amount' has 1 missing"):
        experiment.prepare(cfg, data)


def test_a_target_with_one_class_is_refused(cfg) -> None:
    data = table(positives=0)
    with pytest.raises(DataError, match="single class"):
        experiment.prepare(cfg, data)


def test_labels_other_than_0_and_1_are_refused(cfg) -> None:
    data = table()
    data.y[:4] = -1  # unlabelled rows
    with pytest.raises(DataError, match=r"must be 0 or 1.*\[-1\].*4 row"):
        experiment.prepare(cfg, data)


def test_five_positives_in_ten_thousand_fail_clearly(cfg) -> None:
    """A 10% test part expects half a positive: its metrics would mean nothing, so the split says so."""
    with pytest.raises(DataError, match=r"split: the (val|test) part .* no row of class 1, which has 5 row"):
        experiment.prepare(cfg, table(n=10_000, positives=5))


def test_extreme_imbalance_works_when_every_part_gets_a_positive(tiny: Tiny) -> None:
    cfg = load_config(tiny.path, ["split={train: 0.5, val: 0.25, test: 0.25}", "balance={name: random_over}"])
    prepared = experiment.prepare(cfg, table(n=10_000, positives=8))
    assert [int(p.y.sum()) for p in (prepared.train, prepared.val, prepared.test)] == [4, 2, 2]
    train = prepared.train
    balanced = balance(cfg.balance, train.X, train.y, train.mask, seed=cfg.seed)
    assert int(balanced.y.sum()) == int((balanced.y == 0).sum())  # 4 positives repeated to match
    assert "random_over" in balanced.notes[0]


def test_smote_with_too_few_positives_names_the_setting(cfg, tiny: Tiny) -> None:
    prepared = experiment.prepare(cfg, table(n=400, positives=12))
    train = prepared.train
    with pytest.raises(DataError, match=r"balance.k_neighbors: smote needs more minority rows"):
        balance(load_config(tiny.path, ["balance.k_neighbors=20"]).balance, train.X, train.y, seed=0)


def test_sequences_of_length_one_work_end_to_end(cfg, tiny: Tiny) -> None:
    from seqexp.models import build_estimator
    from seqexp.models.base import FitData

    data = sequences(steps=1)
    prepared = experiment.prepare(cfg, data)
    train = prepared.train
    balanced = balance(cfg.balance, train.X, train.y, train.mask, data.onehot_groups, seed=0)
    assert balanced.X.shape[1:] == (1, 4) and balanced.synthetic > 0
    onehot = balanced.X[..., 2:]
    assert set(np.unique(onehot.sum(axis=-1))) == {1.0}  # synthetic rows keep a valid one-hot type
    cfg = load_config(tiny.path, ["train.epochs=1"])
    estimator = build_estimator(cfg.model, cfg.train, prepared.spec, seed=0)
    train_rows, val_rows = FitData(balanced.X, balanced.y), FitData(prepared.val.X, prepared.val.y)
    estimator.fit(train_rows, val_rows, train_cfg=cfg.train, callbacks=[])
    scores = estimator.predict(prepared.test.X)
    assert scores.shape == (len(prepared.test.y),) and np.isfinite(scores).all()


def test_a_constant_feature_stays_finite_after_scaling(cfg) -> None:
    data = table()
    data.X[:, 2] = 7.0
    prepared = experiment.prepare(cfg, data)
    assert np.isfinite(prepared.train.X).all() and np.allclose(prepared.test.X[:, 2], 0.0)
