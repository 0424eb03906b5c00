"""Graph runs through every verb, as a user runs them: LightGBM with graph embeddings and the ``gnn``
model train, evaluate, predict (a customer unseen in training, embedded from its own edges, with the
run's graph.npz byte-for-byte unchanged), explain, serve, tune and ensemble on a tiny generated log."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import run_cli
from tests.serving import Server, customers_of, require_serving
from tests.test_graph import graph_log

pytestmark = pytest.mark.slow

DATA = """data:
  name: events
  path: log.csv
  id: customer
  time: when
  numeric: [amount]
  derive: {is_target: "sku == 99"}
  output: aggregates
  aggregates: {windows_days: [7, 30], flags: [is_target]}
  graph: {item: sku, weight: amount, normalise: tfidf, dims: 4, hops: 2}
  labels: {cutoff: 2024-03-01, horizon_days: 28, where: "is_target == 1"}
evaluate: {threshold: max_f1, bootstrap: 50}
"""
LIGHTGBM = "name: graph_lgbm\nseed: 1\nmodel: {name: lightgbm, n_estimators: 40}\n" + DATA
GNN = (
    "name: graph_gnn\nseed: 1\nmodel: {name: gnn, branch_units: 8, hidden: [8]}\n"
    "train: {epochs: 3, batch_size: 64, tensorboard: false}\n" + DATA
)
TUNE = GNN.replace("name: graph_gnn", "name: graph_tune") + (
    "tune: {tuner: random, objective: {metric: val_pr_auc}, max_trials: 2, top_k: 1,\n"
    "       space: {model.branch_units: {int: [4, 16]}}}\n"
)


def _last_line(result) -> Path:
    assert result.returncode == 0, result.stderr[-3000:]
    return Path(result.stdout.strip().splitlines()[-1])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("graph_runs")
    graph_log(600).to_csv(root / "log.csv", index=False)
    for name, text in (("lgbm.yaml", LIGHTGBM), ("gnn.yaml", GNN), ("tune.yaml", TUNE)):
        (root / name).write_text(text)
    new = pd.DataFrame(
        [(9001, "2024-02-03", 1, 5.0), (9001, "2024-02-10", 2, 8.0), (9001, "2024-02-11", 12345, 1.0)],
        columns=["customer", "when", "sku", "amount"],
    )
    pd.concat([pd.read_csv(root / "log.csv").query("customer < 5"), new]).to_csv(
        root / "new.csv", index=False
    )
    return root


@pytest.fixture(scope="module")
def lgbm(folder: Path) -> Path:
    """The LightGBM run with graph embeddings, trained once: the first test takes it through every
    verb, the second ensembles it with the gnn."""
    return _last_line(run_cli("train", str(folder / "lgbm.yaml"), "--runs-dir", str(folder / "runs"), "-q"))


def test_lightgbm_with_graph_embeddings_through_train_evaluate_predict_explain(
    folder: Path, lgbm: Path
) -> None:
    run = lgbm
    names = json.loads((run / "run.json").read_text())["feature_names"]
    assert "graph_svd_1" in names and "graph_hop2_count" in names
    saved = _sha(run / "graph.npz")
    evaluated = run_cli("evaluate", str(run))
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    out = folder / "scores.csv"
    predicted = run_cli("predict", str(run), str(folder / "new.csv"), "--output", str(out))
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    scores = pd.read_csv(out)
    assert 9001 in set(scores["id"]) and len(scores) == 6  # the unseen customer, scored without refitting
    unknown = pd.read_csv(folder / "new.csv")["sku"].isin([99, 12345]).sum()  # 99: only after the cutoff
    assert f"{unknown} graph unseen item events" in predicted.stderr  # dropped and counted
    explained = run_cli("explain", str(run))
    assert explained.returncode == 0, explained.stderr[-3000:]
    assert _sha(run / "graph.npz") == saved


def test_serve_scores_a_graph_run_as_predict_does_unseen_customer_included(folder: Path, lgbm: Path) -> None:
    """Customers sent with their events (items and weights among them) score as ``seqexp predict``
    scores the same log; the unseen customer is embedded from its own edges, graph.npz untouched."""
    require_serving()
    log = pd.read_csv(folder / "new.csv")
    out = folder / "serve_expected.csv"
    done = run_cli("predict", str(lgbm), str(folder / "new.csv"), "-o", str(out), "-q")
    assert done.returncode == 0, done.stderr[-3000:]
    expected = pd.read_csv(out)
    saved = _sha(lgbm / "graph.npz")
    server = Server(lgbm)
    try:
        status, answer = server.call("POST", "/predict", {"customers": customers_of(log, "customer")})
    finally:
        _, err = server.stop()
    assert status == 200, answer
    assert "Traceback" not in err, err
    got = pd.DataFrame(answer["customers"])
    merged = expected.merge(got, on="id", suffixes=("_predict", "_serve"))
    assert len(merged) == len(expected) == len(got) == 6 and 9001 in set(merged["id"])
    for column in ("score", "probability", "y_pred"):
        assert (merged[f"{column}_predict"] == merged[f"{column}_serve"]).all(), column
    assert _sha(lgbm / "graph.npz") == saved


def test_gnn_through_train_predict_tune_and_an_ensemble(folder: Path, lgbm: Path) -> None:
    runs = folder / "runs"
    gnn = _last_line(run_cli("train", str(folder / "gnn.yaml"), "--runs-dir", str(runs), "-q"))
    metrics = json.loads((gnn / "metrics.json").read_text())
    assert metrics["model"] == "gnn" and metrics["baseline"]["model"] == "lightgbm"
    assert "vs_baseline" in metrics
    out = folder / "gnn_scores.csv"
    predicted = run_cli("predict", str(gnn), str(folder / "new.csv"), "--output", str(out))
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    assert 9001 in set(pd.read_csv(out)["id"])
    tuned = _last_line(run_cli("tune", str(folder / "tune.yaml"), "--runs-dir", str(runs), "-q", timeout=600))
    assert tuned.is_dir()
    combined = _last_line(run_cli("ensemble", str(gnn), str(lgbm), "--runs-dir", str(runs)))
    predicted = run_cli("predict", str(combined), str(folder / "new.csv"), "--output", str(folder / "e.csv"))
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    assert len(pd.read_csv(folder / "e.csv")) == 6


def test_gnn_without_hops_is_refused_before_any_run_folder(folder: Path) -> None:
    (folder / "nohops.yaml").write_text(GNN.replace("dims: 4, hops: 2", "dims: 4, hops: 0"))
    result = run_cli("train", str(folder / "nohops.yaml"), "--runs-dir", str(folder / "refused"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "data.graph" in result.stderr and not (folder / "refused").exists()
