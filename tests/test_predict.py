"""``seqexp predict``: scores, labels at the run's threshold, risk bands, chunked output, and inputs
given as a data config or as a data file (through a test-only file source that follows the data
source contract ``build(cfg, *, seed, schema, labelled)``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pytest

from seqexp.config.section import ConfigPath, Section
from seqexp.errors import DataError, UserError
from tests.conftest import Tiny, run_cli

NEW_CUSTOMERS = "data: {name: synthetic_transactions, customers: 250, sequence_length: 6, seed: 5}\n"


@pytest.fixture(scope="module")
def tiny_run(tiny: Tiny, tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    result = run_cli("train", str(tiny.path), "--runs-dir", str(runs), "--quiet")
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def test_predict_cli_scores_every_customer(tiny_run: Path, write_config, tmp_path: Path) -> None:
    config = write_config(NEW_CUSTOMERS)
    out = tmp_path / "out" / "scores.csv"
    result = run_cli("predict", str(tiny_run), str(config), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(out)
    scores = pd.read_csv(out)
    assert list(scores.columns) == ["id", "score", "probability", "y_pred", "risk"]
    assert len(scores) == 250 and scores["id"].is_unique
    import json

    metrics = json.loads((tiny_run / "metrics.json").read_text())
    assert ((scores["score"] >= metrics["threshold"]).astype(int) == scores["y_pred"]).all()
    # Risk levels on calibrated probabilities; the top one starts no lower than the decision threshold.
    top = max(0.7, metrics["threshold_probability"])
    p = scores["probability"]
    expected = np.where(p < 0.3, "low", np.where(p < top, "medium", "high"))
    assert (scores["risk"] == expected).all()
    assert "250 customers scored" in result.stderr
    assert not list(out.parent.glob(".*tmp*"))


def test_predict_agrees_with_evaluate_scores_and_chunking_changes_nothing(tiny_run: Path, tmp_path: Path):
    from seqexp.commands.predict import RiskBands, write_scores
    from seqexp.pipeline.prepare import load_dataset, make_split
    from seqexp.runfolder.reader import open_run

    run = open_run(tiny_run)
    data = load_dataset(run.cfg)
    test = data.subset(make_split(run.cfg, data).test)
    bands = RiskBands((0.2, 0.5, 0.8), ("a", "b", "c", "d"))
    whole = write_scores(run, test, tmp_path / "whole.csv", bands)
    chunked = write_scores(run, test, tmp_path / "chunked.csv", bands, chunk=7)
    assert whole.rows == chunked.rows == len(test.y)
    a, b = pd.read_csv(tmp_path / "whole.csv"), pd.read_csv(tmp_path / "chunked.csv")
    assert a.equals(b)
    # The same customers as the run's test predictions, with the same scores (6 decimals).
    saved = pd.read_csv(tiny_run / "predictions.csv")
    assert list(a["id"]) == list(saved["id"])
    np.testing.assert_allclose(a["score"], saved["score"], atol=2e-6)
    assert set(a["risk"]) <= {"a", "b", "c", "d"}


def test_risk_bands_from_the_config_and_bad_bands(tiny_run: Path) -> None:
    from seqexp.commands.predict import RiskBands, bands_for
    from seqexp.runfolder.reader import open_run

    run = open_run(tiny_run)
    assert bands_for(run) == RiskBands()
    assert list(RiskBands().assign(np.array([0.0, 0.29, 0.3, 0.69, 0.7, 1.0]))) == [
        "low", "low", "medium", "medium", "high", "high",
    ]  # fmt: skip
    assert bands_for(run, [0.5]).levels == ("band1", "band2")
    with pytest.raises(ValueError, match="increase"):
        RiskBands((0.7, 0.3))


# ----------------------------------------------------------------------------- file inputs


class EventsCsvConfig(Section):
    """Test-only file source: an event log CSV (customer_id, timestamp, type, amount[, label])."""

    name: Literal["test_events_csv"] = "test_events_csv"
    path: ConfigPath = "events.csv"
    sequence_length: int = 6


def build_events_csv(cfg: EventsCsvConfig, *, seed: int, schema: dict | None = None, labelled: bool = True):
    from seqexp.data.synthetic import SyntheticTransactionsConfig, sequences_from_transactions

    events = pd.read_csv(cfg.path, parse_dates=["timestamp"])
    needed = ["customer_id", "timestamp", "type", "amount"] + (["label"] if labelled else [])
    missing = [c for c in needed if c not in events.columns]
    if missing:
        raise DataError(f"{cfg.path}: missing column {', '.join(missing)}; has {', '.join(events.columns)}")
    labels = events.groupby("customer_id", as_index=False)["label"].first() if labelled else None
    synthetic = SyntheticTransactionsConfig(sequence_length=cfg.sequence_length)
    return sequences_from_transactions(events, labels, synthetic)


@pytest.fixture
def file_run(tiny_run: Path, monkeypatch):
    """The tiny run as if it had been trained from an events file (the builder contract is all
    predict relies on); the source is registered for this test only."""
    from seqexp.registry import DATA_SOURCES, Entry
    from seqexp.runfolder.reader import open_run

    entry = Entry("test_events_csv", build_events_csv, EventsCsvConfig, "test only", frozenset())
    monkeypatch.setitem(DATA_SOURCES._entries, "test_events_csv", entry)
    run = open_run(tiny_run)
    return replace(run, cfg=run.cfg.model_copy(update={"data": EventsCsvConfig()}))


def _events_file(tmp_path: Path, *, unseen: int = 0, drop: str | None = None) -> Path:
    from seqexp.data.synthetic import SyntheticTransactionsConfig, generate_transactions

    events, labels = generate_transactions(SyntheticTransactionsConfig(customers=120, sequence_length=6), 3)
    events = events.merge(labels, on="customer_id")
    events["type"] = events["type"].astype(str)
    if unseen:
        events.loc[events.index[-unseen:], "type"] = "crypto_purchase"
    path = tmp_path / "events.csv"
    events.drop(columns=[drop] if drop else []).to_csv(path, index=False)
    return path


def test_predict_a_data_file_with_an_unseen_category(file_run, tmp_path: Path) -> None:
    from seqexp.commands.predict import RiskBands, summary_lines, write_scores
    from seqexp.pipeline.encode import build_input, data_config_for, unseen_levels

    path = _events_file(tmp_path, unseen=5)
    data_cfg = data_config_for(file_run, path)
    assert str(data_cfg.path) == str(path.resolve())
    data = build_input(file_run, data_cfg, labelled=False)
    assert (data.y == -1).all() and len(data.y) == 120
    unseen = unseen_levels(data)
    assert unseen == {"type": 5}
    summary = write_scores(file_run, data, tmp_path / "scores.csv", RiskBands())
    summary.unseen = unseen
    assert summary.rows == 120
    assert any("never seen in training" in line and "type: 5" in line for line in summary_lines(summary))


def test_predict_a_file_missing_a_column_is_a_data_error(file_run, tmp_path: Path) -> None:
    from seqexp.pipeline.encode import build_input, data_config_for

    path = _events_file(tmp_path, drop="amount")
    with pytest.raises(DataError, match="missing column amount"):
        build_input(file_run, data_config_for(file_run, path), labelled=False)


def test_a_file_for_a_run_whose_source_reads_no_files(tiny_run: Path, tmp_path: Path) -> None:
    from seqexp.data.next_shop import SyntheticNextShopConfig
    from seqexp.pipeline.encode import data_config_for
    from seqexp.runfolder.reader import open_run

    path = _events_file(tmp_path)
    run = open_run(tiny_run)
    next_shop = replace(run, cfg=run.cfg.model_copy(update={"data": SyntheticNextShopConfig()}))
    with pytest.raises(UserError, match="does not read files; give a data config YAML"):
        data_config_for(next_shop, path)
    # A synthetic run saved before its data went through the events builder has no events schema.
    old = Path(__file__).parent / "fixtures" / "runs_v0_1" / "logistic"
    with pytest.raises(UserError, match="did not encode its data as an event log.*train the run again"):
        data_config_for(open_run(old), path)


def test_a_synthetic_run_scores_the_files_generate_writes(tiny: Tiny, tiny_run: Path, tmp_path: Path) -> None:
    """generate -> train -> predict the generated log: the run's test customers get the scores the run
    gave them; evaluate --data with the generated data.yaml (log and labels) scores them alike."""
    out = tmp_path / "gen"
    assert run_cli("generate", str(tiny.path), "--out", str(out)).returncode == 0  # the run's config and seed
    saved = pd.read_csv(tiny_run / "predictions.csv").set_index("id")
    scores = tmp_path / "scores.csv"
    done = run_cli("predict", str(tiny_run), str(out / "events.parquet"), "-o", str(scores), "-q")
    assert done.returncode == 0, done.stderr
    scored = pd.read_csv(scores).set_index("id")
    assert len(scored) == 400 and set(saved.index) < set(scored.index)
    np.testing.assert_array_equal(scored.loc[saved.index, "score"], saved["score"])
    from seqexp.serving.scorer import Scorer  # serve and export score events in memory alike

    served = pd.DataFrame(Scorer.open(tiny_run).score_frame(pd.read_parquet(out / "events.parquet")).rows)
    np.testing.assert_allclose(served.set_index("id").loc[scored.index, "score"], scored["score"], atol=1e-6)
    bare = run_cli("evaluate", str(tiny_run), "--data", str(out / "events.parquet"))
    assert bare.returncode == 2 and "data.yaml" in bare.stderr and "Traceback" not in bare.stderr
    done = run_cli("evaluate", str(tiny_run), "--data", str(out / "data.yaml"), "-q")
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip().splitlines()[-1])
    evaluated = pd.read_csv(folder / "predictions.csv").set_index("id")
    labels = pd.read_parquet(out / "labels.parquet").set_index("customer_id")["label"]
    assert len(evaluated) == 400 and (evaluated["y_true"] == labels.loc[evaluated.index]).all()
    np.testing.assert_array_equal(evaluated.loc[saved.index, "score"], saved["score"])


def test_predict_cli_bad_input(tiny_run: Path, tmp_path: Path) -> None:
    result = run_cli("predict", str(tmp_path), str(tmp_path / "x.csv"))
    assert result.returncode == 2 and "not a run folder" in result.stderr
    result = run_cli("predict", str(tiny_run), str(tmp_path / "x.csv"), "--bands", "0.3,high")
    assert result.returncode == 2 and "--bands" in result.stderr and "Traceback" not in result.stderr
