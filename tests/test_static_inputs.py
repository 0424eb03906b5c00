"""``output: sequence_and_aggregates``: the aggregates travel beside the sequence as a static block.

Balancers resample the two together (a synthetic row's static part comes from the same neighbours
and the same interpolation as its sequence), scaling fits the block on train and saves it, Keras
sequence models read it as a second input, the non-neural models and the baseline read it, and a
run trained that way evaluates, predicts and ensembles from its folder. The data is the small event
log of ``tests/fixtures/repeated_layout`` (160 customers, 10% positive).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from seqexp import components  # noqa: F401  (fills the registries)
from seqexp.balancing import balance
from seqexp.config.loading import load_config
from seqexp.config.sections import TrainConfig
from seqexp.data.inputs import SequenceAndStatic
from seqexp.errors import DataError, UserError
from seqexp.models import build_estimator, load_estimator
from seqexp.models.base import FitData, InputSpec
from seqexp.models.features import table_features
from seqexp.registry import BALANCERS, MODELS
from seqexp.runfolder import files
from tests.test_registry import _balancer_cfg, _sequences

LOG = Path(__file__).parent / "fixtures" / "repeated_layout"
DATA = {
    "name": "events", "path": str(LOG / "events.csv"), "id": "customer_id", "time": "timestamp",
    "numeric": ["amount"], "categorical": ["type"], "sequence_length": 5,
    "derived": ["days_since_previous", "days_before_reference"], "output": "sequence_and_aggregates",
    "aggregates": {"windows_days": [30, 90], "stats": ["sum", "mean"], "top_k": 3, "log1p": True},
    "cache": False,
}  # fmt: skip
LABELS = {"path": str(LOG / "labels.csv"), "id": "customer_id", "column": "label"}


def config(tmp_path: Path, name: str, **sections):
    raw = {
        "name": name, "seed": 7, "data": {**DATA, "labels": LABELS},
        "split": {"train": 0.7, "val": 0.15, "test": 0.15}, "balance": {"name": "smote", "k_neighbors": 3},
        "train": {"epochs": 2, "batch_size": 32, "tensorboard": False},
        "evaluate": {"threshold": "max_f1", "bootstrap": 50}, **sections,
    }  # fmt: skip
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_config(path)


# --------------------------------------------------------------------------- balancing


def test_smote_interpolates_sequence_and_static_from_the_same_neighbours() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4, 3)).astype(np.float32)
    static = (10 * rng.normal(size=(60, 5))).astype(np.float32)  # independent of the sequence
    y = np.zeros(60, dtype=np.int64)
    y[:8] = 1
    out = balance(BALANCERS.get("smote").config_class(k_neighbors=3), X, y, None, [], seed=0, static=static)
    synthetic = np.flatnonzero(out.origin < 0)
    assert len(synthetic) == 52 - 8 and out.static is not None and out.static.shape == (len(out.y), 5)
    seq, stat = X[y == 1].reshape(8, -1).astype(np.float64), static[y == 1].astype(np.float64)
    pairs = [(i, j) for i in range(8) for j in range(8) if i != j]
    for row in synthetic:
        target = out.X[row].reshape(-1).astype(np.float64)
        fits = []  # each pair's best interpolation factor and how far the sequence is from it
        for i, j in pairs:
            step = seq[j] - seq[i]
            lam = float(np.dot(target - seq[i], step) / np.dot(step, step))
            fits.append((float(np.abs(seq[i] + lam * step - target).max()), lam, i, j))
        residual, lam, i, j = min(fits)
        assert residual < 1e-4 and -1e-6 <= lam <= 1 + 1e-6  # the sequence: between two minority rows
        # ... and the static part between the SAME two rows, by the same factor.
        np.testing.assert_allclose(out.static[row], stat[i] + lam * (stat[j] - stat[i]), atol=1e-3)


@pytest.mark.parametrize("entry", list(BALANCERS), ids=lambda e: e.name)
def test_every_balancer_keeps_static_rows_with_their_sequences(entry) -> None:
    X, y, mask = _sequences()
    static = np.random.default_rng(1).normal(size=(len(y), 4)).astype(np.float32)
    out = balance(_balancer_cfg(entry), X, y, mask, [[2, 3, 4]], seed=0, static=static)
    assert out.static is not None and out.static.shape == (len(out.y), 4)
    copied = out.origin >= 0
    np.testing.assert_array_equal(out.static[copied], static[out.origin[copied]])
    np.testing.assert_array_equal(out.X[copied], X[out.origin[copied]])
    synthetic = ~copied
    if synthetic.any():  # padding repaired as without a static block; static values in range
        assert np.all(out.X[synthetic][~out.mask[synthetic]] == 0.0)
        assert np.all(out.static[synthetic] >= static.min(axis=0))
        assert np.all(out.static[synthetic] <= static.max(axis=0))
    assert isinstance(out.inputs, SequenceAndStatic)
    assert balance(_balancer_cfg(entry), X, y, mask, [[2, 3, 4]], seed=0).static is None


# --------------------------------------------------------------------------- models


def _with_static(n: int = 120):
    """Sequences with padding beside a static vector that carries the class."""
    X, _, mask = _sequences(n=n)
    static = np.random.default_rng(2).normal(size=(n, 4)).astype(np.float32)
    y = (static[:, 0] > 0.8).astype(np.int64)
    return SequenceAndStatic(X, static), y


STATIC_READERS = [e for e in MODELS if "sequence" in e.tags and "anomaly" not in e.tags]


@pytest.mark.parametrize("entry", STATIC_READERS, ids=lambda e: e.name)
def test_models_read_the_static_vector_beside_the_sequence(entry, tmp_path: Path) -> None:
    rows, y = _with_static()
    spec = InputSpec(rows.sequence.shape[1:], masked=True, static=4)
    train_cfg = TrainConfig(epochs=1, batch_size=32, early_stopping=None, tensorboard=False)
    estimator = build_estimator(entry.config_class(), train_cfg, spec, seed=1)
    estimator.fit(FitData(rows, y), FitData(rows[:40], y[:40]), train_cfg=train_cfg, callbacks=[])
    scores = estimator.predict(rows)
    assert scores.shape == (len(y),) and np.all((scores >= 0) & (scores <= 1))
    moved = estimator.predict(SequenceAndStatic(rows.sequence, rows.static + 3.0))
    assert np.abs(moved - scores).max() > 1e-4, "the static vector makes no difference"
    estimator.save(tmp_path)
    again = load_estimator(estimator.kind, tmp_path, trust=True)
    np.testing.assert_allclose(again.predict(rows), scores, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(again.batch_scorer()(rows[:50]), scores[:50], rtol=1e-5, atol=1e-6)
    if "keras" in entry.tags:
        assert [t.name for t in again.model.inputs] == ["events", "static"]
        with pytest.raises(DataError, match="reads a sequence and a static vector"):
            again.predict(rows.sequence)


def test_non_neural_models_read_the_static_vector_then_the_last_steps() -> None:
    rows, _ = _with_static(n=10)
    features = table_features(rows, last_steps=2)
    np.testing.assert_array_equal(features[:, :4], rows.static)
    np.testing.assert_array_equal(features[:, 4:], rows.sequence[:, -2:, :].reshape(10, -1))
    np.testing.assert_array_equal(table_features(rows, last_steps=0), rows.static)


def test_the_autoencoder_refuses_a_static_vector(tmp_path: Path) -> None:
    from seqexp.pipeline.data_check import check_data

    spec = InputSpec((5, 5), masked=True, static=4)
    with pytest.raises(UserError, match="lstm_autoencoder .* no place for the static vector"):
        build_estimator(MODELS.get("lstm_autoencoder").config_class(), TrainConfig(), spec, seed=0)
    cfg = config(tmp_path, "ae", model={"name": "lstm_autoencoder"})
    with pytest.raises(UserError, match="data.output: sequence_and_aggregates"):
        check_data(cfg)  # seqexp validate says so before any data is read


# --------------------------------------------------------------------------- scaling


def test_the_static_block_is_scaled_on_train_and_saved_with_the_scaler(tmp_path: Path) -> None:
    from seqexp.pipeline.prepare import prepare
    from seqexp.pipeline.scaling import Standardizer

    prepared = prepare(config(tmp_path, "scaling", model={"name": "lstm"}))
    data, split, scaler = prepared.data, prepared.split, prepared.scaler
    assert data.static is not None and scaler.static is not None
    assert scaler.static.feature_names == data.static_names and prepared.spec.static == len(data.static_names)
    raw = data.static[split.train].astype(np.float64)
    np.testing.assert_allclose(scaler.static.mean, np.nanmean(raw, axis=0), rtol=1e-5, atol=1e-6)
    fill, mean = np.asarray(scaler.static.fill), np.asarray(scaler.static.mean)
    std = np.asarray(scaler.static.std)
    val_raw = data.static[split.val].astype(np.float64)
    expected = (np.where(np.isnan(val_raw), fill, val_raw) - mean) / std
    np.testing.assert_allclose(prepared.val.static, expected, rtol=1e-4, atol=1e-4)
    assert np.nanmean(raw, axis=0).tolist() != np.nanmean(data.static.astype(np.float64), axis=0).tolist()
    scaler.save(tmp_path / "preprocess.json")
    saved = json.loads((tmp_path / "preprocess.json").read_text())
    assert saved["static"]["feature_names"] == data.static_names
    assert Standardizer.load(tmp_path / "preprocess.json") == scaler
    old = Standardizer.load(LOG / "run" / files.PREPROCESS)  # saved before the static block
    assert old.static is None and "log1p_count" in old.feature_names


def test_the_baseline_beside_a_sequence_model_reads_the_aggregates(tmp_path: Path) -> None:
    from seqexp.pipeline.fit import baseline_name
    from seqexp.pipeline.prepare import prepare

    cfg = config(tmp_path, "baseline", model={"name": "lstm"})
    prepared = prepare(cfg)
    assert baseline_name(cfg, prepared) == "lightgbm"
    features = table_features(prepared.train.inputs, last_steps=3)
    np.testing.assert_array_equal(features[:, : prepared.spec.static], prepared.train.static)
    sequence_only = {**DATA, "output": "sequence", "labels": LABELS}
    plain = config(tmp_path, "plain", model={"name": "lstm"}, data=sequence_only)
    assert baseline_name(plain, prepare(plain)) == "logistic_regression"


# --------------------------------------------------------------------------- runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A two-input LSTM and a LightGBM trained on the same sequence_and_aggregates data."""
    from seqexp.pipeline.train import train_experiment

    tmp = tmp_path_factory.mktemp("static")
    lstm = config(tmp, "lstm2", model={"name": "lstm", "units": [8], "dropout": 0.0, "dense": [8]})
    lgbm = config(tmp, "lgbm2", model={"name": "lightgbm", "n_estimators": 50},
                  evaluate={"threshold": "max_f1", "bootstrap": 50, "baseline": "none"})  # fmt: skip
    return {
        "lstm": train_experiment(lstm, runs_dir=tmp / "runs").run_dir,
        "lightgbm": train_experiment(lgbm, runs_dir=tmp / "runs").run_dir,
        "tmp": tmp,
    }


