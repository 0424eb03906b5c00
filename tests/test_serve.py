"""``seqexp serve`` on a table run (LightGBM): a real uvicorn process on loopback, called over HTTP.
The service's scores equal ``seqexp predict``'s on the same customers; bad input is a 422 naming the
field, a body over the limit a 413 naming it, never a 500; health, metadata and an OpenAPI schema
whose request model is the run's data schema; ``--workers 2``; the runs it refuses in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, run_cli
from tests.serving import Server, records, require_serving

CONFIG = """
name: serve_table
seed: 4
data: {name: table, path: customers.csv, id: id, target: y, numeric: [x, amount], categorical: [region],
       cache: false}
balance: {name: none}
model: {name: lightgbm, n_estimators: 40, num_leaves: 7, min_child_samples: 10}
evaluate: {threshold: max_f1, baseline: none, bootstrap: 0, calibration: sigmoid}
"""
MAX_CUSTOMERS, MAX_BODY = 80, 40_000


def customers(n: int, seed: int) -> pd.DataFrame:
    """Customers whose chance grows with x and amount; a few missing values."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    amount = rng.gamma(2.0, 50.0, n).round(2)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-2.4 + 1.4 * x + 0.004 * amount)))).astype(int)
    frame = pd.DataFrame({"id": np.arange(n) + 1000 * seed, "x": x, "amount": amount,
                          "region": rng.choice(["north", "south", "east"], n), "y": y})  # fmt: skip
    frame.loc[frame.index[::17], "x"] = np.nan
    return frame


@pytest.fixture(scope="module")
def table_run(tmp_path_factory) -> Path:
    from seqexp import components  # noqa: F401
    from seqexp.config.loading import load_config
    from seqexp.pipeline.train import train_experiment

    folder = tmp_path_factory.mktemp("serve_table")
    customers(1200, 0).to_csv(folder / "customers.csv", index=False)
    (folder / "config.yaml").write_text(CONFIG)
    return train_experiment(load_config(folder / "config.yaml"), runs_dir=folder / "runs").run_dir


@pytest.fixture(scope="module")
def server(table_run: Path):
    require_serving()
    serving = Server(table_run, "--max-customers", str(MAX_CUSTOMERS), "--max-body-bytes", str(MAX_BODY))
    yield serving
    code, err = serving.stop()
    assert "Traceback" not in err, err


def test_scores_equal_seqexp_predict_on_the_same_customers(server: Server, table_run: Path, tmp_path: Path):
    new = customers(60, 7).drop(columns="y")
    new.loc[3, "region"] = "atlantis"  # never seen in training: counted, encoded as all zeros
    new.to_csv(tmp_path / "new.csv", index=False)
    done = run_cli("predict", str(table_run), str(tmp_path / "new.csv"), "-o", str(tmp_path / "p.csv"), "-q")
    assert done.returncode == 0, done.stderr
    expected = pd.read_csv(tmp_path / "p.csv")
    shuffled = new.sample(frac=1.0, random_state=1)
    status, answer = server.call("POST", "/predict", {"customers": records(shuffled)})
    assert status == 200, answer
    got = pd.DataFrame(answer["customers"])
    assert list(got["id"]) == list(shuffled["id"])  # request order
    assert list(got.columns) == ["id", "score", "probability", "y_pred", "risk"]
    merged = expected.merge(got, on="id", suffixes=("_predict", "_serve"))
    assert len(merged) == len(new)
    for column in ("score", "probability", "y_pred", "risk"):
        assert (merged[f"{column}_predict"] == merged[f"{column}_serve"]).all(), column
    assert answer["unseen_levels"] == {"region": 1}
    assert any("imputed" in note for note in answer["notes"])


