"""The two aggregate configs on the real data sets (../shared/data): the data they build, and one
shrunk training run through the CLI. Counts come from the data README."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seqexp.config.loading import load_config
from seqexp.data.events import build_events
from tests.conftest import CONFIGS, SHARED_DATA, run_cli


def build(config: str):
    assert SHARED_DATA.is_dir(), f"the real data sets are expected in {SHARED_DATA}"
    return build_events(load_config(CONFIGS / config).data, seed=0)


@pytest.mark.slow
def test_tafeng_targeted_product_from_a_derived_flag() -> None:
    data = build("tafeng_target_aggregates.yaml")
    assert len(data.y) == 28_610 and int(data.y.sum()) == 2_723  # the data README's task
    report = data.report
    assert report["label_window_end"] == "2001-03-01 00:00:00" and report["label_window_days"] == 28
    names = data.feature_names
    assert len(names) == 81 and "days_since_last_is_target" in names and "is_target_sum_30d" in names
    assert "AGE_GROUP=(missing)_count" in names and "PIN_CODE=Unknown_count" in names
    # Customers who bought the target lately are more often positive: the flag carries the signal.
    bought = data.X[:, names.index("is_target_sum")] > 0
    recent = bought & (data.X[:, names.index("days_since_last_is_target")] < 14)  # 21% vs 9% positive
    assert data.y[recent].mean() > 2 * data.y[~recent].mean()
    assert data.y[bought].mean() > 2 * data.y[~bought].mean()  # 17.5% vs 6.5%


@pytest.mark.slow
def test_retail_response_aggregates_on_raw_amounts() -> None:
    data = build("retail_response_aggregates.yaml")
    assert len(data.y) == 6_884 and data.X.shape == (6_884, 45)
    names = data.feature_names
    spend = data.X[:, names.index("tran_amount_sum")]
    mean = data.X[:, names.index("tran_amount_mean")]
    count = data.X[:, names.index("count")]
    np.testing.assert_allclose(spend, mean * count, rtol=1e-4)  # raw amounts, not log1p
    assert 10 <= float(np.median(mean)) <= 100  # the log's amounts are 10 to 105


@pytest.mark.slow
def test_tafeng_aggregates_train_end_to_end(tmp_path: Path) -> None:
    result = run_cli("train", str(CONFIGS / "tafeng_target_aggregates.yaml"), "--runs-dir", str(tmp_path),
                     "--set", "model.max_iter=20", "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    schema = json.loads((run_dir / "data_schema.json").read_text())
    assert schema["derive"] == {"is_target": "PRODUCT_SUBCLASS == 100205"}
    assert len(schema["aggregates"]["names"]) == 81
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test"]["roc_auc"] > 0.65