def test_a_two_input_lstm_trains_and_its_folder_reproduces_it(runs: dict[str, Path]) -> None:
    from seqexp.commands.evaluate import evaluate_run

    run = runs["lstm"]
    assert "beside a static vector of 24 feature(s)" in (run / files.LOG).read_text()
    assert "static (InputLayer)" in (run / "model_summary.txt").read_text()
    metrics = json.loads((run / files.METRICS).read_text())
    assert metrics["baseline"]["model"] == "lightgbm"  # on the aggregates, beside the sequence model
    again = evaluate_run(run)
    assert again.notes == []  # same data fingerprint: the run's own test customers
    for key in ("pr_auc", "roc_auc", "f1", "mcc", "brier", "log_loss"):
        assert again.metrics["test"][key] == pytest.approx(metrics["test"][key], abs=1e-9), key
    assert again.metrics["threshold"] == metrics["threshold"]


def test_predict_scores_new_customers_with_both_inputs(runs: dict[str, Path]) -> None:
    from seqexp.commands.predict import predict_run

    source = runs["tmp"] / "to_score.yaml"
    source.write_text(yaml.safe_dump({"data": DATA}))  # the log, no labels
    for name in ("lstm", "lightgbm"):
        out = runs["tmp"] / f"{name}_scores.csv"
        summary = predict_run(runs[name], source, out)
        scored = pd.read_csv(out, dtype={"id": str}).set_index("id")
        assert summary.rows == 160 == len(scored)
        test = pd.read_csv(runs[name] / files.PREDICTIONS, dtype={"id": str}).set_index("id")
        np.testing.assert_allclose(scored.loc[test.index, "score"], test["score"], rtol=1e-5, atol=1e-6)


