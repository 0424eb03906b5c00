"""``seqexp serve`` on an events run (an LSTM on each customer's last events): customers sent with
their events score as ``seqexp predict`` scores the same log, as of the same date (given, or by
default the day after the newest event); customers without history are listed as left out; a
timestamp that does not parse is a 422 naming the event."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_cli
from tests.serving import Server, customers_of, require_serving

CONFIG = """
name: serve_events
seed: 5
data:
  name: events
  path: log.csv
  id: customer
  time: day
  numeric: [amount]
  categorical: [channel]
  derive: {big: "amount > 150"}
  log1p: [amount]
  sequence_length: 6
  derived: [days_since_previous, days_before_reference]
  output: sequence
  labels: {cutoff: 2024-04-01, horizon_days: 30, where: "amount > 80"}
split: {train: 0.6, val: 0.2, test: 0.2}
balance: {name: none}
model: {name: lstm, units: [4], dropout: 0.0, dense: []}
train: {epochs: 2, batch_size: 64, tensorboard: false}
evaluate: {baseline: none, bootstrap: 0, threshold: max_f1}
"""


def event_log(customers: int, until: str, seed: int) -> pd.DataFrame:
    """A daily log: a third of the customers spend big, and keep doing so after the cutoff."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", until, freq="D")
    rows = []
    for c in range(customers):
        scale = 20 + 60 * (c % 3 == 0)
        for day in rng.choice(days, size=int(rng.integers(3, 10)), replace=False):
            amount = round(float(rng.gamma(2.0, scale)), 2)
            channel = str(rng.choice(["web", "shop", "phone"]))
            rows.append((f"k{seed}-{c:03d}", str(pd.Timestamp(day).date()), amount, channel))
    return pd.DataFrame(rows, columns=["customer", "day", "amount", "channel"])


@pytest.fixture(scope="module")
def events_run(tmp_path_factory) -> Path:
    from seqexp import components  # noqa: F401
    from seqexp.config.loading import load_config
    from seqexp.pipeline.train import train_experiment

    folder = tmp_path_factory.mktemp("serve_events")
    event_log(300, "2024-04-30", seed=0).to_csv(folder / "log.csv", index=False)
    (folder / "config.yaml").write_text(CONFIG)
    return train_experiment(load_config(folder / "config.yaml"), runs_dir=folder / "runs").run_dir


@pytest.fixture(scope="module")
def server(events_run: Path):
    require_serving()
    serving = Server(events_run)
    yield serving
    _, err = serving.stop()
    assert "Traceback" not in err, err


def _predict(run: Path, log: pd.DataFrame, folder: Path, *extra: str) -> pd.DataFrame:
    log.to_csv(folder / "new.csv", index=False)
    done = run_cli("predict", str(run), str(folder / "new.csv"), "-o", str(folder / "p.csv"), "-q", *extra)
    assert done.returncode == 0, done.stderr
    return pd.read_csv(folder / "p.csv")


@pytest.mark.parametrize("as_of", ["2024-06-15", None])
def test_scores_equal_seqexp_predict(server: Server, events_run: Path, tmp_path: Path, as_of) -> None:
    log = event_log(40, "2024-07-31", seed=3)
    first = log.loc[log["day"].idxmin(), "customer"]  # a customer with history at either date
    log.loc[log["customer"] == first, "channel"] = "carrier pigeon"  # unseen: counted, not an error
    expected = _predict(events_run, log, tmp_path, *(["--as-of", as_of] if as_of else []))
    body = {"customers": customers_of(log, "customer"), **({"as_of": as_of} if as_of else {})}
    status, answer = server.call("POST", "/predict", body)
    assert status == 200, answer
    got = pd.DataFrame(answer["customers"])
    merged = expected.merge(got, on="id", suffixes=("_predict", "_serve"))
    assert len(merged) == len(expected) == len(got)
    for column in ("score", "probability", "y_pred", "risk"):
        assert (merged[f"{column}_predict"] == merged[f"{column}_serve"]).all(), column
    newest = (pd.Timestamp(log["day"].max()) + pd.Timedelta(days=1)).date().isoformat()
    assert answer["as_of"].startswith(as_of or newest)
    assert set(answer["unseen_levels"]) == {"channel"}


def test_customers_without_history_are_left_out(server: Server) -> None:
    body = {"as_of": "2024-03-01", "customers": [
        {"customer": "old", "events": [{"day": "2024-02-01", "amount": 50.0, "channel": "web"}]},
        {"customer": "new", "events": [{"day": "2024-05-01", "amount": 50.0, "channel": "web"}]},
    ]}  # fmt: skip
    status, answer = server.call("POST", "/predict", body)
    assert status == 200, answer
    assert [row["id"] for row in answer["customers"]] == ["old"]
    assert answer["left_out"] == [{"id": "new", "reason": "no event before 2024-03-01T00:00:00"}]


def test_bad_events_name_the_event(server: Server) -> None:
    event = {"day": "2024-02-01", "amount": 50.0, "channel": "web"}
    later = [event, {**event, "day": "last tuesday"}]
    bad_day = {"customers": [{"customer": "a", "events": [event]}, {"customer": "b", "events": later}]}
    status, answer = server.call("POST", "/predict", bad_day)
    assert status == 422 and answer["error"].startswith("customers.1.events.1.day: 'last tuesday'"), answer
    negative = {"customers": [{"customer": "a", "events": [{**event, "amount": -5.0}]}]}
    status, answer = server.call("POST", "/predict", negative)
    assert status == 422 and "log1p" in answer["error"] and "amount" in answer["error"], answer
    for body, where in (({"customers": [{"customer": "a", "events": []}]}, "customers.0.events"),
                        ({"customers": [{"customer": "a", "events": [event]}], "as_of": "soon"}, "as_of"),
                        ({"customers": [{"customer": "a", "events": [{"amount": 1.0, "channel": "web"}]}]},
                         "customers.0.events.0.day")):  # fmt: skip
        status, answer = server.call("POST", "/predict", body)
        assert status == 422 and answer["error"].startswith(f"{where}: "), answer


def test_the_request_model_lists_the_events_columns(server: Server) -> None:
    _, schema = server.call("GET", "/openapi.json")
    event = schema["components"]["schemas"]["Event"]
    assert set(event["required"]) == {"day", "amount", "channel"}  # 'big' is derived, not sent
    customer = schema["components"]["schemas"]["Customer"]
    assert set(customer["required"]) == {"customer", "events"}
    _, about = server.call("GET", "/metadata")
    assert about["model"] == "lstm" and about["input"]["kind"] == "events"
