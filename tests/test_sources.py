"""The file sources (table, events, npz) on small files written here, and their errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqexp.config.loading import validate_config
from seqexp.data.events import build_events
from seqexp.data.npz import build_npz
from seqexp.data.table import build_table
from seqexp.errors import DataError
from seqexp.pipeline.prepare import prepare


def data_cfg(tmp_path: Path, data: dict):
    """Validate a ``data`` section as a config file in ``tmp_path`` would be (paths relative to it)."""
    return validate_config({"data": data}, config_dir=tmp_path).data


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --------------------------------------------------------------------------- table

TABLE = """id;age;job;income;y
1;30;admin;100;yes
2;40;;250;no
3;;tech;90;no
4;35;admin;;yes
5;52;tech;300;no
6;28;admin;120;no
"""


def test_table_encodes_numeric_categorical_and_missing(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", TABLE)
    cfg = data_cfg(tmp_path, {"name": "table", "path": "t.csv", "sep": ";", "id": "id", "target": "y",
                              "positive": "yes", "numeric": ["age"]})  # fmt: skip
    data = build_table(cfg, seed=0)
    # income is auto-typed numeric, job auto-typed categorical with missing as its own level
    assert data.feature_names == ["age", "income", "job=(missing)", "job=admin", "job=tech"]
    assert data.y.tolist() == [1, 0, 0, 1, 0, 0] and data.ids.tolist() == [1, 2, 3, 4, 5, 6]
    assert np.isnan(data.X[2, 0]) and np.isnan(data.X[3, 1])  # NaN survives for train-only imputation
    assert data.X[1, 2:].tolist() == [1, 0, 0]
    assert data.onehot_groups == [[2, 3, 4]]
    assert data.report["missing_values"] == {"age": 1, "income": 1}
    assert any("typed automatically" in note for note in data.report["notes"])
    assert data.schema["categorical"] == {"job": ["(missing)", "admin", "tech"]}


def test_table_schema_reencodes_new_data_with_an_unseen_level(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", TABLE)
    cfg = data_cfg(tmp_path, {"name": "table", "path": "t.csv", "sep": ";", "id": "id", "target": "y",
                              "positive": "yes"})  # fmt: skip
    trained = build_table(cfg, seed=0)
    # New customers: columns in another order, a job never seen, an extra column, no target.
    write(tmp_path, "new.csv", "job;extra;income;id;age\npilot;x;80;9;33\ntech;y;70;10;44\n")
    new_cfg = cfg.model_copy(update={"path": str(tmp_path / "new.csv")})
    new = build_table(new_cfg, seed=0, schema=trained.schema, labelled=False)
    assert new.feature_names == trained.feature_names
    assert new.X[0, 2:].tolist() == [0, 0, 0]  # unseen level -> all zeros, counted
    assert new.X[1, 2:].tolist() == [0, 0, 1]
    assert new.X[:, :2].tolist() == [[33, 80], [44, 70]]
    assert new.report["unseen_levels"] == {"job": 1}
    assert new.y.tolist() == [-1, -1]


def test_imputation_uses_training_statistics_only(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "t": (np.arange(n) % 4 == 0)})
    frame.loc[::5, "a"] = np.nan
    frame.to_parquet(tmp_path / "t.parquet")
    cfg = validate_config(
        {"data": {"name": "table", "path": "t.parquet", "target": "t", "positive": True, "impute": "median"},
         "split": {"train": 0.6, "val": 0.2, "test": 0.2}},
        config_dir=tmp_path,
    )  # fmt: skip
    prepared = prepare(cfg)
    raw_train = prepared.data.X[prepared.split.train, 0]
    fill = np.nanmedian(raw_train)
    assert prepared.scaler.fill[0] == pytest.approx(fill, rel=1e-5)
    assert prepared.scaler.impute == "median"
    for part, index in ((prepared.val, prepared.split.val), (prepared.test, prepared.split.test)):
        was_missing = np.isnan(prepared.data.X[index, 0])
        assert was_missing.any() and not np.isnan(part.X).any()
        expected = (fill - prepared.scaler.mean[0]) / prepared.scaler.std[0]
        np.testing.assert_allclose(part.X[was_missing, 0], expected, rtol=1e-5)


# --------------------------------------------------------------------------- events
# A hand-checked log. Cutoff 2024-03-01, horizon 10 days: window [03-01, 03-11).
LOG = """customer,when,amount,kind
A,2024-01-01,10,shop
A,2024-02-20,20,shop
A,2024-03-01,500,deposit
B,2024-02-01,5,atm
B,2024-03-11,900,deposit
C,2024-02-27,7,shop
C,2024-03-05,50,shop
D,2024-03-02,80,deposit
E,2024-02-28,1,shop
E,2024-02-28,1,shop
"""


def window_cfg(tmp_path: Path, **labels):
    write(tmp_path, "log.csv", LOG)
    return data_cfg(tmp_path, {
        "name": "events", "path": "log.csv", "id": "customer", "time": "when", "numeric": ["amount"],
        "categorical": ["kind"], "sequence_length": 3, "derived": ["days_since_previous", "day_of_week"],
        "log_days": False, "labels": {"cutoff": "2024-03-01", "horizon_days": 10, **labels},
    })  # fmt: skip


def test_window_labels_cutoff_and_horizon_boundaries(tmp_path: Path) -> None:
    data = build_events(window_cfg(tmp_path), seed=0)
    # A: event AT the cutoff is in the window (inclusive) -> 1. B: event at cutoff + 10 days is out
    # (exclusive) -> 0. C: event inside -> 1. D: no history before the cutoff -> left out, counted.
    # E: no later event -> 0; its duplicate row is counted and dropped.
    assert data.ids.tolist() == ["A", "B", "C", "E"]
    assert data.y.tolist() == [1, 0, 1, 0]
    assert data.report["customers_without_history"] == 1
    assert data.report["duplicate_rows"] == 1 and data.report["customers_with_duplicate_rows"] == 1
    assert data.report["events_from_reference_date"] == 4
    assert data.schema["reference_date"] == "2024-03-01T00:00:00"
    # Sequences hold only events before the cutoff, pre-padded: A has 2, E 1.
    assert data.mask.tolist() == [[False, True, True], [False, False, True], [False, False, True],
                                  [False, False, True]]  # fmt: skip
    names = data.feature_names
    assert names[:2] == ["amount", "days_since_previous"]
    a = data.X[0]
    assert a[1:, 0].tolist() == [10, 20] and a[1:, 1].tolist() == [0, 50]  # 50 days from 01-01 to 02-20
    assert a[0].tolist() == [0.0] * len(names)  # padding is zero
    assert a[2, names.index("day_of_week=Tue")] == 1  # 2024-02-20 was a Tuesday
    assert a[2, names.index("kind=shop")] == 1
    assert data.schema["categorical"] == {"kind": ["atm", "shop"]}  # learned from history only


def test_window_labels_where_filter(tmp_path: Path) -> None:
    data = build_events(window_cfg(tmp_path, where="kind == 'deposit' and amount > 100"), seed=0)
    assert dict(zip(data.ids, data.y, strict=True)) == {"A": 1, "B": 0, "C": 0, "E": 0}


def test_events_file_labels_aggregates_and_unlabelled_customers(tmp_path: Path) -> None:
    write(
        tmp_path,
        "log.csv",
        "cid;date;amt\r\n7;02-Jan-24;10\r\n7;05-Jan-24;30\r\n8;03-Jan-24;5\r\n9;04-Jan-24;1\r\n",
    )
    write(tmp_path, "labels.csv", "cid,resp\n7,1\n8,0\n42,1\n")
    cfg = data_cfg(tmp_path, {
        "name": "events", "path": "log.csv", "sep": ";", "id": "cid", "time": "date",
        "time_format": "%d-%b-%y",
        "numeric": ["amt"], "sequence_length": 2, "output": "aggregates", "reference_date": "2024-01-10",
        "labels": {"path": "labels.csv", "column": "resp"},
    })  # fmt: skip
    data = build_events(cfg, seed=0)
    assert data.ids.tolist() == [7, 8] and data.y.tolist() == [1, 0]
    assert data.report["customers_without_label"] == 1  # customer 9
    assert data.report["labels_without_events"] == 1  # customer 42
    # The point-in-time aggregate vector (docs/data.md); the five figures the old vector held:
    f = dict(zip(data.feature_names, data.X.T.tolist(), strict=True))
    assert f["count"] == [2, 1] and f["recency_days"] == [5, 7] and f["tenure_days"] == [8, 7]
    assert f["amt_sum"] == [40, 5] and f["amt_mean"] == [20, 5]
    assert data.mask is None and data.X.ndim == 2


def test_sequence_and_aggregates_keep_the_aggregates_beside_the_sequence(tmp_path: Path) -> None:
    cfg = window_cfg(tmp_path)
    both = build_events(cfg.model_copy(update={"output": "sequence_and_aggregates"}), seed=0)
    sequence = build_events(cfg, seed=0)
    aggregates = build_events(cfg.model_copy(update={"output": "aggregates"}), seed=0)
    # The sequence exactly as output: sequence gives it; the aggregate vector as a static block, one
    # row per customer, not copied onto the steps.
    assert both.feature_names == sequence.feature_names and "count" not in both.feature_names
    np.testing.assert_array_equal(both.X, sequence.X)
    np.testing.assert_array_equal(both.mask, sequence.mask)
    assert both.static_names == aggregates.feature_names
    np.testing.assert_array_equal(both.static, aggregates.X)
    assert both.static[:, both.static_names.index("count")].tolist() == [2, 1, 1, 1]  # A has 2 events
    assert both.ids.tolist() == aggregates.ids.tolist() == ["A", "B", "C", "E"]
    assert both.fingerprint() != sequence.fingerprint()  # the static block is part of the data
    np.testing.assert_array_equal(both.subset(np.array([2, 0])).static, both.static[[2, 0]])


def test_events_schema_reencodes_new_log(tmp_path: Path) -> None:
    cfg = window_cfg(tmp_path)
    trained = build_events(cfg, seed=0)
    write(tmp_path, "new.csv", "customer,when,amount,kind\nZ,2024-02-01,3,transfer\nZ,2024-02-02,4,shop\n")
    new = build_events(cfg.model_copy(update={"path": str(tmp_path / "new.csv")}), seed=0,
                       schema=trained.schema, labelled=False)  # fmt: skip
    assert new.feature_names == trained.feature_names and new.y.tolist() == [-1]
    assert new.report["unseen_levels"] == {"kind": 1}
    kinds = [i for i, n in enumerate(new.feature_names) if n.startswith("kind=")]
    assert new.X[0, 1, kinds].tolist() == [0, 0] and new.X[0, 2, kinds].tolist() == [0, 1]


# --------------------------------------------------------------------------- npz


def test_npz_source_2d_and_3d(tmp_path: Path) -> None:
    X = np.arange(24, dtype=np.float64).reshape(4, 3, 2)
    mask = np.array([[0, 1, 1], [1, 1, 1], [0, 0, 1], [1, 1, 1]], dtype=bool)
    np.savez(tmp_path / "a.npz", X=X, y=np.array([0, 1, 0, 1]), mask=mask, ids=np.array(["a", "b", "c", "d"]))
    data = build_npz(data_cfg(tmp_path, {"name": "npz", "path": "a.npz"}), seed=0)
    assert data.X.shape == (4, 3, 2) and data.X.dtype == np.float32
    assert data.X[0, 0].tolist() == [0, 0]  # masked step zeroed
    assert data.ids.tolist() == ["a", "b", "c", "d"] and data.y.tolist() == [0, 1, 0, 1]
    np.savez(tmp_path / "b.npz", X=np.ones((4, 5)), y=np.array([0, 1, 0, 1]))
    flat = build_npz(data_cfg(tmp_path, {"name": "npz", "path": "b.npz"}), seed=0)
    assert flat.X.shape == (4, 5) and flat.mask is None and flat.ids.tolist() == [0, 1, 2, 3]
    with pytest.raises(DataError, match=r"shape \[5\], the run was trained on \[3, 2\]"):
        build_npz(data_cfg(tmp_path, {"name": "npz", "path": "b.npz"}), seed=0, schema=data.schema)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("files", "data", "message"),
    [
        ({"t.csv": "a,b\n1,2\n"}, {"name": "table", "path": "t.csv", "target": "y"},
         r"column 'y' is not in t.csv; its columns are: a, b"),
        ({"t.csv": ""}, {"name": "table", "path": "t.csv"}, r"t.csv is empty"),
        ({"t.csv": "a,y\n"}, {"name": "table", "path": "t.csv", "target": "y"}, r"has no data rows"),
        ({"t.csv": "a,y\n1,no\n2,no\n"}, {"name": "table", "path": "t.csv", "target": "y", "positive": "yes"},
         r"positive value 'yes' never occurs .* values seen: no"),
        ({"t.csv": "a,y\n1,1\n2,1\n"}, {"name": "table", "path": "t.csv", "target": "y"},
         r"every labelled row has class 1"),
        ({"t.csv": "a,y\n1,1\n"}, {"name": "table", "path": "missing.csv"}, r"no such file .*missing.csv"),
        ({"l.csv": "id,t\n1,2024-13-45\n", "y.csv": "id,label\n1,1\n"},
         {"name": "events", "path": "l.csv", "id": "id", "time": "t", "time_format": "%Y-%m-%d",
          "labels": {"path": "y.csv"}},
         r"cannot parse timestamp '2024-13-45' .* format '%Y-%m-%d'"),
        ({"l.csv": "id,t\n1,2024-01-01\n2,2024-01-02\n", "y.csv": "id,label\nX,1\nY,0\n"},
         {"name": "events", "path": "l.csv", "id": "id", "time": "t", "labels": {"path": "y.csv"}},
         r"none of the 2 ids in .*y.csv .* is a customer of the event log"),
        ({"l.csv": "id,t\n1,2024-01-01\n"}, {"name": "events", "path": "l.csv", "id": "id", "time": "t"},
         r"data.labels: required to train"),
        ({"l.csv": "id,t,kind\n1,2024-01-01,a\n"},
         {"name": "events", "path": "l.csv", "id": "id", "time": "t",
          "labels": {"cutoff": "2024-02-01", "horizon_days": 5, "where": "knd == 'a'"}},
         r"data.labels.where: cannot evaluate"),
    ],
    ids=["missing-column", "empty-file", "header-only", "positive-absent", "one-class", "no-file",
         "bad-timestamp", "labels-match-nobody", "no-labels", "bad-where"],
)  # fmt: skip
def test_bad_input_gets_a_clear_error(tmp_path: Path, files: dict, data: dict, message: str) -> None:
    from seqexp.registry import DATA_SOURCES

    for name, text in files.items():
        write(tmp_path, name, text)
    cfg = data_cfg(tmp_path, data)
    with pytest.raises(DataError, match=message):
        DATA_SOURCES.get(cfg.name).builder(cfg, seed=0)


def test_header_false_needs_column_names(tmp_path: Path) -> None:
    from seqexp.errors import ConfigError

    with pytest.raises(ConfigError, match="a file without header needs column_names"):
        validate_config({"data": {"name": "table", "header": False}}, config_dir=tmp_path)
