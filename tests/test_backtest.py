"""``seqexp backtest``: one ordinary child run per test cutoff, each trained on the past and
validated a label window before its test cutoff; the parent's per-cutoff table, figure and the
threshold's transfer; ``compare`` never ranks it beside a single split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import run_cli
from tests.time_log import snapshot_section, write_log


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("backtest")
    log = write_log(folder / "log.csv")
    cfg = {
        "name": "bt", "seed": 1, "data": snapshot_section(log), "split": {"method": "time"},
        "model": {"name": "logistic_regression"},
        "evaluate": {"threshold": "max_f1", "baseline": "none", "bootstrap": 0},
    }  # fmt: skip
    path = folder / "bt.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def parent(config: Path, tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    result = run_cli("backtest", str(config), "--tests", "3", "--runs-dir", str(runs))
    assert result.returncode == 0, result.stderr
    assert "per test cutoff" in result.stdout and "mean ± std over 3 test cutoffs" in result.stdout
    return Path(result.stdout.strip().splitlines()[-1])


def test_one_child_per_test_cutoff_each_trained_on_the_past(parent: Path) -> None:
    run = json.loads((parent / "run.json").read_text())
    assert run["kind"] == "backtest" and run["status"] == "completed" and len(run["children"]) == 3
    table = pd.read_csv(parent / "backtest.csv")
    assert table["test_cutoff"].tolist() == ["2024-04-11", "2024-04-25", "2024-05-09"]
    horizon = np.timedelta64(14, "D")
    for name, row in zip(run["children"], table.itertuples(), strict=True):
        split = json.loads((parent / name / "metrics.json").read_text())["split"]
        test, val = np.datetime64(split["test_cutoff"]), np.datetime64(split["val_cutoff"])
        assert str(test)[:10] == row.test_cutoff and val + horizon <= test
        assert all(np.datetime64(c) + horizon <= val for c in split["train_cutoffs"])
        predictions = pd.read_csv(parent / name / "predictions.csv")
        assert set(predictions["cutoff"].str[:10]) == {row.test_cutoff}
        chosen, y = predictions["y_pred"].to_numpy(), predictions["y_true"].to_numpy()
        assert row.precision_at_threshold == pytest.approx((chosen & y).sum() / chosen.sum(), abs=1e-4)
        assert row.test_base_rate == pytest.approx(y.mean(), abs=1e-4)
        assert row.best_f1_in_hindsight >= row.f1_at_threshold - 1e-9  # hindsight cannot do worse
    metrics = json.loads((parent / "metrics.json").read_text())
    assert metrics["n"] == 3 and "pr_auc" in metrics["mean"]["test"] and len(metrics["cutoffs"]) == 3
    assert (parent / "backtest.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_ranks_a_backtest_apart_from_a_single_split(parent: Path, config: Path) -> None:
    runs = parent.parent
    single = run_cli("train", str(config), "--runs-dir", str(runs), "-q")
    assert single.returncode == 0, single.stderr
    result = run_cli("compare", "--all", "--runs-dir", str(runs), "--format", "json")
    assert result.returncode == 0, result.stderr
    sections = json.loads(result.stdout)["sections"]
    protocols = sorted(s["protocol"] for s in sections)
    assert len(sections) == 2 and protocols[0].startswith("out of time") and "backtest" in protocols[1]


def test_a_backtest_the_snapshots_cannot_hold_leaves_no_folder(config: Path, tmp_path: Path) -> None:
    result = run_cli("backtest", str(config), "--tests", "9", "--runs-dir", str(tmp_path / "runs"))
    assert result.returncode == 2
    assert "backtest --tests 9: only 6 cutoff(s) have a validation cutoff" in result.stderr
    assert not (tmp_path / "runs").exists()
