"""Multi-class targets from files: a table whose target has more than two values, and the events
source's next-category label (the category of the next basket among the K most frequent), on small
hand-made files and on the real Ta-Feng log."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqexp.config.loading import validate_config
from seqexp.data.events import build_events
from seqexp.data.table import build_table
from seqexp.errors import ConfigError, DataError
from seqexp.pipeline.train import train_experiment
from tests.conftest import CONFIGS, SHARED_DATA


def data_cfg(tmp_path: Path, data: dict):
    """Validate a ``data`` section as a config file in ``tmp_path`` would be (paths relative to it)."""
    return validate_config({"data": data}, config_dir=tmp_path).data


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --------------------------------------------------------------------------- table

SEGMENTS = ("gold", "basic", "silver")


def segment_table(n: int = 90) -> str:
    """``n`` customers, a 3-level target that the two numeric columns predict (plus a little noise)."""
    rng = np.random.default_rng(0)
    level = np.arange(n) % 3
    spend = 100 * level + rng.normal(0, 20, size=n)
    visits = 3 * level + rng.normal(0, 1, size=n)
    rows = [f"{i},{spend[i]:.1f},{visits[i]:.2f},{SEGMENTS[level[i]]}" for i in range(n)]
    return "id,spend,visits,segment\n" + "\n".join(rows) + "\n"


TABLE = {"name": "table", "path": "t.csv", "id": "id", "target": "segment"}


def test_a_three_level_table_target_is_multiclass(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", segment_table())
    data = build_table(data_cfg(tmp_path, TABLE), seed=0)
    assert data.schema["classes"] == ["basic", "gold", "silver"]  # sorted as text
    assert data.schema["target_type"] == "multiclass" and data.n_classes == 3
    assert data.y[:3].tolist() == [1, 0, 2]  # gold, basic, silver: the index into the classes
    assert data.report["classes"] == 3 and data.report["class_counts"] == [30, 30, 30]
    assert "positive_rate" not in data.report


def test_numeric_class_values_sort_by_value_and_lose_a_float_dot(tmp_path: Path) -> None:
    # An empty target cell makes pandas read the column as floats: 10.0 is still class "10".
    write(tmp_path, "t.csv", "a,y\n1,2\n2,10\n3,1\n4,\n5,2\n")
    data = build_table(data_cfg(tmp_path, {"name": "table", "path": "t.csv", "target": "y"}), seed=0)
    assert data.schema["classes"] == ["1", "2", "10"]
    assert data.y.tolist() == [1, 2, 0, 1] and data.report["rows_without_target"] == 1


def test_binary_tables_are_unchanged(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "id,a,y\n1,3,yes\n2,4,no\n3,5,no\n4,6,yes\n")
    cfg = data_cfg(tmp_path, {"name": "table", "path": "t.csv", "id": "id", "target": "y", "positive": "yes"})
    data = build_table(cfg, seed=0)
    assert data.y.tolist() == [1, 0, 0, 1] and data.n_classes == 2
    assert data.schema["positive"] == "yes" and not {"classes", "target_type"} & set(data.schema)
    assert data.report["positive_rate"] == 0.5
    # Without positive, 1 is the positive class, as before.
    write(tmp_path, "u.csv", "a,y\n1,0\n2,1\n3,1\n")
    plain = build_table(data_cfg(tmp_path, {"name": "table", "path": "u.csv", "target": "y"}), seed=0)
    assert plain.y.tolist() == [0, 1, 1] and plain.schema["positive"] == 1
    # target_type: binary keeps a multi-level target as positive vs the rest.
    write(tmp_path, "t3.csv", segment_table(9))
    one_vs_rest = build_table(
        data_cfg(tmp_path, {**TABLE, "path": "t3.csv", "target_type": "binary", "positive": "gold"}), seed=0
    )
    assert one_vs_rest.y.tolist() == [1, 0, 0] * 3 and "classes" not in one_vs_rest.schema


def test_positive_with_a_multi_level_target_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", segment_table(9))
    with pytest.raises(DataError, match=r"^data.positive: data.target 'segment' of t.csv has 3 val") as err:
        build_table(data_cfg(tmp_path, {**TABLE, "positive": "gold"}), seed=0)
    assert "target_type: binary" in str(err.value) and "\n" not in str(err.value)
    refused = r"data.positive: applies to binary targets; remove it \(data.target_type is multiclass\)"
    with pytest.raises(ConfigError, match=refused):
        data_cfg(tmp_path, {**TABLE, "target_type": "multiclass", "positive": "gold"})
    write(tmp_path, "two.csv", "a,y\n1,no\n2,yes\n")
    with pytest.raises(DataError, match=r"data.target_type: multiclass needs more than two target values"):
        build_table(data_cfg(tmp_path, {"name": "table", "path": "two.csv", "target": "y",
                                        "target_type": "multiclass"}), seed=0)  # fmt: skip


def test_new_labelled_data_uses_the_saved_classes(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", segment_table(9))
    trained = build_table(data_cfg(tmp_path, TABLE), seed=0)
    # Two of the classes only, in another order: encoded with the run's classes, not re-learned.
    write(tmp_path, "new.csv", "id,spend,visits,segment\n50,1,1,silver\n51,2,2,gold\n")
    new = build_table(data_cfg(tmp_path, {**TABLE, "path": "new.csv"}), seed=0, schema=trained.schema)
    assert new.y.tolist() == [2, 1] and new.n_classes == 3
    write(tmp_path, "bad.csv", "id,spend,visits,segment\n50,1,1,silver\n51,2,2,platinum\n")
    with pytest.raises(DataError, match=r"data.target 'segment': value 'platinum' of bad.csv \(data row 2"):
        build_table(data_cfg(tmp_path, {**TABLE, "path": "bad.csv"}), seed=0, schema=trained.schema)


def test_a_three_level_table_trains_end_to_end(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", segment_table())
    cfg = validate_config(
        {
            "name": "tiny_segments",
            "seed": 3,
            "data": TABLE,
            "split": {"train": 0.6, "val": 0.2, "test": 0.2},
            "model": {"name": "dense", "num_hidden_layers": 1, "hidden_layer_size": 8, "dropout_rate": 0.0},
            "train": {"epochs": 2, "batch_size": 32, "tensorboard": False},
        },
        config_dir=tmp_path,
    )
    result = train_experiment(cfg, runs_dir=tmp_path / "runs")
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert metrics["task"] == "multiclass" and metrics["classes"] == ["basic", "gold", "silver"]
    assert metrics["n_classes"] == 3 and metrics["most_frequent"]["model"] == "most_frequent"
    assert metrics["baseline"]["model"] == "lightgbm"  # baseline auto: lightgbm beside a table model
    assert json.loads((result.run_dir / "data_schema.json").read_text())["classes"] == metrics["classes"]
    predictions = pd.read_csv(result.run_dir / "predictions.csv")
    assert set(predictions["y_true"]) <= set(metrics["classes"])


# --------------------------------------------------------------------------- events: next category
# Cutoff 2024-03-01, horizon 10 days: the window is [03-01, 03-11). Before the cutoff the subclass
# counts are a 5, b 4, c 3, z 1 (top 3: a, b, c); over the whole log z is the most frequent (11
# events against a's 10), so a top-K counted on all events would hold z.
LOG = """customer,when,units,sub
P,2024-01-10 10:00,1,a
P,2024-02-10 11:00,2,a
P,2024-03-02 09:00,1,b
P,2024-03-02 09:05,1,b
P,2024-03-02 09:10,1,a
P,2024-03-05 12:00,1,a
Q,2024-02-01 08:00,1,a
Q,2024-02-02 08:00,1,b
Q,2024-03-01 00:00,1,b
Q,2024-03-01 19:30,1,a
R,2024-01-05 10:00,1,b
R,2024-02-05 10:00,1,c
R,2024-03-03 10:00,1,z
R,2024-03-03 10:00,2,z
R,2024-03-04 10:00,1,a
S,2024-02-20 10:00,1,a
S,2024-02-21 10:00,1,b
S,2024-02-22 10:00,1,b
S,2024-03-11 00:00,1,a
T,2024-02-27 10:00,1,c
T,2024-02-28 10:00,1,c
T,2024-02-29 10:00,1,z
T,2024-02-29 11:00,1,a
T,2024-03-04 10:00,1,z
T,2024-03-04 10:01,1,c
T,2024-03-04 10:02,1,z
U,2024-03-02 10:00,1,z
U,2024-03-02 10:00,3,z
U,2024-03-06 10:00,1,z
U,2024-03-07 10:00,1,z
U,2024-03-08 10:00,1,z
U,2024-03-09 10:00,1,z
"""
# P: first window day 03-02 holds b, b, a -> b (most events; 03-05 is a later basket).
# Q: 03-01 00:00 is the cutoff itself (included); b and a once each -> a (more frequent before).
# R: 03-03 holds z only -> (other), or left out with other: drop (a on 03-04 is not the next basket).
# S: 03-11 00:00 is the end of the window (excluded): no next basket, left out.
# T: 03-04 holds z, c, z: z is not a top-3 subclass -> c.  U: no history, left out.


def next_cfg(tmp_path: Path, **next_category):
    write(tmp_path, "log.csv", LOG)
    return data_cfg(tmp_path, {
        "name": "events", "path": "log.csv", "id": "customer", "time": "when", "numeric": ["units"],
        "categorical": ["sub"], "sequence_length": 4, "derived": ["days_before_reference"], "log_days": False,
        "labels": {"cutoff": "2024-03-01", "horizon_days": 10,
                   "next_category": {"column": "sub", "top_k": 3, **next_category}},
    })  # fmt: skip


def test_next_category_labels_by_hand(tmp_path: Path) -> None:
    data = build_events(next_cfg(tmp_path), seed=0)
    assert data.schema["classes"] == ["a", "b", "c", "(other)"] and data.n_classes == 4
    assert data.schema["next_category"] == {"column": "sub", "ranked": ["a", "b", "c"], "other": "keep"}
    names = data.schema["classes"]
    assert dict(zip(data.ids.tolist(), [names[i] for i in data.y], strict=True)) == {
        "P": "b", "Q": "a", "R": "(other)", "T": "c"
    }  # fmt: skip
    report = data.report
    assert report["customers_without_history"] == 1  # U
    assert report["customers_without_next_basket"] == 1 and report["customers_without_label"] == 1  # S
    assert report["customers_next_basket_other"] == 1 and report["class_counts"] == [1, 1, 1, 1]
    assert "1 customer(s) without a basket in [2024-03-01, 2024-03-11) left out" in report["notes"]
    # The features are the events before the cutoff only: P has 2, every day count is positive.
    assert data.mask.sum(axis=1).tolist() == [2, 2, 2, 4]
    days = data.X[..., data.feature_names.index("days_before_reference")]
    assert (days[data.mask] > 0).all()
    assert data.schema["categorical"]["sub"] == ["a", "b", "c", "z"]  # z occurs before the cutoff (T)


def test_next_category_other_drop(tmp_path: Path) -> None:
    data = build_events(next_cfg(tmp_path, other="drop"), seed=0)
    assert data.schema["classes"] == ["a", "b", "c"]
    assert data.ids.tolist() == ["P", "Q", "T"] and data.y.tolist() == [1, 0, 2]
    assert data.report["customers_without_label"] == 2  # S (no basket) and R (other, dropped)
    assert any("left out (next_category.other: drop)" in note for note in data.report["notes"])


def test_next_category_top_k_counts_events_before_the_cutoff_only(tmp_path: Path) -> None:
    # Over the whole log z ranks first, before the cutoff it has 1 event: the top 2 are a and b.
    whole = pd.read_csv(write(tmp_path, "log.csv", LOG))["sub"].value_counts()
    assert whole.index[0] == "z" and whole["z"] == 11 and whole["a"] == 10
    data = build_events(next_cfg(tmp_path, top_k=2), seed=0)
    assert data.schema["classes"] == ["a", "b", "(other)"]
    assert dict(zip(data.ids.tolist(), data.y.tolist(), strict=True)) == {"P": 1, "Q": 0, "R": 2, "T": 2}


def test_next_category_scores_new_data_with_the_saved_classes(tmp_path: Path) -> None:
    cfg = next_cfg(tmp_path)
    trained = build_events(cfg, seed=0)
    # A new log where z dominates before the cutoff too: the run's classes (a, b, c) still hold.
    rows = ["V,2024-02-01,1,z", "V,2024-02-02,1,z", "V,2024-03-02,1,z", "W,2024-02-03,1,z",
            "W,2024-03-03,1,c"]  # fmt: skip
    write(tmp_path, "new.csv", "customer,when,units,sub\n" + "\n".join(rows) + "\n")
    new_cfg = cfg.model_copy(update={"path": str(tmp_path / "new.csv")})
    new = build_events(new_cfg, seed=0, schema=trained.schema)
    assert new.schema["classes"] == trained.schema["classes"]
    assert dict(zip(new.ids.tolist(), new.y.tolist(), strict=True)) == {"V": 3, "W": 2}


def test_max_levels_lumps_rare_category_values(tmp_path: Path) -> None:
    base = next_cfg(tmp_path)
    cfg = base.model_copy(update={"max_levels": {"sub": 2}})
    data = build_events(cfg, seed=0)
    assert data.schema["categorical"]["sub"] == ["a", "b", "(other)"]
    t = data.X[list(data.ids).index("T")]
    sub = [data.feature_names.index(f"sub={level}") for level in ("a", "b", "(other)")]
    assert t[:, sub].tolist() == [[0, 0, 1], [0, 0, 1], [0, 0, 1], [1, 0, 0]]  # c, c, z, a
    assert data.report["unseen_levels"] == {}
    with pytest.raises(ConfigError, match="max_levels: column 'kind' is not listed under categorical"):
        data_cfg(tmp_path, {**base.model_dump(), "max_levels": {"kind": 3}})


def test_next_category_refusals(tmp_path: Path) -> None:
    base = next_cfg(tmp_path).model_dump()
    with pytest.raises(ConfigError, match="reference_date: after labels.cutoff"):
        data_cfg(tmp_path, {**base, "reference_date": "2024-03-05"})
    labels = base["labels"]
    with pytest.raises(ConfigError, match="top_k: 2 with other: drop leaves two classes"):
        data_cfg(tmp_path, {**base, "labels": {**labels, "next_category": {"column": "sub", "top_k": 2,
                                                                          "other": "drop"}}})  # fmt: skip
    missing = data_cfg(tmp_path, {**base, "labels": {**labels, "next_category": {"column": "shelf"}}})
    with pytest.raises(DataError, match=r"data.labels.next_category.column: column 'shelf' is not in log"):
        build_events(missing, seed=0)


# --------------------------------------------------------------------------- the real Ta-Feng log

TA_FENG = SHARED_DATA / "ta-feng" / "ta_feng.csv.zip"
CUTOFF = pd.Timestamp("2001-02-01")


@pytest.fixture(scope="module")
def ta_feng() -> tuple[object, pd.DataFrame]:
    """The shipped config's data set, and the raw log read here with pandas alone."""
    assert TA_FENG.is_file(), f"the real data sets are expected in {SHARED_DATA}"
    from seqexp.config.loading import load_config

    cfg = load_config(CONFIGS / "tafeng_next_subclass.yaml")
    data = build_events(cfg.data, seed=cfg.seed)
    raw = pd.read_csv(TA_FENG, dtype={"CUSTOMER_ID": str})
    raw["day"] = pd.to_datetime(raw["TRANSACTION_DT"], format="%m/%d/%Y")
    raw["customer"] = raw["CUSTOMER_ID"].astype(int)  # the source reads the ids as numbers
    return data, raw