def test_an_ensemble_of_a_two_input_lstm_and_lightgbm(runs: dict[str, Path]) -> None:
    from seqexp.commands.ensemble import build_ensemble
    from seqexp.commands.evaluate import evaluate_run

    built = build_ensemble([runs["lstm"], runs["lightgbm"]], method="mean", runs_dir=runs["tmp"] / "ens")
    again = evaluate_run(built.run_dir)  # rescored through both members' saved models
    assert again.metrics["test"]["pr_auc"] == pytest.approx(built.metrics["test"]["pr_auc"], abs=1e-6)
    assert again.metrics["test"]["roc_auc"] == pytest.approx(built.metrics["test"]["roc_auc"], abs=1e-6)


@pytest.mark.slow
def test_a_search_trains_two_input_trials(tmp_path: Path) -> None:
    """keras-tuner trials (in their own process) balance and feed both inputs too."""
    from seqexp.config.loading import validate_config
    from seqexp.tuning.search import run_tune

    small = {"epochs": 1, "batch_size": 64, "tensorboard": False, "early_stopping": None}
    model = {"name": "lstm", "units": [4], "dropout": 0.0, "dense": []}
    cfg = config(tmp_path, "tune2", model=model, train=small)
    space = {"balance.name": {"choice": ["smote", "class_weight"]}, "balance.k_neighbors": {"int": [2, 3]}}
    raw = cfg.model_dump(mode="json")
    raw["tune"] = {"tuner": "random", "objective": {"metric": "val_pr_auc"}, "max_trials": 2, "top_k": 1,
                   "space": space}  # fmt: skip
    result = run_tune(validate_config(raw), runs_dir=tmp_path / "runs")
    with (result.folder / "trials.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and {r["status"] for r in rows} == {"completed"}
    (top,) = sorted((result.folder / "top").glob("*"))
    assert "static (InputLayer)" in (top / "model_summary.txt").read_text()
