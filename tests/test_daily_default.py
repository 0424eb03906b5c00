"""The daily-behaviour default-risk generator: seeded, imbalanced, labels from the future."""

from __future__ import annotations

import numpy as np

from seqexp.data.daily import (
    FEATURES,
    SyntheticDailyDefaultConfig,
    build_synthetic_daily_default,
    generate_daily,
)


def test_shape_rate_and_seed() -> None:
    cfg = SyntheticDailyDefaultConfig(customers=1500, sequence_length=45)
    data = build_synthetic_daily_default(cfg, seed=3)
    assert data.X.shape == (1500, 45, len(FEATURES)) and data.mask.all()  # every day: no padding
    assert 0.04 <= data.y.mean() <= 0.10
    assert np.all(data.X >= 0)  # log1p of amounts and balances: never negative
    again = build_synthetic_daily_default(cfg, seed=3)
    assert np.array_equal(again.X, data.X) and np.array_equal(again.y, data.y)
    assert not np.array_equal(build_synthetic_daily_default(cfg, seed=4).X, data.X)


def test_defaulters_deteriorate() -> None:
    frame, labels = generate_daily(SyntheticDailyDefaultConfig(customers=3000), seed=0)
    frame = frame.merge(labels, on="customer_id")
    last_weeks = frame[frame["date"] >= frame["date"].max() - np.timedelta64(14, "D")]
    means = last_weeks.groupby("label")[["atm_withdrawal", "salary_credit"]].mean()
    assert means.loc[1, "atm_withdrawal"] > means.loc[0, "atm_withdrawal"]
    assert means.loc[1, "salary_credit"] < means.loc[0, "salary_credit"]


def test_unlabelled_data_has_no_labels() -> None:
    data = build_synthetic_daily_default(SyntheticDailyDefaultConfig(customers=100), seed=0, labelled=False)
    assert np.all(data.y == -1)
