"""Snapshots: one example per (customer, cutoff) of an event log, each built from the events strictly
before its own cutoff and labelled from ``[cutoff, cutoff + horizon_days)``. The answers are worked
out by hand on the log below; the leakage tests compare every snapshot row with a fresh one-cutoff
build at that date, and with a log whose events on and after the cutoff were changed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seqexp.config.loading import validate_config
from seqexp.data.events import build_events
from seqexp.errors import ConfigError, DataError

# Cutoffs 2024-02-01, 2024-02-15, 2024-03-01; horizon 14 days; a positive is a purchase of sku 2.
LOG = """customer,when,amount,sku
1,2024-01-05,10,1
1,2024-02-03,20,2
1,2024-02-20,30,1
1,2024-03-05,40,2
2,2024-01-20,5,1
2,2024-02-15,7,2
3,2024-02-10,100,1
3,2024-03-10,1,1
4,2024-01-02,9,2
"""
CUTOFFS = ["2024-02-01", "2024-02-15", "2024-03-01"]


def section(**data) -> dict:
    return {
        "name": "events", "path": "log.csv", "id": "customer", "time": "when", "numeric": ["amount"],
        "derive": {"is_target": "sku == 2"}, "output": "aggregates",
        "aggregates": {"windows_days": [7, 30], "flags": ["is_target"]},
        "labels": {"horizon_days": 14, "where": "is_target == 1"},
        "snapshots": {"cutoffs": CUTOFFS}, **data,
    }  # fmt: skip


def build(tmp_path: Path, text: str = LOG, **data):
    (tmp_path / "log.csv").write_text(text)
    values = section(**data)
    split = {"method": "time"} if values.get("snapshots") else {}  # a random split of snapshots is refused
    cfg = validate_config({"data": values, "split": split}, config_dir=tmp_path).data
    return build_events(cfg, seed=0)


def rows(data) -> list[tuple[str, int, int]]:
    return [(str(c)[:10], int(i), int(y)) for c, i, y in zip(data.cutoffs, data.ids, data.y, strict=True)]


def test_one_example_per_customer_with_history_at_each_cutoff(tmp_path: Path) -> None:
    data = build(tmp_path)
    # 02-01: customers 1 (01-05), 2 (01-20), 4 (01-02); 1 buys sku 2 on 02-03 (in [02-01, 02-15)).
    # 02-15: 1, 2, 3 (02-10), 4; customer 2's sku 2 on 02-15 is ON the cutoff: label, not feature.
    # 03-01: everyone; customer 1 buys sku 2 on 03-05.
    assert rows(data) == [
        ("2024-02-01", 1, 1), ("2024-02-01", 2, 0), ("2024-02-01", 4, 0),
        ("2024-02-15", 1, 0), ("2024-02-15", 2, 1), ("2024-02-15", 3, 0), ("2024-02-15", 4, 0),
        ("2024-03-01", 1, 1), ("2024-03-01", 2, 0), ("2024-03-01", 3, 0), ("2024-03-01", 4, 0),
    ]  # fmt: skip
    per_cutoff = {r["cutoff"][:10]: r for r in data.report["snapshots"]}
    assert per_cutoff["2024-02-01"]["customers_without_history"] == 1  # customer 3 starts on 02-10
    assert [r["examples"] for r in data.report["snapshots"]] == [3, 4, 4]
    assert [r["positives"] for r in data.report["snapshots"]] == [1, 1, 1]
    assert data.report["examples"] == 11 and data.report["customers"] == 4
    assert data.schema["snapshots"]["horizon_days"] == 14
    # Features as of each cutoff: customer 2 has 1 event before 02-15 (its 02-15 purchase is later).
    count = data.X[:, data.feature_names.index("count")]
    recency = data.X[:, data.feature_names.index("recency_days")]
    assert count.tolist() == [1, 1, 1, 2, 1, 1, 1, 3, 2, 1, 1]
    assert recency[4] == 26  # 2024-01-20 -> 2024-02-15


def test_each_snapshot_row_equals_a_fresh_build_at_its_cutoff(tmp_path: Path) -> None:
    data = build(tmp_path)
    for cutoff in CUTOFFS:
        labels = {"cutoff": cutoff, "horizon_days": 14, "where": "is_target == 1"}
        single = build(tmp_path, labels=labels, snapshots=None)
        here = data.cutoffs == np.datetime64(cutoff, "s")
        assert data.ids[here].tolist() == single.ids.tolist()
        assert data.y[here].tolist() == single.y.tolist()
        np.testing.assert_array_equal(data.X[here], single.X)


def test_no_feature_uses_an_event_on_or_after_its_cutoff(tmp_path: Path) -> None:
    """Changing every event on or after 2024-02-15 changes no feature of the 02-01 and 02-15 rows."""
    data = build(tmp_path)
    lines = LOG.splitlines()
    changed = [lines[0]]
    for line in lines[1:]:
        customer, when, amount, sku = line.split(",")
        changed.append(",".join([customer, when, "99999" if when >= "2024-02-15" else amount, sku]))
    other = build(tmp_path, "\n".join(changed) + "\n")
    early = data.cutoffs <= np.datetime64("2024-02-15", "s")
    np.testing.assert_array_equal(data.X[early], other.X[early])
    assert not np.array_equal(data.X[~early], other.X[~early])  # the 03-01 rows do see them


def test_sequences_at_each_cutoff(tmp_path: Path) -> None:
    data = build(tmp_path, output="sequence", sequence_length=2, aggregates={})
    assert data.X.shape == (11, 2, 1) and data.mask is not None  # amount per step
    here = (data.cutoffs == np.datetime64("2024-03-01", "s")) & (data.ids == 1)
    amounts = data.X[here][0, :, 0]
    assert amounts.tolist() == [20, 30]  # the last two events before 03-01; 03-05 is later


def test_every_days_spaces_the_cutoffs(tmp_path: Path) -> None:
    data = build(tmp_path, snapshots={"every_days": 14, "from": "2024-02-01", "to": "2024-03-01"})
    assert sorted({str(c)[:10] for c in data.cutoffs}) == ["2024-02-01", "2024-02-15", "2024-02-29"]


@pytest.mark.parametrize(
    ("labels", "snapshots", "message"),
    [
        ({"cutoff": "2024-02-01", "horizon_days": 14}, {"cutoffs": CUTOFFS}, "labels.cutoff: remove it"),
        ({"horizon_days": None}, {"cutoffs": CUTOFFS}, "fixed horizon"),
        ({"horizon_days": 14}, None, "labels.cutoff: required"),
        ({"horizon_days": 14}, {"every_days": 7}, "every_days, from and to"),
        ({"horizon_days": 14}, {"cutoffs": ["2024-02-01", "2024-02-01"]}, "listed twice"),
    ],
)
def test_snapshot_config_mistakes(tmp_path: Path, labels, snapshots, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate_config({"data": section(labels=labels, snapshots=snapshots)}, config_dir=tmp_path)


def test_a_label_rule_matching_nothing_points_at_labels_where(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"check data.labels.where 'sku == 20': does it match events"):
        build(tmp_path, labels={"horizon_days": 14, "where": "sku == 20"})  # a typo for 2


def test_sequence_and_aggregates_at_each_cutoff(tmp_path: Path) -> None:
    data = build(tmp_path, output="sequence_and_aggregates", sequence_length=2)
    assert data.X.shape[:2] == (11, 2) and data.static is not None and len(data.static) == 11
    count = data.static[:, data.static_names.index("count")]
    assert count.tolist() == [1, 1, 1, 2, 1, 1, 1, 3, 2, 1, 1]  # the aggregates of each cutoff, beside
