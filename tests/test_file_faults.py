"""Faults in users' files, through the real CLI (``python -m seqexp train``) or the source builder.

Each fault either works, with what was done in ``run.json``'s ``data_report`` and ``run.log``, or
fails with exit code 2 and one message naming the file and the column, no traceback, and the run
folder marked ``failed`` with that message. (Faults of model-ready arrays: ``test_data_faults.py``.)
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from seqexp.config.loading import validate_config
from seqexp.data.events import build_events
from tests.conftest import run_cli

FAST = {  # the data is the point: the cheapest model, no baseline
    "name": "faults",
    "seed": 0,
    "split": {"train": 0.5, "val": 0.25, "test": 0.25},
    "balance": {"name": "none"},
    "model": {"name": "logistic_regression"},
    "train": {"epochs": 1, "tensorboard": False},
    "evaluate": {"baseline": "none"},
}


def train(tmp_path: Path, data: dict, files: dict[str, str]):
    """Write ``files`` and a config using ``data`` into ``tmp_path``; run ``seqexp train`` on it."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({**FAST, "data": data}))
    result = run_cli("train", str(config), "--runs-dir", str(tmp_path / "runs"), "--quiet")
    folders = list((tmp_path / "runs").iterdir()) if (tmp_path / "runs").exists() else []
    return result, folders


def table_text(rows: list[tuple], header: str = "id,age,income,y") -> str:
    return header + "\n" + "".join(",".join(map(str, row)) + "\n" for row in rows)


# 40 customers, one in four positive: enough for a 50/25/25 stratified split.
GOOD = [(i, 20 + i, 100 + 3 * i, int(i % 4 == 0)) for i in range(40)]
TABLE = {"name": "table", "path": "t.csv", "id": "id", "target": "y"}
EVENTS = {"name": "events", "path": "log.csv", "id": "id", "time": "t", "labels": {"path": "labels.csv"}}
LABELS = "id,label\n1,1\n2,0\n"


def with_row(index: int, row: tuple) -> list[tuple]:
    rows = list(GOOD)
    rows[index] = row
    return rows


FAILURES = {
    "empty-file": ({"t.csv": ""}, TABLE, r"data.path: .*t.csv is empty"),
    "header-only": ({"t.csv": "id,age,income,y\n"}, TABLE, r"data.path: .*t.csv has no data rows"),
    "mixed-types-declared-numeric": (
        {"t.csv": table_text(with_row(5, (5, 25, "12k", 0)))},
        {**TABLE, "numeric": ["income"]},
        r"data.numeric: column 'income' of t.csv holds text such as '12k' \(1 of 40 values, first at data "
        r"row 6\)",
    ),
    "mixed-types-auto-typed": (
        {"t.csv": table_text(with_row(5, (5, 25, "12k", 0)))},
        TABLE,
        r"data: column 'income' of t.csv is numbers except for values such as '12k'",
    ),
    "duplicated-ids": (
        {"t.csv": table_text([*GOOD, (7, 99, 1, 1)])},
        TABLE,
        r"data.id: 1 id\(s\) of column 'id' appear on more than one row of t.csv with different values "
        r"\(e.g. 7 on data rows 8 and 41\)",
    ),
    "one-class": (
        {"t.csv": table_text([(i, a, b, 1) for i, a, b, _ in GOOD])},
        TABLE,
        r"data.target 'y': every labelled row has class 1 \(40 row\(s\) in t.csv\)",
    ),
    "positive-never-occurs": (
        {"t.csv": table_text(GOOD)},
        {**TABLE, "positive": "yes"},
        r"data.target 'y': the positive value 'yes' never occurs in t.csv; values seen: 1, 0",
    ),
    "inf-in-table": (
        {"t.csv": table_text(with_row(3, (3, 23, "inf", 0)))},
        TABLE,
        r"data.numeric: column 'income' of t.csv holds 1 infinite value\(s\) \(first at data row 4: inf\)",
    ),
    "inf-in-event-log": (
        # (a duplicate row, dropped first, does not shift the row number given)
        {"log.csv": "id,t,amount\n1,2024-01-01,5\n1,2024-01-01,5\n2,2024-01-02,-inf\n", "labels.csv": LABELS},
        {**EVENTS, "numeric": ["amount"]},
        r"data.numeric: column 'amount' of log.csv holds 1 infinite value\(s\) \(first at data row 3: -inf\)",
    ),
    "timestamp-with-format": (
        {"log.csv": "id,t\n1,2024-01-31\n2,2024-02-30\n", "labels.csv": LABELS},
        {**EVENTS, "time_format": "%Y-%m-%d"},
        r"data.time 't': cannot parse timestamp '2024-02-30' \(1 of 2 values\) in log.csv with format "
        r"'%Y-%m-%d'",
    ),
    "timestamp-detected": (
        {"log.csv": "id,t\n1,2024-01-31\n2,last tuesday\n", "labels.csv": LABELS},
        EVENTS,
        r"data.time 't': cannot parse timestamp 'last tuesday' .* in log.csv with automatic detection "
        r"\(set data.time_format",
    ),
    "labels-match-no-customer": (
        {"log.csv": "id,t\n1,2024-01-01\n2,2024-01-02\n", "labels.csv": "id,label\nA,1\nB,0\n"},
        EVENTS,
        r"data.labels: none of the 2 ids in .*labels.csv \(e.g. 'A'\) is a customer of the event log",
    ),
    "empty-event-log": (
        {"log.csv": "id,t\n", "labels.csv": LABELS},
        EVENTS,
        r"data.path: .*log.csv has no data rows",
    ),
}