def test_reasons_are_the_ones_predict_explain_writes(server: Server, table_run: Path, tmp_path: Path) -> None:
    new = customers(30, 3)
    new.drop(columns="y").to_csv(tmp_path / "new.csv", index=False)
    scores = tmp_path / "scores.csv"
    result = run_cli(
        "predict", str(table_run), str(tmp_path / "new.csv"), "-o", str(scores), "--explain", "2", "-q"
    )
    assert result.returncode == 0, result.stderr
    expected = pd.read_csv(scores, keep_default_na=False)
    rows = [
        {k: (None if pd.isna(v) else v) for k, v in r.items()}
        for r in new.drop(columns="y").to_dict("records")
    ]
    status, answer = server.call("POST", "/predict", {"customers": rows, "explain": 2})
    assert status == 200, answer
    got = {c["id"]: c["reasons"] for c in answer["customers"]}
    for row in expected.itertuples():
        assert got[row.id] == [r for r in (row.reason_1, row.reason_2) if r], row.id
    assert all(len(r) == 2 and r[0] for r in got.values())


def test_one_customer(server: Server) -> None:
    status, answer = server.call("POST", "/predict", {"customers": [
        {"id": "c-1", "x": 1.5, "amount": 120.0, "region": "north", "y": "ignored"}]})  # fmt: skip
    assert status == 200, answer
    (row,) = answer["customers"]
    assert row["id"] == "c-1" and 0 <= row["score"] <= 1 and row["risk"] in ("low", "medium", "high")
    assert answer["left_out"] == [] and answer["unseen_levels"] == {}


def test_health_metadata_and_the_generated_request_model(server: Server, table_run: Path) -> None:
    assert server.call("GET", "/health") == (200, {"status": "ok", "run": table_run.name})
    status, about = server.call("GET", "/metadata")
    metrics = json.loads((table_run / "metrics.json").read_text())
    record = json.loads((table_run / "run.json").read_text())
    assert status == 200 and about["model"] == "lightgbm"
    assert about["decision"]["threshold"] == metrics["threshold"]
    assert about["decision"]["threshold_rule"] == metrics["threshold_rule"]
    assert about["calibration"]["method"] == "sigmoid"
    assert about["data"]["fingerprint"] == record["data_fingerprint"]
    assert about["test_metrics"]["pr_auc"] == metrics["test"]["pr_auc"]
    assert about["versions"]["training"] == record["versions"]
    assert {"fastapi", "uvicorn", "lightgbm"} <= set(about["versions"]["serving"])
    assert about["limits"] == {"max_customers": MAX_CUSTOMERS, "max_body_bytes": MAX_BODY}
    status, schema = server.call("GET", "/openapi.json")
    customer = schema["components"]["schemas"]["Customer"]
    assert set(customer["required"]) == {"id", "x", "amount", "region"}
    assert "east, north, south" in customer["properties"]["region"]["description"]
    assert schema["components"]["schemas"]["PredictRequest"]["properties"]["customers"]["maxItems"] == 80


ROW = {"id": 1, "x": 0.3, "amount": 80.0, "region": "south"}


