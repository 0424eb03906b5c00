"""Scoring an event log as of a date: a saved run builds each customer's history strictly before
``--as-of`` (default: the day after the new log's last event), so a newer log is scored on its new
events, and events on or after the date never count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqexp.commands.predict import predict_run
from seqexp.config.loading import load_config
from seqexp.errors import UserError
from seqexp.pipeline.train import train_experiment
from tests.conftest import run_cli

CONFIG = """
name: as_of
seed: 3
data:
  name: events
  path: log.csv
  id: customer
  time: day
  numeric: [amount]
  output: aggregates
  aggregates: {windows_days: [30, 90]}
  labels: {cutoff: 2024-04-01, horizon_days: 30, where: "amount > 80"}
split: {train: 0.6, val: 0.2, test: 0.2}
model: {name: logistic_regression}
evaluate: {baseline: none, bootstrap: 0}
"""


def _log(customers: int, until: str, seed: int) -> pd.DataFrame:
    """A daily log: big spenders are more likely to spend big after the cutoff."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", until, freq="D")
    rows = []
    for c in range(customers):
        scale = 20 + 60 * (c % 3 == 0)
        for day in rng.choice(days, size=12, replace=False):
            rows.append((f"c{c:03d}", pd.Timestamp(day).date().isoformat(), float(rng.gamma(2.0, scale))))
    return pd.DataFrame(rows, columns=["customer", "day", "amount"])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("as_of")
    _log(300, "2024-04-30", seed=0).to_csv(folder / "log.csv", index=False)
    (folder / "config.yaml").write_text(CONFIG)
    run = train_experiment(load_config(folder / "config.yaml"), runs_dir=folder / "runs").run_dir
    return run, folder


def test_as_of_ignores_every_event_on_or_after_the_date(trained, tmp_path: Path) -> None:
    run, _ = trained
    newer = _log(120, "2024-07-31", seed=1)
    newer.to_csv(tmp_path / "newer.csv", index=False)
    newer[newer["day"] < "2024-06-15"].to_csv(tmp_path / "cut.csv", index=False)
    a = predict_run(run, tmp_path / "newer.csv", tmp_path / "a.csv", as_of="2024-06-15")
    b = predict_run(run, tmp_path / "cut.csv", tmp_path / "b.csv", as_of="2024-06-15")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))
    assert "histories as of 2024-06-15" in a.history and "later events not used" in a.history
    assert "later events" not in b.history


def test_the_default_is_the_day_after_the_new_logs_last_event(trained, tmp_path: Path) -> None:
    run, _ = trained
    _log(50, "2024-07-31", seed=2).to_csv(tmp_path / "newer.csv", index=False)
    default = predict_run(run, tmp_path / "newer.csv", tmp_path / "d.csv")
    at_cutoff = predict_run(run, tmp_path / "newer.csv", tmp_path / "c.csv", as_of="2024-04-01")
    last = pd.read_csv(tmp_path / "newer.csv")["day"].max()
    expected = (pd.Timestamp(last) + pd.Timedelta(days=1)).date().isoformat()
    assert f"histories as of {expected}" in default.history
    scores = pd.read_csv(tmp_path / "d.csv")["score"], pd.read_csv(tmp_path / "c.csv")["score"]
    assert not np.allclose(*scores), "the later events changed nothing"
    assert "histories as of 2024-04-01" in at_cutoff.history


def test_as_of_through_the_cli_and_its_mistakes(trained, tmp_path: Path) -> None:
    run, folder = trained
    done = run_cli(
        "predict", str(run), str(folder / "log.csv"), "--as-of", "2024-03-01", "-o", str(tmp_path / "s.csv")
    )
    assert done.returncode == 0, done.stderr
    assert "histories as of 2024-03-01" in done.stderr
    bad = run_cli(
        "predict", str(run), str(folder / "log.csv"), "--as-of", "2024-13-01", "-o", str(tmp_path / "x.csv")
    )
    assert bad.returncode == 2 and "--as-of" in bad.stderr and "Traceback" not in bad.stderr
    with pytest.raises(UserError, match="--as-of: goes with --data"):
        from seqexp.commands.evaluate import evaluate_run

        evaluate_run(run, as_of="2024-03-01")
