"""Out-of-time evaluation: ``split.method: time`` on snapshots (train on earlier cutoffs, validate on
a later one, test on the latest, with the gaps enforced), and ``split.method: ordered`` on tables.
Each guarantee is checked on the rows each part actually holds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqexp.config.loading import validate_config
from seqexp.config.sections import SplitConfig
from seqexp.data.split import ordered_split, time_split
from seqexp.errors import ConfigError, DataError, UserError
from seqexp.pipeline.prepare import load_dataset, make_split
from seqexp.pipeline.train import train_experiment
from tests.time_log import snapshot_section, write_log

DAY = np.timedelta64(86400, "s")
WEEKS = np.array([np.datetime64("2024-01-01", "s") + 7 * i * DAY for i in range(8)])  # 8 weekly cutoffs


def weekly(customers: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cutoffs = np.repeat(WEEKS, customers)
    ids = np.tile(np.arange(customers), len(WEEKS))
    y = (rng.random(len(ids)) < 0.3).astype(int)
    return cutoffs, ids, y


def test_default_parts_leave_a_gap_of_one_horizon() -> None:
    cutoffs, ids, y = weekly()
    split = time_split(cutoffs, ids, y, 14, SplitConfig(method="time"))
    test, val = WEEKS[-1], WEEKS[-3]  # the latest; the latest whose 14-day window ends by the test
    assert set(cutoffs[split.test]) == {test} and set(cutoffs[split.val]) == {val}
    assert set(cutoffs[split.train]) == set(WEEKS[:4])  # windows ending by the validation cutoff
    # The guarantees: no training label window reaches past the validation cutoff, nor val past test.
    assert (cutoffs[split.train] + 14 * DAY <= val).all()
    assert (cutoffs[split.val] + 14 * DAY <= test).all()
    assert split.protocol["rows_in_gap"] == 2 * 20  # weeks 5 and 7 (0-based 4 and 6) belong to no part
    assert split.protocol["customers"] == "shared" and np.isin(ids[split.test], ids[split.train]).all()


def test_disjoint_customers_never_meet_across_parts() -> None:
    cutoffs, ids, y = weekly(customers=60, seed=1)
    keep = np.random.default_rng(2).random(len(ids)) < 0.5  # customers come and go
    cutoffs, ids, y = cutoffs[keep], ids[keep], y[keep]
    split = time_split(cutoffs, ids, y, 7, SplitConfig(method="time", customers="disjoint"))
    train, val, test = (set(ids[p]) for p in (split.train, split.val, split.test))
    assert not (train & test) and not (train & val) and not (val & test)
    assert split.protocol["rows_removed_as_later_customers"]["train"] > 0


def test_named_cutoffs_and_a_validation_window_reaching_the_test() -> None:
    cutoffs, ids, y = weekly()
    cfg = SplitConfig(method="time", test_cutoff="2024-02-05", val_cutoff="2024-01-22")
    split = time_split(cutoffs, ids, y, 14, cfg)
    assert (
        str(cutoffs[split.test][0])[:10] == "2024-02-05" and str(cutoffs[split.val][0])[:10] == "2024-01-22"
    )
    assert set(cutoffs[split.train]) == set(WEEKS[:2])  # 01-08: its window [01-08, 01-22) ends at val
    assert split.protocol["rows_after_test"] == 2 * 20  # 02-12 and 02-19
    with pytest.raises(DataError, match="split.val_cutoff: its 14-day label window reaches past the test"):
        time_split(cutoffs, ids, y, 14, SplitConfig(method="time", val_cutoff="2024-02-12"))
    with pytest.raises(DataError, match="split.test_cutoff: 2024-02-06 is not a snapshot cutoff"):
        time_split(cutoffs, ids, y, 14, SplitConfig(method="time", test_cutoff="2024-02-06"))
    with pytest.raises(DataError, match="no cutoff's 60-day label window ends by the test cutoff"):
        time_split(cutoffs, ids, y, 60, SplitConfig(method="time"))


def test_time_only_keys_are_refused_elsewhere() -> None:
    with pytest.raises(ValueError, match="test_cutoff applies only with method: time"):
        SplitConfig(test_cutoff="2024-01-01")
    with pytest.raises(ValueError, match="by applies only with method: ordered"):
        SplitConfig(by="date")


def test_ordered_split_keeps_the_past_before_the_future() -> None:
    order = np.array([5, 1, 4, 2, 3, 9, 8, 7, 6, 0, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
    y = np.array([0, 1] * 10)
    split = ordered_split(order, y, SplitConfig(method="ordered", train=0.6, val=0.2, test=0.2))
    assert (
        order[split.train].max() < order[split.val].min() <= order[split.val].max() < order[split.test].min()
    )
    assert len(split.train) == 12 and len(split.val) == 4 and len(split.test) == 4
    assert split.protocol["train_range"] == ["0", "11"]


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> Path:
    return write_log(tmp_path_factory.mktemp("log") / "log.csv")


def experiment(section: dict, **extra) -> object:
    return validate_config({
        "name": "oot", "seed": 3, "data": section, "model": {"name": "logistic_regression"},
        "evaluate": {"baseline": "none", "bootstrap": 0}, **extra,
    })  # fmt: skip


def test_a_random_split_of_snapshots_is_refused(log: Path) -> None:
    with pytest.raises(ConfigError, match="split.method: holdout would put one customer's examples"):
        experiment(snapshot_section(log))  # said by the config, before any run folder
    cfg = experiment(snapshot_section(log), split={"method": "time"})
    holdout = cfg.model_copy(update={"split": SplitConfig()})  # past the config check: the split says it too
    with pytest.raises(UserError, match="split.method: holdout would put one customer's examples"):
        make_split(holdout, load_dataset(holdout))


def test_train_out_of_time_records_the_protocol_and_each_cutoff(log: Path, tmp_path: Path) -> None:
    section = {**snapshot_section(log), "cache": False}
    cfg = experiment(section, split={"method": "time"})
    lines: list[str] = []
    result = train_experiment(cfg, runs_dir=tmp_path, say=lines.append)
    run = json.loads((result.run_dir / "run.json").read_text())
    assert run["split"]["method"] == "time" and result.metrics["split"]["test_cutoff"].startswith(
        "2024-05-09"
    )
    assert any(line.startswith("split: out of time: train cutoffs 2024-02-01..") for line in lines)
    test = pd.read_csv(result.run_dir / "predictions.csv")
    val = pd.read_csv(result.run_dir / "val_predictions.csv")
    assert list(test.columns[:3]) == ["id", "cutoff", "y_true"]
    assert set(test["cutoff"]) == {"2024-05-09T00:00:00"} and set(val["cutoff"]) == {"2024-04-25T00:00:00"}
    # Every example's features come from before its own cutoff: the data report counts per cutoff.
    snapshots = run["data_report"]["snapshots"]
    assert [s["cutoff"][:10] for s in snapshots][:2] == ["2024-02-01", "2024-02-15"]
    customers = run["data_report"]["customers_in_log"]
    assert all(s["examples"] + s["customers_without_history"] == customers for s in snapshots)


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    n = 400
    when = pd.date_range("2020-01-01", periods=n, freq="D")
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x - 1.5 + np.arange(n) / n)))).astype(int)  # drifts upwards
    frame = pd.DataFrame({"x": x, "when": when.strftime("%Y-%m-%d"), "y": y}).sample(frac=1, random_state=1)
    path = tmp_path_factory.mktemp("table") / "table.csv"
    frame.to_csv(path, index=False)
    return path


def test_ordered_split_of_a_table_by_a_date_column(table: Path, tmp_path: Path) -> None:
    section = {"name": "table", "path": str(table), "target": "y", "numeric": ["x"], "drop": ["when"]}
    cfg = experiment(
        section, split={"method": "ordered", "by": "when", "train": 0.7, "val": 0.15, "test": 0.15}
    )
    data = load_dataset(cfg)
    split = make_split(cfg, data)
    assert (
        split.protocol["train_range"][1] < split.protocol["val_range"][0] <= split.protocol["test_range"][0]
    )
    assert split.protocol["test_range"][1].startswith("2021-02-03")  # the 400th day
    by_rows = make_split(experiment(section, split={"method": "ordered"}), data)
    assert by_rows.protocol["by"] == "row order" and not np.array_equal(by_rows.test, split.test)
    lines: list[str] = []
    train_experiment(cfg, runs_dir=tmp_path, say=lines.append)
    assert any("split: ordered by when" in line for line in lines)


def test_ordered_needs_a_table_and_time_needs_snapshots(log: Path, table: Path) -> None:
    events = {**snapshot_section(log), "snapshots": None,
              "labels": {"cutoff": "2024-04-01", "horizon_days": 14, "where": "is_target == 1"}}  # fmt: skip
    with pytest.raises(ConfigError, match="split.method: ordered applies to tables"):
        experiment(events, split={"method": "ordered"})
    cfg = experiment(events).model_copy(update={"split": SplitConfig(method="ordered")})
    with pytest.raises(UserError, match="ordered applies to tables"):
        make_split(cfg, load_dataset(cfg))
    section = {"name": "table", "path": str(table), "target": "y", "numeric": ["x"], "drop": ["when"]}
    with pytest.raises(ConfigError, match="split.method: time needs examples at several cutoffs"):
        experiment(section, split={"method": "time"})
    with pytest.raises(UserError, match="split.by: column 'nope'"):
        cfg = experiment(section, split={"method": "ordered", "by": "nope"})
        make_split(cfg, load_dataset(cfg))


def test_a_bad_split_key_names_itself() -> None:
    with pytest.raises(ConfigError, match="split"):
        validate_config({"split": {"method": "time", "customers": "some"}})
