"""The lightgbm model: early stopping on validation, class weights, multi-class, determinism, a text
file instead of a pickle (so `seqexp evaluate` needs no --trust-run), and no import on light paths."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seqexp import components  # noqa: F401
from seqexp.config.sections import TrainConfig
from seqexp.errors import UserError
from seqexp.models import build_estimator, load_estimator
from seqexp.models.base import FitData, InputSpec
from seqexp.models.lgbm import LightGBMConfig
from seqexp.registry import MODELS
from seqexp.runfolder.files import LIGHTGBM_MODEL, LIGHTGBM_STATE
from tests.conftest import ROOT, TINY, run_cli

TRAIN = TrainConfig(tensorboard=False)


def _table(n: int = 600, classes: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A table whose first two columns carry the class, the other four noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    if classes == 2:
        y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.8, size=n) > 1.3).astype(np.int64)
    else:
        y = np.digitize(X[:, 0] + rng.normal(scale=0.5, size=n), [-0.5, 0.5]).astype(np.int64)
    return X, y


def _fit(X, y, *, class_weight=None, n_classes: int = 2, seed: int = 1, **cfg):
    spec = InputSpec(X.shape[1:], masked=False, n_classes=n_classes)
    estimator = build_estimator(LightGBMConfig(**cfg), TRAIN, spec, seed=seed)
    cut = int(len(X) * 0.7)
    history = estimator.fit(
        FitData(X[:cut], y[:cut], class_weight), FitData(X[cut:], y[cut:]), train_cfg=TRAIN, callbacks=[]
    )
    return estimator, history


def test_it_is_registered_as_a_model_that_is_not_pickled() -> None:
    entry = MODELS.get("lightgbm")
    assert entry.extras == {
        "kind": "lightgbm",
        "loader": "seqexp.models.lgbm:LightGBMEstimator",
        "pickled": False,
        "tensorflow": False,
    }
    assert {"sequence", "table"} <= entry.tags and "keras" not in entry.tags
    defaults = LightGBMConfig()
    assert defaults.scale_pos_weight == 1.0  # balancing is the balancer's job
    for name, field in LightGBMConfig.model_fields.items():
        assert name == "name" or field.description, name


def test_early_stopping_keeps_fewer_trees_than_the_most_allowed() -> None:
    X, y = _table()
    estimator, history = _fit(X, y, n_estimators=500, early_stopping_rounds=20, learning_rate=0.2)
    assert estimator.trees < 500
    assert len(history) == estimator.trees + 20  # it stops 20 rounds after the best one
    assert {"epoch", "loss", "val_loss", "val_auc", "val_pr_auc"} <= set(history[0])
    best = min(range(len(history)), key=lambda i: history[i]["val_loss"])
    assert best + 1 == estimator.trees  # the kept round is the best validation loss
    without, rows = _fit(X, y, n_estimators=60, early_stopping_rounds=None, learning_rate=0.2)
    assert without.trees == 60 and len(rows) == 60


def test_the_watched_metric_decides_where_it_stops() -> None:
    X, y = _table()
    estimator, history = _fit(X, y, metric="pr_auc", early_stopping_rounds=15, learning_rate=0.2)
    best = max(range(len(history)), key=lambda i: history[i]["val_pr_auc"])
    assert best + 1 == estimator.trees


def test_same_seed_same_model_and_bagging_follows_the_seed() -> None:
    X, y = _table()
    bagged = {"bagging_fraction": 0.7, "bagging_freq": 1, "feature_fraction": 0.7}
    a, _ = _fit(X, y, seed=3, **bagged)
    b, _ = _fit(X, y, seed=3, **bagged)
    c, _ = _fit(X, y, seed=4, **bagged)
    assert a.booster.model_to_string() == b.booster.model_to_string()  # the same trees, byte for byte
    assert np.array_equal(a.predict(X), b.predict(X))
    assert not np.array_equal(a.predict(X), c.predict(X))


def test_class_weights_from_the_balancer_change_the_model() -> None:
    X, y = _table()
    plain, _ = _fit(X, y, early_stopping_rounds=None, n_estimators=50)
    weighted, _ = _fit(X, y, class_weight={0: 1.0, 1: 5.0}, early_stopping_rounds=None, n_estimators=50)
    assert not np.allclose(plain.predict(X), weighted.predict(X))
    assert weighted.predict(X).mean() > plain.predict(X).mean() + 0.05  # positives weigh more


def test_saved_as_lightgbm_text_and_reloaded_to_identical_scores(tmp_path: Path) -> None:
    X, y = _table()
    estimator, _ = _fit(X, y)
    scores = estimator.predict(X)
    written = estimator.save(tmp_path)
    assert written == tmp_path / LIGHTGBM_MODEL
    text = written.read_text()
    assert text.startswith("tree\n") and "Tree=0" in text  # LightGBM's own format, no pickle
    state = json.loads((tmp_path / LIGHTGBM_STATE).read_text())
    assert state["trees"] == estimator.trees and state["format"] == "lightgbm text"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([LIGHTGBM_MODEL, LIGHTGBM_STATE])
    again = load_estimator("lightgbm", tmp_path)  # trust not needed
    assert np.array_equal(again.predict(X), scores)


def test_sequences_are_read_as_per_customer_features(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 5, 3)).astype(np.float32)
    X[:100, :2] = 0.0  # padding in front
    y = (X[:, -1, 0] > 0.8).astype(np.int64)
    spec = InputSpec(X.shape[1:], masked=True)
    estimator = build_estimator(LightGBMConfig(last_steps=2), TRAIN, spec, seed=0)
    estimator.fit(FitData(X[:200], y[:200]), FitData(X[200:], y[200:]), train_cfg=TRAIN, callbacks=[])
    assert estimator.booster.num_feature() == 1 + 4 * 3 + 2 * 3  # count, 4 statistics, last 2 steps
    estimator.save(tmp_path)
    np.testing.assert_array_equal(load_estimator("lightgbm", tmp_path).predict(X), estimator.predict(X))


def test_multiclass_gives_one_probability_per_class(tmp_path: Path) -> None:
    X, y = _table(classes=3)
    estimator, history = _fit(X, y, n_classes=3)
    proba = estimator.predict(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-9)
    assert (proba.argmax(axis=1) == y).mean() > 0.6
    assert "val_loss" in history[0] and "val_auc" not in history[0]
    estimator.save(tmp_path)
    assert np.array_equal(load_estimator("lightgbm", tmp_path).predict(X), proba)


def test_binary_only_settings_are_refused_on_a_multiclass_target() -> None:
    spec = InputSpec((6,), n_classes=3)
    with pytest.raises(UserError, match="model.metric: auc is for binary targets"):
        build_estimator(LightGBMConfig(metric="auc"), TRAIN, spec, seed=0)
    with pytest.raises(UserError, match="model.scale_pos_weight"):
        build_estimator(LightGBMConfig(scale_pos_weight=5.0), TRAIN, spec, seed=0)


def test_light_commands_do_not_import_lightgbm() -> None:
    code = "import sys, seqexp.cli, seqexp.components; print('lightgbm' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_lightgbm_run_evaluates_without_trust_run(tmp_path: Path) -> None:
    trained = run_cli(
        "train", str(TINY), "--runs-dir", str(tmp_path), "-q",
        "--set", "model={name: lightgbm, n_estimators: 200}", "--set", "evaluate.baseline=none",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    run_dir = Path(trained.stdout.strip().splitlines()[-1])
    run = json.loads((run_dir / "run.json").read_text())
    assert run["estimator"] == "lightgbm"  # the kind evaluate and predict reload it by
    assert (run_dir / LIGHTGBM_MODEL).is_file() and not list(run_dir.glob("*.joblib"))
    history = (run_dir / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,") and 1 < len(history) <= 201

    evaluated = run_cli("evaluate", str(run_dir), "-q")  # no --trust-run
    assert evaluated.returncode == 0, evaluated.stderr
    again = json.loads((Path(evaluated.stdout.strip().splitlines()[-1]) / "metrics.json").read_text())
    original = json.loads((run_dir / "metrics.json").read_text())
    assert again["test"]["pr_auc"] == original["test"]["pr_auc"]
    assert again["test"]["roc_auc"] == original["test"]["roc_auc"]


@pytest.mark.parametrize(
    ("config", "rows"), [("retail_response_lightgbm.yaml", 6884), ("bank_marketing_lightgbm.yaml", 41188)]
)
def test_the_shipped_configs_train_on_the_real_data(config: str, rows: int, tmp_path: Path) -> None:
    from tests.conftest import CONFIGS, SHARED_DATA

    assert SHARED_DATA.is_dir(), f"the real data sets are expected in {SHARED_DATA}"
    shrink = ["--set", "model.n_estimators=30", "--set", "evaluate.baseline=none", "-q"]
    result = run_cli("train", str(CONFIGS / config), "--runs-dir", str(tmp_path), *shrink)
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "completed" and run["estimator"] == "lightgbm"
    assert run["data_report"].get("rows", run["data_report"].get("customers")) == rows
    assert "duration" not in run["feature_names"]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert 0.6 < metrics["test"]["roc_auc"] < 1.0
