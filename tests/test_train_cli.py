"""The whole loop through the real CLI: generate -> train on a tiny config in a temp folder."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import Tiny, run_cli

RUN_FILES = [
    "config.yaml", "run.json", "class_counts.json", "history.csv", "metrics.json",
    "confusion_matrix.csv", "confusion_matrix.png", "predictions.csv", "model.keras",
    "preprocess.json", "run.log",
]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_run(tiny: Tiny, tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    result = run_cli("train", str(tiny.path), "--runs-dir", str(runs), "--set", "train.epochs=2")
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    assert run_dir.parent == runs
    return run_dir


def test_train_writes_a_complete_run_folder(tiny_run: Path) -> None:
    for name in RUN_FILES:
        assert (tiny_run / name).is_file(), name
    assert not list(tiny_run.glob(".*tmp*")), "temporary files left behind"
    run = json.loads((tiny_run / "run.json").read_text())
    assert run["status"] == "completed"
    assert run["finished"] and run["seed"] == 7
    assert run["data_fingerprint"] and run["split_fingerprint"]
    assert "tensorflow" in run["versions"]


def test_run_folder_name_and_resolved_config(tiny_run: Path) -> None:
    assert tiny_run.name.endswith("-tiny")
    config = yaml.safe_load((tiny_run / "config.yaml").read_text())
    assert config["train"]["epochs"] == 2  # the override is recorded
    assert config["model"]["name"] == "lstm"


def test_metrics_are_honest(tiny_run: Path) -> None:
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    for part in ("val", "test"):
        for key in ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc"):
            assert 0.0 <= metrics[part][key] <= 1.0, (part, key)
        assert -1.0 <= metrics[part]["mcc"] <= 1.0  # a correlation: negative when worse than chance
        assert metrics[part]["mcc"] > 0.0, "the tiny LSTM learns the synthetic signal at least a little"
    assert 0.0 < metrics["threshold"] < 1.0
    assert metrics["threshold_rule"] == "max_f1 on validation"
    assert metrics["baseline"]["model"] == "logistic_regression"
    # The test split keeps its natural ratio: the test metrics count real customers only.
    counts = json.loads((tiny_run / "class_counts.json").read_text())
    assert metrics["test"]["rows"] == sum(counts["test"].values())
    assert counts["train"]["after"]["1"] > counts["train"]["before"]["1"]  # SMOTE on train
    assert counts["synthetic_rows"] == counts["train"]["after"]["1"] - counts["train"]["before"]["1"]


def test_predictions_cover_the_test_split(tiny_run: Path) -> None:
    predictions = pd.read_csv(tiny_run / "predictions.csv")
    assert list(predictions.columns) == ["id", "y_true", "score", "y_pred"]
    counts = json.loads((tiny_run / "class_counts.json").read_text())
    assert len(predictions) == sum(counts["test"].values())
    assert predictions["id"].is_unique
    history = pd.read_csv(tiny_run / "history.csv")
    assert list(history["epoch"]) == [1, 2] and "val_loss" in history


def test_same_config_and_seed_give_the_same_metrics(tiny: Tiny, tiny_run: Path, tmp_path: Path) -> None:
    result = run_cli(
        "train", str(tiny.path), "--runs-dir", str(tmp_path), "--set", "train.epochs=2", "--quiet"
    )
    assert result.returncode == 0, result.stderr
    again = Path(result.stdout.strip().splitlines()[-1])
    assert (again / "metrics.json").read_text() == (tiny_run / "metrics.json").read_text()
    assert (again / "predictions.csv").read_text() == (tiny_run / "predictions.csv").read_text()


def test_generate_writes_the_files_a_user_would_bring(tiny: Tiny, tmp_path: Path) -> None:
    out = tmp_path / "gen"
    result = run_cli("generate", str(tiny.path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(out)
    events = pd.read_parquet(out / "events.parquet")
    labels = pd.read_parquet(out / "labels.parquet")
    card = json.loads((out / "card.json").read_text())
    assert list(events.columns) == ["customer_id", "timestamp", "type", "amount"]
    assert list(labels.columns) == ["customer_id", "label"]
    assert card["customers"] == len(labels) == 400 and card["events"] == len(events)
    assert set(events["customer_id"]) == set(labels["customer_id"])
    section = yaml.safe_load((out / "data.yaml").read_text())["data"]  # the events section reading them
    assert card["files"]["data_config"] == "data.yaml" and section["name"] == "events"
    assert (section["path"], section["labels"]["path"]) == ("events.parquet", "labels.parquet")


def test_a_data_problem_marks_the_run_failed(tiny: Tiny, tmp_path: Path) -> None:
    result = run_cli(
        "train", str(tiny.path), "--runs-dir", str(tmp_path), "--set", "balance.k_neighbors=500", "--quiet"
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "k_neighbors" in result.stderr
    (run_dir,) = tmp_path.iterdir()
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "failed" and "k_neighbors" in run["error"]
    assert not (run_dir / "metrics.json").exists()
