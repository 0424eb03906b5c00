"""K-fold cross-validation: one ordinary run per fold, a shared held-out test, balancing inside folds."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqexp.balancing import balance
from seqexp.config.loading import load_config
from seqexp.errors import ConfigError, UserError
from seqexp.pipeline.prepare import prepare
from tests.conftest import Tiny, run_cli

KFOLD = ["split={method: kfold, folds: 3, test: 0.2}", "model={name: logistic_regression}"]


@pytest.fixture(scope="module")
def cv_run(tiny: Tiny, tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    args = [arg for item in KFOLD for arg in ("--set", item)]
    result = run_cli("train", str(tiny.path), "--runs-dir", str(runs), *args)
    assert result.returncode == 0, result.stderr
    assert "± " in result.stdout and "3 folds" in result.stdout  # the spread in the terminal table
    return Path(result.stdout.strip().splitlines()[-1])


def fold_runs(cv_run: Path) -> list[Path]:
    return [cv_run / name for name in json.loads((cv_run / "run.json").read_text())["children"]]


def test_one_run_per_fold_with_per_fold_metrics_and_spread(cv_run: Path) -> None:
    run = json.loads((cv_run / "run.json").read_text())
    assert run["status"] == "completed" and run["kind"] == "kfold" and len(run["children"]) == 3
    summary = json.loads((cv_run / "metrics.json").read_text())
    with (cv_run / "folds.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["run"] for r in rows] == ["fold 0", "fold 1", "fold 2"]
    per_fold = np.array([float(r["val_pr_auc"]) for r in rows])
    assert summary["mean"]["val"]["pr_auc"] == pytest.approx(per_fold.mean(), rel=1e-5)
    assert summary["std"]["val"]["pr_auc"] == pytest.approx(per_fold.std(ddof=1), rel=1e-4)
    assert summary["std"]["val"]["pr_auc"] > 0


def test_folds_partition_the_non_test_rows_and_share_the_test_set(cv_run: Path) -> None:
    kids = fold_runs(cv_run)
    tests = [set(pd.read_csv(k / "predictions.csv")["id"]) for k in kids]
    vals = [set(pd.read_csv(k / "val_predictions.csv")["id"]) for k in kids]
    assert tests[0] == tests[1] == tests[2]
    assert not (vals[0] & vals[1]) and not (vals[0] & vals[2]) and not (vals[1] & vals[2])
    assert not (set().union(*vals) & tests[0])
    assert len(set().union(*vals)) + len(tests[0]) == 400
    fingerprints = {json.loads((k / "run.json").read_text())["split_fingerprint"] for k in kids}
    assert len(fingerprints) == 3  # each fold is its own split: fold runs are not ensembled together


@pytest.mark.parametrize("fold", [0, 1, 2])
def test_no_validation_row_reaches_a_folds_resampled_training_set(tiny: Tiny, fold: int) -> None:
    cfg = load_config(tiny.path, [*KFOLD, f"split.fold={fold}"])
    prepared = prepare(cfg)
    train = prepared.train
    balanced = balance(cfg.balance, train.X, train.y, train.mask, prepared.data.onehot_groups, seed=cfg.seed)
    assert balanced.synthetic > 0  # SMOTE made rows, from this fold's training part only
    copied = prepared.split.train[balanced.origin[balanced.origin >= 0]]
    assert not set(copied) & set(prepared.split.val)
    assert not set(copied) & set(prepared.split.test)
    # And no resampled row (copied or synthetic) equals a validation row.
    flat_val = {row.tobytes() for row in prepared.val.X.reshape(len(prepared.val.y), -1)}
    assert not any(row.tobytes() in flat_val for row in balanced.X.reshape(len(balanced.y), -1))


def test_fold_config_errors_name_the_key(tiny: Tiny) -> None:
    with pytest.raises(ConfigError, match="split"):
        load_config(tiny.path, [*KFOLD, "split.fold=3"])
    with pytest.raises(ConfigError, match="kfold"):
        load_config(tiny.path, ["split.fold=1"])
    with pytest.raises(UserError, match="split.folds"):
        prepare(load_config(tiny.path, [*KFOLD, "split.folds=60", "split.fold=0"]))
