"""The synthetic sources encode their generated log through the events builder: the arrays of a
synthetic source are the events source's arrays of the files ``seqexp generate`` writes (read through
its ``data.yaml``), with the generator's own levels; runs saved before keep their feature names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from seqexp.config.loading import validate_config
from seqexp.data.daily import SyntheticDailyDefaultConfig
from seqexp.data.synthetic import TYPES, SyntheticTransactionsConfig
from seqexp.registry import DATA_SOURCES

SOURCES = [
    SyntheticTransactionsConfig(customers=300, sequence_length=8, positive_rate=0.2),
    SyntheticDailyDefaultConfig(customers=200, sequence_length=30),
]


@pytest.mark.parametrize("data_cfg", SOURCES, ids=lambda c: c.name)
def test_a_synthetic_source_is_the_events_source_on_its_generated_files(data_cfg, tmp_path: Path) -> None:
    from seqexp.data.generate import write_generated

    cfg = validate_config({"name": "gen", "seed": 11, "data": data_cfg.model_dump(mode="json")})
    folder = write_generated(cfg, tmp_path / "gen")
    section = yaml.safe_load((folder / "data.yaml").read_text())["data"]
    events_cfg = validate_config({"data": section}, config_dir=folder).data
    assert events_cfg.name == "events" and Path(events_cfg.path) == folder / "events.parquet"

    synthetic = DATA_SOURCES.get(data_cfg.name).builder(data_cfg, seed=11)
    assert synthetic.schema["source"] == "events"
    from_files = DATA_SOURCES.get("events").builder(events_cfg, seed=0, schema=synthetic.schema)
    for name in ("X", "y", "ids", "mask"):
        np.testing.assert_array_equal(getattr(from_files, name), getattr(synthetic, name), err_msg=name)
    assert from_files.feature_names == synthetic.feature_names
    assert from_files.fingerprint() == synthetic.fingerprint()
    assert synthetic.report["positive_rate"] == from_files.report["positive_rate"]
    unlabelled = DATA_SOURCES.get(data_cfg.name).builder(data_cfg, seed=11, labelled=False)
    assert (unlabelled.y == -1).all() and np.array_equal(unlabelled.X, synthetic.X)


def test_the_generator_levels_are_given_not_learned() -> None:
    """A log in which some types never occur still has every type's one-hot, in the generator's order."""
    from seqexp.data.synthetic import generate_transactions, sequences_from_transactions

    cfg = SyntheticTransactionsConfig(customers=60, sequence_length=5)
    events, labels = generate_transactions(cfg, 0)
    few = events[events["type"].isin(["deposit", "card_purchase"])]
    data = sequences_from_transactions(few, labels[labels.customer_id.isin(few.customer_id)], cfg)
    assert data.feature_names[3:] == [f"type={level}" for level in TYPES]
    assert data.schema["categorical"] == {"type": TYPES}
    assert data.feature_names[:3] == ["amount", "log1p_days_since_previous", "log1p_days_before_reference"]


def test_a_run_saved_before_the_events_path_gets_its_feature_names_back() -> None:
    """Its schema is the source's own; the numbers are the same, so only names (and daily's absent
    mask) are given back."""
    transactions = DATA_SOURCES.get("synthetic_transactions")
    data = transactions.builder(SOURCES[0], seed=2)
    old = {"types": TYPES, "sequence_length": 8, "reference_date": "2025-01-01T00:00:00"}
    saved = transactions.extras["saved"](data, old)
    assert saved.feature_names[:3] == ["log_amount", "log_gap_days", "log_days_before_end"]
    assert saved.schema == old and np.array_equal(saved.X, data.X) and saved.mask is not None
    assert transactions.extras["saved"](data, data.schema) is data  # a run of today: as built
    daily = DATA_SOURCES.get("synthetic_daily_default")
    days = daily.builder(SOURCES[1], seed=2)
    old_days = {"features": ["salary_credit"], "sequence_length": 30, "transform": "log1p"}
    saved_days = daily.extras["saved"](days, old_days)
    assert saved_days.mask is None and saved_days.feature_names[0] == "log_salary_credit"
