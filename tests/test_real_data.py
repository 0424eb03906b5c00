"""The three real-data configs train end to end through the CLI on ../shared/data (1 epoch, small
models), and a data mistake exits with code 2 and marks the run failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CONFIGS, SHARED_DATA, run_cli

SHRINK = ["--set", "train.epochs=1", "--set", "train.tensorboard=false", "--quiet"]


def train(config: str, runs: Path, *extra: str) -> dict:
    assert SHARED_DATA.is_dir(), f"the real data sets are expected in {SHARED_DATA}"
    result = run_cli("train", str(CONFIGS / config), "--runs-dir", str(runs), *SHRINK, *extra)
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "completed"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert 0.0 <= metrics["test"]["pr_auc"] <= 1.0
    return {"run": run, "metrics": metrics, "schema": json.loads((run_dir / "data_schema.json").read_text()),
            "log": (run_dir / "run.log").read_text()}  # fmt: skip


@pytest.mark.slow
def test_bank_marketing_table(tmp_path: Path) -> None:
    out = train("bank_marketing_dense.yaml", tmp_path)
    names = out["run"]["feature_names"]
    assert "duration" not in names and "age" in names and "job=unknown" in names
    assert out["run"]["data_report"]["rows"] == 41188
    assert out["run"]["data_report"]["positive_rate"] == pytest.approx(0.1127, abs=1e-4)
    assert "typed automatically" in out["log"] and "dropped columns: ['duration']" in out["log"]


@pytest.mark.slow
def test_retail_response_event_log(tmp_path: Path) -> None:
    out = train("retail_response_lstm.yaml", tmp_path, "--set", "model.units=[8]", "--set", "model.dense=[]")
    report = out["run"]["data_report"]
    assert report["customers_in_log"] == 6889 and report["customers_without_label"] == 5
    assert report["customers"] == 6884 and report["duplicate_rows"] == 6
    assert out["run"]["input_shape"] == [20, 3]
    assert out["schema"]["reference_date"] == "2015-03-17T00:00:00"
    assert "5 customer(s) with events but no label left out" in out["log"]


@pytest.mark.slow
def test_audiobooks_table_without_header(tmp_path: Path) -> None:
    out = train("audiobooks_dense.yaml", tmp_path)
    assert out["run"]["data_report"]["rows"] == 14084
    assert out["run"]["input_shape"] == [10] and "id" not in out["run"]["feature_names"]


def test_a_missing_column_is_one_clear_message_before_any_run_folder(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 4 == 0}\n" for i in range(40)))
    config = tmp_path / "c.yaml"
    config.write_text("data: {name: table, path: t.csv, target: y}\nmodel: {name: logistic_regression}\n")
    result = run_cli("train", str(config), "--runs-dir", str(tmp_path / "runs"), "--quiet")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "column 'y' is not in t.csv; its columns are: a, b, label" in result.stderr
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())
    checked = run_cli("validate", str(config))  # validate opens the data and says the same
    assert checked.returncode == 2 and "column 'y' is not in t.csv" in checked.stderr