@pytest.mark.parametrize(
    ("body", "where", "says"),
    [
        ({"customers": [{**ROW, "x": "high"}]}, "customers.0.x", "expected a number, or null"),
        ({"customers": [{k: v for k, v in ROW.items() if k != "amount"}]}, "customers.0.amount", "required"),
        ({"customers": [ROW], "as_of": "2024-01-01"}, "as_of", "unknown key"),
        ({"customers": [ROW], "explain": 21}, "explain", "20"),
        ({"customers": [ROW, ROW]}, "customers.1.id", "send each customer once"),
        ({"customers": []}, "customers", "at least one customer"),
        ({"customer": ROW}, "customers", "required"),
        ({"customers": [{**ROW, "id": None}]}, "customers.0.id", "customer's id"),
        ({"customers": [ROW] * (MAX_CUSTOMERS + 1)}, "customers", "at most 80 customers per request"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(server: Server, body, where: str, says: str) -> None:
    if body.get("customers") and len(body["customers"]) > MAX_CUSTOMERS:
        body = {"customers": [{**ROW, "id": i} for i in range(MAX_CUSTOMERS + 1)]}
    status, answer = server.call("POST", "/predict", body)
    assert status == 422, answer
    assert answer["error"].startswith(f"{where}: ") and says in answer["error"], answer["error"]
    assert answer["detail"] and "Traceback" not in json.dumps(answer)


def test_not_json_and_too_large_bodies(server: Server) -> None:
    status, answer = server.call("POST", "/predict", raw=b'{"customers": [', headers={})
    assert status == 422 and answer["error"].startswith("body: not valid JSON"), answer
    status, answer = server.call("POST", "/predict", raw=b"customers=1",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert (
        status == 422 and "not valid JSON" in answer["error"] and "x-www-form-urlencoded" in answer["error"]
    )
    padded = json.dumps({"customers": [ROW]}).encode() + b" " * MAX_BODY
    status, answer = server.call("POST", "/predict", raw=padded)
    assert (
        status == 413
        and f"limit of {MAX_BODY} bytes" in answer["error"]
        and "--max-body-bytes" in answer["error"]
    )
    chunks = (b" " * 10_000 for _ in range(5))  # no Content-Length: chunked, refused once past the limit
    status, answer = server.call("POST", "/predict", raw=chunks)
    assert status == 413 and "--max-body-bytes" in answer["error"], answer
    assert server.call("GET", "/health")[0] == 200  # and the server goes on


WEIRD = [
    [1, 2], "text", None, {"customers": "all"}, {"customers": [[1, 2]]}, {"customers": [None]},
    {"customers": [{**ROW, "x": 1e400}]}, {"customers": [{**ROW, "region": {"a": 1}}]},
    {"customers": [{**ROW, "id": [1]}]}, {"customers": [{**ROW, "amount": True}]},
    {"customers": [{**ROW, "region": None, "x": None, "amount": None}]}, {"customers": [ROW], "explain": -1},
]  # fmt: skip


def test_no_input_gets_a_500(server: Server) -> None:
    for body in WEIRD:
        status, answer = server.call("POST", "/predict", raw=json.dumps(body).encode())
        assert status in (200, 422), (body, status, answer)
        assert status == 200 or answer["error"], body


def test_workers_each_load_the_model_and_answer_the_same(server: Server, table_run: Path) -> None:
    body = {"customers": records(customers(20, 3).drop(columns="y"))}
    _, one = server.call("POST", "/predict", body)
    two = Server(table_run, "--workers", "2")
    try:
        answers = [two.call("POST", "/predict", body) for _ in range(6)]
    finally:
        code, err = two.stop()
    assert all(status == 200 and answer["customers"] == one["customers"] for status, answer in answers)
    assert "Traceback" not in err, err


def test_runs_that_cannot_be_served_are_one_line(tmp_path: Path) -> None:
    require_serving()
    synthetic = ROOT / "tests" / "fixtures" / "runs_v0_1" / "logistic"  # saved before its log was events
    for run, says in ((synthetic, "encode its data as an event log"), (tmp_path, "no such run folder")):
        run = run if run != tmp_path else tmp_path / "missing"
        done = run_cli("serve", str(run), "--port", "1")
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr, done.stderr


def test_without_the_extra_serve_says_how_to_install_it(table_run: Path) -> None:
    import subprocess
    import sys

    code = ("import sys; sys.modules['fastapi'] = None; sys.argv = ['seqexp', 'serve', sys.argv[1]]; "
            "from seqexp.cli import main; main()")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code, str(table_run)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "pip install 'seqexp[serve]'" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_an_ensemble_scores_as_predict(table_run: Path, tmp_path: Path) -> None:
    """An ensemble run is served through its members, as ``predict`` reads it (in-process scorer)."""
    from seqexp.serving.scorer import Scorer

    data = table_run.parent.parent
    other = run_cli("train", str(data / "config.yaml"), "--runs-dir", str(tmp_path), "-q",
                    "--set", "model={name: logistic_regression}")  # fmt: skip
    assert other.returncode == 0, other.stderr
    done = run_cli("ensemble", str(table_run), other.stdout.strip(), "--runs-dir", str(tmp_path), "-q")
    assert done.returncode == 0, done.stderr
    ensemble = Path(done.stdout.strip())
    customers(30, 5).drop(columns="y").to_csv(tmp_path / "new.csv", index=False)
    done = run_cli("predict", str(ensemble), str(tmp_path / "new.csv"), "-o", str(tmp_path / "p.csv"), "-q")
    assert done.returncode == 0, done.stderr
    got = pd.DataFrame(Scorer.open(ensemble).score_frame(pd.read_csv(tmp_path / "new.csv")).rows)
    pd.testing.assert_frame_equal(got, pd.read_csv(tmp_path / "p.csv"), check_dtype=False)
