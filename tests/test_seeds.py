"""Repeated seeds: one parent folder, a child run per seed on ONE split, mean +- std of every metric."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from seqexp.config.loading import load_config
from seqexp.pipeline.groups import seed_variants, train_repeats
from tests.conftest import Tiny, run_cli

pytestmark = pytest.mark.slow  # three tiny LSTM runs (about 40 s on the shared machine)
EPOCHS = "train.epochs=1"


@pytest.fixture(scope="module")
def parent(tiny: Tiny, tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    result = run_cli("train", str(tiny.path), "--runs-dir", str(runs), "--set", EPOCHS, "--seeds", "2")
    assert result.returncode == 0, result.stderr
    assert "±" in result.stdout  # the terminal table shows the spread
    folder = Path(result.stdout.strip().splitlines()[-1])  # last line: the parent folder
    assert folder.parent == runs
    return folder


def children(parent: Path) -> list[Path]:
    run = json.loads((parent / "run.json").read_text())
    return [parent / name for name in run["children"]]


def test_parent_lists_ordinary_child_runs_on_one_split(parent: Path) -> None:
    run = json.loads((parent / "run.json").read_text())
    assert run["status"] == "completed" and run["kind"] == "repeats"
    kids = children(parent)
    assert len(kids) == 2
    records = [json.loads((kid / "run.json").read_text()) for kid in kids]
    assert [r["seed"] for r in records] == [7, 8]
    assert all(r["status"] == "completed" for r in records)
    assert {r["split_fingerprint"] for r in records} == {run["split_fingerprint"]}
    for kid in kids:  # ordinary run folders: the files every other verb reads
        for name in ("metrics.json", "predictions.csv", "val_predictions.csv", "config.yaml", "model.keras"):
            assert (kid / name).is_file()
        config = yaml.safe_load((kid / "config.yaml").read_text())
        assert config["split"]["seed"] == 7 and config["data"]["seed"] == 7 and config["repeats"] == 1
    assert yaml.safe_load((parent / "config.yaml").read_text())["repeats"] == 2


def test_parent_metrics_hold_mean_and_std_of_every_metric(parent: Path) -> None:
    summary = json.loads((parent / "metrics.json").read_text())
    kids = [json.loads((kid / "metrics.json").read_text()) for kid in children(parent)]
    for path in (("val",), ("test",), ("baseline", "val"), ("baseline", "test")):
        mean, std = summary["mean"], summary["std"]
        values = kids
        for key in path:
            mean, std, values = mean[key], std[key], [v[key] for v in values]
        for name in ("pr_auc", "roc_auc", "f1", "mcc", "log_loss"):
            numbers = [v[name] for v in values]
            assert mean[name] == pytest.approx(sum(numbers) / 2)
            assert std[name] == pytest.approx(abs(numbers[0] - numbers[1]) / 2**0.5)
    # Different seeds, different weights: the spread is real, not zero.
    assert summary["std"]["test"]["pr_auc"] > 0 and summary["std"]["val"]["log_loss"] > 0
    with (parent / "seeds.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["run"] for r in rows] == ["seed 7", "seed 8"] and "test_pr_auc" in rows[0]


def test_identical_seed_gives_identical_results(tiny: Tiny, parent: Path, tmp_path: Path) -> None:
    cfg = load_config(tiny.path, [EPOCHS])
    again = train_repeats(cfg, 1, runs_dir=tmp_path)
    (first, _) = children(parent)
    (child,) = again.children
    assert (child / "metrics.json").read_text() == (first / "metrics.json").read_text()
    assert (child / "predictions.csv").read_text() == (first / "predictions.csv").read_text()
    assert again.summary["std"]["test"]["pr_auc"] == 0.0


def test_seed_variants_pin_the_split_and_data(tiny: Tiny) -> None:
    cfg = load_config(tiny.path, ["repeats=3"])
    variants = seed_variants(cfg, cfg.repeats)
    assert [c.seed for _, c in variants] == [7, 8, 9]
    assert {c.split.seed for _, c in variants} == {7} and {c.data.seed for _, c in variants} == {7}