def test_ta_feng_next_subclass_data_set(ta_feng) -> None:
    data, raw = ta_feng
    before = raw[raw["day"] < CUTOFF]
    top = before["PRODUCT_SUBCLASS"].value_counts().head(10)
    assert data.n_classes == 11 and data.schema["classes"] == sorted(top.index.astype(str)) + ["(other)"]
    window = raw[(raw["day"] >= CUTOFF) & (raw["day"] < CUTOFF + pd.Timedelta(days=28))]
    expected = set(before["customer"]) & set(window["customer"])
    assert set(data.ids.tolist()) == expected and len(expected) == 13255

    # No feature sees the cutoff or later: each customer's real steps are its events before the
    # cutoff (the last 50 of them), and every one lies at least a day before it.
    counts = before.groupby("customer").size().reindex(data.ids).to_numpy()
    assert np.array_equal(data.mask.sum(axis=1), np.minimum(counts, data.X.shape[1]))
    days = data.X[..., data.feature_names.index("log1p_days_before_reference")]
    assert (days[data.mask] >= np.log1p(1.0) - 1e-6).all()
    assert data.report["events_from_reference_date"] == int((raw["day"] >= CUTOFF).sum())

    # The label of a few customers, from the raw rows: the first February day's basket, its most
    # frequent top-10 subclass (ties: the one more frequent before the cutoff), else (other).
    rank = {int(sub): i for i, sub in enumerate(top.index)}  # value_counts: most frequent first
    names = data.schema["classes"]
    labels = dict(zip(data.ids.tolist(), data.y.tolist(), strict=True))
    first_day = window.groupby("customer")["day"].transform("min")
    baskets = window[(window["day"] == first_day) & window["customer"].isin(labels)]  # with a history
    in_top = baskets[baskets["PRODUCT_SUBCLASS"].isin(rank)]
    per_sub = in_top.groupby(["customer", "PRODUCT_SUBCLASS"]).size()
    best = per_sub.groupby("customer").transform("max")
    tied = (per_sub == best).groupby("customer").sum()  # top subclasses sharing the basket's maximum
    several = per_sub.groupby("customer").size()
    without = sorted(set(baskets["customer"]) - set(in_top["customer"]))
    sample = list(dict.fromkeys([*tied[tied > 1].index[:2], *several[several > 2].index[:2], *without[:2]]))
    assert (tied > 1).sum() >= 2 and len(sample) >= 5  # a tie, several top subclasses, (other)
    for customer in sample:
        basket = baskets.loc[baskets["customer"] == customer, "PRODUCT_SUBCLASS"]
        hits = basket[basket.isin(rank)].value_counts()
        if hits.empty:
            want = "(other)"
        else:
            best = hits[hits == hits.max()].index
            want = str(min(best, key=rank.__getitem__))
        assert names[labels[customer]] == want, customer