# Found by the check of a sample before training (pipeline/data_check.py): no run folder is made.
BEFORE_TRAINING = {
    "empty-file",
    "header-only",
    "timestamp-with-format",
    "timestamp-detected",
    "empty-event-log",
}


@pytest.mark.parametrize(("files", "data", "message"), FAILURES.values(), ids=FAILURES.keys())
def test_a_bad_file_fails_with_one_message_and_a_failed_run(
    tmp_path: Path, files: dict, data: dict, message: str, request: pytest.FixtureRequest
) -> None:
    result, folders = train(tmp_path, data, files)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert re.search(message, lines[0]), lines[0]
    if request.node.callspec.id in BEFORE_TRAINING:
        assert folders == [], "a mistake found before training leaves no run folder"
        return
    (run_dir,) = folders
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "failed" and record["error"] == lines[0].removeprefix("error: ")
    assert not (run_dir / "metrics.json").exists()


def test_nan_is_imputed_and_exact_duplicate_rows_dropped_and_both_reported(tmp_path: Path) -> None:
    rows = list(GOOD)
    rows[2] = (2, 22, "", 1)  # empty cell
    rows[9] = (9, 29, "nan", 0)  # NaN spelled out
    rows.append(GOOD[11])  # the same customer twice, identical: an export artefact
    result, (run_dir,) = train(tmp_path, {**TABLE, "numeric": ["age", "income"]}, {"t.csv": table_text(rows)})
    assert result.returncode == 0, result.stderr
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "completed"
    report = record["data_report"]
    assert report["missing_values"] == {"income": 2} and report["duplicate_rows"] == 1
    assert report["rows"] == 40
    log = (run_dir / "run.log").read_text()
    assert "missing numeric values (imputed with the training mean): {'income': 2}" in log
    assert "1 exact duplicate row(s) dropped (same id and values)" in log
    # The fill value is the training rows' mean, stored in preprocess.json.
    train_ids = set(pd.read_csv(run_dir / "predictions.csv")["id"]) | set(
        pd.read_csv(run_dir / "val_predictions.csv")["id"]
    )
    train_rows = [r for r in GOOD if r[0] not in train_ids and r[0] not in (2, 9)]
    fill = json.loads((run_dir / "preprocess.json").read_text())["fill"][1]
    assert fill == pytest.approx(np.mean([r[2] for r in train_rows]), rel=1e-5)


def test_a_customer_with_100000_events_is_cut_to_the_last_n_quickly(tmp_path: Path) -> None:
    """The sequence builder is vectorized (no loop over events): 100,000 events build in well under a
    second here; the bound is 30 s so a loaded machine cannot make the test flaky."""
    n = 100_000
    start = pd.Timestamp("2020-01-01")
    whale = pd.DataFrame({"id": "whale", "t": start + pd.to_timedelta(np.arange(n), unit="min"),
                          "amount": np.arange(n, dtype=np.float64)})  # fmt: skip
    others = pd.DataFrame({"id": [f"c{i}" for i in range(9)], "t": start, "amount": 1.0})
    pd.concat([whale, others]).sample(frac=1.0, random_state=0).to_parquet(tmp_path / "log.parquet")
    labels = pd.DataFrame({"id": ["whale", *others["id"]], "label": [1, 0, 1, 0, 1, 0, 1, 0, 1, 0]})
    labels.to_csv(tmp_path / "labels.csv", index=False)
    cfg = validate_config(
        {"data": {**EVENTS, "path": "log.parquet", "numeric": ["amount"], "sequence_length": 4,
                  "output": "sequence_and_aggregates"}},
        config_dir=tmp_path,
    ).data  # fmt: skip
    began = time.perf_counter()
    data = build_events(cfg, seed=0)
    seconds = time.perf_counter() - began
    row = list(data.ids).index("whale")
    names = data.feature_names
    assert data.X[row, :, names.index("amount")].tolist() == [n - 4, n - 3, n - 2, n - 1]  # the last 4
    assert data.static[row, data.static_names.index("count")] == n  # aggregates still count every event
    assert data.report["customers_truncated"] == 1 and data.report["events_truncated"] == n - 4
    assert any("only their last 4 are in the sequence, 99996 older" in note for note in data.report["notes"])
    assert seconds < 30, f"building 100,000 events took {seconds:.1f}s"
