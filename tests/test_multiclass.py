"""Multi-class targets: the next-shop generator, the model contract for n_classes > 2, balancers,
a tiny end-to-end train / evaluate / predict through the CLI, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqexp import components  # noqa: F401
from seqexp.balancing import balance
from seqexp.config.experiment import ExperimentConfig
from seqexp.config.sections import TrainConfig
from seqexp.data.checks import check_labels
from seqexp.data.next_shop import SyntheticNextShopConfig, build_synthetic_next_shop
from seqexp.errors import DataError, UserError
from seqexp.models import build_estimator, load_estimator
from seqexp.models.base import FitData, InputSpec
from seqexp.registry import BALANCERS, MODELS
from seqexp.tasks.multiclass import MulticlassTask
from seqexp.tasks.multiclass_metrics import multiclass_metrics
from tests.conftest import run_cli

K = 5  # classes in the unit tests

TINY_NEXT_SHOP = """
name: tiny_next_shop
seed: 3
data: {name: synthetic_next_shop, customers: 400, shops: 6, sequence_length: 5}
balance: {name: class_weight}
model: {name: lstm, units: [8], dropout: 0.0, dense: [8]}
train: {epochs: 2, batch_size: 64, tensorboard: false}
"""


def _next_shop(**kw) -> object:
    return build_synthetic_next_shop(SyntheticNextShopConfig(**kw), seed=0)


# --------------------------------------------------------------------------- the generator


def test_next_shop_is_seeded_and_deterministic() -> None:
    a, b = _next_shop(customers=300, shops=8), _next_shop(customers=300, shops=8)
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != _next_shop(customers=300, shops=8, seed=5).fingerprint()
    assert a.n_classes == 8 and a.schema["classes"][0] == "shop_0"
    assert set(np.unique(a.y)) <= set(range(8)) and a.X.shape == (300, 10, 2 + 8)
    unlabelled = build_synthetic_next_shop(
        SyntheticNextShopConfig(customers=300, shops=8), seed=0, labelled=False
    )
    assert np.all(unlabelled.y == -1) and np.array_equal(unlabelled.X, a.X)


def test_next_shop_signal_beats_the_most_frequent_shop() -> None:
    """The next shop depends on the last one: a logistic regression on the last shop's one-hot beats
    always answering the most frequent shop by a wide margin on held-out customers."""
    from sklearn.linear_model import LogisticRegression

    data = _next_shop(customers=2000, shops=10)
    last = data.X[:, -1, 2:]  # the latest purchase's shop one-hot
    train, test = slice(0, 1500), slice(1500, None)
    majority = np.bincount(data.y[train]).argmax()
    base = np.mean(data.y[test] == majority)
    model = LogisticRegression(max_iter=300).fit(last[train], data.y[train])
    assert model.score(last[test], data.y[test]) > base + 0.1


# --------------------------------------------------------------------------- the model contract


def _sequences(n: int = 150, steps: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, steps, 4)).astype(np.float32)
    lengths = rng.integers(1, steps + 1, size=n)
    mask = np.arange(steps)[None, :] >= steps - lengths[:, None]
    X[~mask] = 0.0
    y = rng.integers(0, K, size=n)
    return X, y, mask


def _cases() -> list:
    cases = [
        (e, kind)
        for e in MODELS
        # graph models read a customer-item graph, which these fixtures have none of
        if "anomaly" not in e.tags and "graph" not in e.tags
        for kind in ("sequence", "table")
        if kind in e.tags
    ]
    return [pytest.param(e, kind, id=f"{e.name}-{kind}") for e, kind in cases]


@pytest.mark.parametrize(("entry", "kind"), _cases())
def test_multiclass_model_contract(entry, kind, tmp_path: Path) -> None:
    """n_classes probabilities per row summing to 1; saved and reloaded, the same probabilities."""
    X, y, _ = _sequences()
    if kind == "table":
        X = X[:, -1, :].copy()
    spec = InputSpec(X.shape[1:], masked=kind == "sequence", n_classes=K)
    train_cfg = TrainConfig(epochs=1, batch_size=32, early_stopping=None, tensorboard=False)
    extra = {"max_iter": 5} if entry.name == "gradient_boosting" else {}
    estimator = build_estimator(entry.config_class(**extra), train_cfg, spec, seed=1)
    history = estimator.fit(FitData(X, y), FitData(X[:40], y[:40]), train_cfg=train_cfg, callbacks=[])
    assert "loss" in history[0] and np.isfinite(history[0]["loss"])
    proba = estimator.predict(X)
    assert proba.shape == (len(X), K)
    assert np.all(proba >= 0) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    estimator.save(tmp_path)
    again = load_estimator(estimator.kind, tmp_path, trust=True)
    np.testing.assert_allclose(again.predict(X), proba, rtol=1e-6, atol=1e-7)


def test_keras_class_weight_trains_a_multiclass_model() -> None:
    X, y, _ = _sequences()
    spec = InputSpec(X.shape[1:], masked=True, n_classes=K)
    train_cfg = TrainConfig(epochs=1, batch_size=32, early_stopping=None, tensorboard=False)
    estimator = build_estimator(MODELS.get("gru").config_class(units=[4], dense=[]), train_cfg, spec, seed=0)
    weights = {c: float(w) for c, w in enumerate(np.linspace(0.5, 2.0, K))}
    history = estimator.fit(FitData(X, y, weights), FitData(X, y), train_cfg=train_cfg, callbacks=[])
    assert np.isfinite(history[0]["loss"])


def test_autoencoder_and_focal_loss_refuse_multiclass() -> None:
    spec = InputSpec((5, 4), masked=True, n_classes=K)
    with pytest.raises(UserError, match="lstm_autoencoder treats the minority class"):
        build_estimator(MODELS.get("lstm_autoencoder").config_class(), None, spec, seed=0)
    focal = TrainConfig(loss="focal", tensorboard=False)
    with pytest.raises(UserError, match="train.loss: focal is for binary targets"):
        build_estimator(MODELS.get("lstm").config_class(units=[4]), focal, spec, seed=0)


# --------------------------------------------------------------------------- balancers


@pytest.mark.parametrize("name", ["none", "class_weight", "random_under", "random_over", "smote"])
def test_balancers_on_multiclass_targets(name: str) -> None:
    """Training split only, every class kept; copies unchanged; synthetic one-hot rows stay one-hot."""
    data = _next_shop(customers=300, shops=4)
    cfg = BALANCERS.get(name).config_class.model_validate(
        {"name": name, **({"k_neighbors": 3} if name == "smote" else {})}
    )
    out = balance(cfg, data.X, data.y, data.mask, data.onehot_groups, seed=0)
    before, after = np.bincount(data.y, minlength=4), np.bincount(out.y, minlength=4)
    copied = out.origin >= 0
    assert np.array_equal(out.X[copied], data.X[out.origin[copied]])
    assert np.array_equal(out.y[copied], data.y[out.origin[copied]])
    if name == "class_weight":
        assert sorted(out.class_weight) == [0, 1, 2, 3]
        assert out.class_weight[int(before.argmin())] > out.class_weight[int(before.argmax())]
    if name in ("random_over", "smote"):
        assert np.all(after >= before) and len(set(after)) == 1  # every class up to the largest
    if name == "random_under":
        assert np.all(after <= before) and len(set(after)) == 1
    synthetic = ~copied
    if synthetic.any():
        shops = out.X[synthetic][..., 2:][out.mask[synthetic]]
        assert set(np.unique(shops)) <= {0.0, 1.0} and np.all(shops.sum(axis=1) == 1.0)
        assert np.all(out.X[synthetic][~out.mask[synthetic]] == 0.0)


# --------------------------------------------------------------------------- metrics and refusals


def test_multiclass_metrics_against_sklearn_definitions() -> None:
    y = np.array([0, 1, 2, 2, 1, 0, 2])
    proba = np.eye(3)[[0, 1, 2, 1, 1, 0, 2]] * 0.7 + 0.1
    metrics = multiclass_metrics(y, proba)
    assert metrics["accuracy"] == pytest.approx(6 / 7)
    assert metrics["f1_macro"] < 1.0 and metrics["n_classes"] == 3 and metrics["auc_classes"] == 3
    assert 0.0 < metrics["mcc"] < 1.0 and np.isnan(metrics["top_3_accuracy"])  # 3 classes: meaningless
    # A class absent from y has no one-vs-rest AUC: it is left out, and the count says so.
    assert multiclass_metrics(np.array([0, 1, 0, 1]), np.full((4, 3), 1 / 3))["auc_classes"] == 2


def check_config(cfg, n_classes: int) -> None:
    MulticlassTask([f"c{i}" for i in range(n_classes)]).check_config(cfg)


def test_binary_only_settings_are_refused_for_multiclass() -> None:
    cfg = ExperimentConfig.model_validate({"evaluate": {"threshold": "max_f1"}})
    with pytest.raises(UserError, match="evaluate.threshold: the target has 9 classes"):
        check_config(cfg, 9)
    cfg = ExperimentConfig.model_validate({"train": {"early_stopping": {"monitor": "val_pr_auc"}}})
    with pytest.raises(UserError, match="train.early_stopping.monitor: val_pr_auc is a binary"):
        check_config(cfg, 9)
    check_config(ExperimentConfig(), 9)  # the defaults are fine
    with pytest.raises(DataError, match="the target has 3 classes"):
        check_labels(np.array([0, 1, 3]), 3)


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def next_shop_run(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("multiclass")
    config = folder / "tiny_next_shop.yaml"
    config.write_text(TINY_NEXT_SHOP)
    result = run_cli("train", str(config), "--runs-dir", str(folder / "runs"), "--quiet")
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1]), config


def test_train_writes_a_multiclass_run(next_shop_run) -> None:
    run_dir, _ = next_shop_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert (
        metrics["task"] == "multiclass" and metrics["decision"] == "argmax" and metrics["threshold"] is None
    )
    names = metrics["classes"]
    assert len(names) == metrics["n_classes"] == 6
    for key in ("f1_macro", "f1_weighted", "precision_macro", "recall_macro", "mcc", "accuracy",
                "balanced_accuracy", "log_loss", "roc_auc_ovr_macro", "pr_auc_ovr_macro"):  # fmt: skip
        assert np.isfinite(metrics["test"][key]), key
    assert set(metrics["classification_report"]["test"]) >= set(names)
    assert metrics["most_frequent"]["model"] == "most_frequent"
    assert metrics["most_frequent"]["test"]["recall_macro"] == pytest.approx(1 / 6)  # one class, always
    assert metrics["baseline"]["model"] == "logistic_regression"
    matrix = pd.read_csv(run_dir / "confusion_matrix.csv", index_col=0)
    assert matrix.shape == (6, 6) and list(matrix.columns) == names
    assert matrix.to_numpy().sum() == metrics["test"]["rows"]
    assert (run_dir / "confusion_matrix.png").is_file()
    predictions = pd.read_csv(run_dir / "predictions.csv")
    assert list(predictions.columns) == ["id", "y_true", "y_pred"] + [f"p_{n}" for n in names]
    proba = predictions[[f"p_{n}" for n in names]].to_numpy()
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-4)
    assert list(predictions["y_pred"]) == [names[i] for i in proba.argmax(axis=1)]
    accuracy = np.mean(predictions["y_pred"] == predictions["y_true"])
    assert accuracy == pytest.approx(metrics["test"]["accuracy"])
    assert json.loads((run_dir / "class_counts.json").read_text())["class_weight"]


@pytest.mark.slow  # five CLI calls
def test_evaluate_and_predict_a_multiclass_run(next_shop_run, tmp_path: Path) -> None:
    run_dir, config = next_shop_run
    result = run_cli("evaluate", str(run_dir), "--quiet")
    assert result.returncode == 0, result.stderr
    again = json.loads((Path(result.stdout.strip()) / "metrics.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert again["test"] == pytest.approx(metrics["test"])
    out = tmp_path / "scores.csv"
    result = run_cli("predict", str(run_dir), str(config), "-o", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    scores = pd.read_csv(out)
    assert list(scores.columns) == ["id", "y_pred", "p_pred"] and len(scores) == 400
    assert scores["y_pred"].isin(metrics["classes"]).all() and scores["p_pred"].between(0, 1).all()
    # Thresholds and risk bands belong to binary runs: refused, with what to do.
    refused = run_cli("evaluate", str(run_dir), "--threshold", "0.3")
    assert refused.returncode == 2 and "thresholds do not apply" in refused.stderr
    refused = run_cli("predict", str(run_dir), str(config), "--bands", "0.2", "-o", str(out))
    assert refused.returncode == 2 and "risk bands apply to binary scores only" in refused.stderr
    refused = run_cli("ensemble", str(run_dir), str(run_dir), "--runs-dir", str(tmp_path))
    assert refused.returncode == 2 and "multi-class run" in refused.stderr


def test_a_threshold_rule_is_refused_at_train(next_shop_run, tmp_path: Path) -> None:
    _, config = next_shop_run
    result = run_cli("train", str(config), "--runs-dir", str(tmp_path), "--set", "evaluate.threshold=max_f1")
    assert result.returncode == 2
    assert (
        "evaluate.threshold: the target has 6 classes" in result.stderr and "Traceback" not in result.stderr
    )


def test_tune_refuses_a_multiclass_target(write_config, tmp_path: Path) -> None:
    config = write_config(
        TINY_NEXT_SHOP.replace("balance: {name: class_weight}", "")
        + "tune: {tuner: random, objective: {metric: val_loss, direction: min}, max_trials: 1,\n"
        "       space: {model.units: {choice: [[4], [8]]}}}\n"
    )
    result = run_cli("tune", str(config), "--runs-dir", str(tmp_path))
    assert result.returncode == 2 and "supports binary targets only" in result.stderr
