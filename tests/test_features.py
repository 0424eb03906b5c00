"""Point-in-time features of the ``events`` source: the event filter (``where``), derived columns
(``derive``), the aggregate vector (windows, gaps, flags, level counts, trends), the label window to
the end of the log, leakage, and the schema that encodes new data the same way. Numbers are worked
out by hand on the log below."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqexp.config.loading import validate_config
from seqexp.data.aggregates import build_aggregates
from seqexp.data.events import build_events
from seqexp.errors import ConfigError, DataError

# Reference date (the cutoff): 2024-03-01. Customer 0 stands for "unknown" and is filtered out
# (`where: customer != 0`); sku 2 is the targeted product (`derive: {is_target: sku == 2}`).
LOG = """customer,when,amount,kind,sku
1,2024-01-01,10,shop,1
1,2024-02-01,20,shop,2
1,2024-02-25,30,atm,1
1,2024-02-28,40,shop,2
1,2024-03-02,500,shop,2
2,2024-02-10,5,atm,1
2,2024-02-10,7,atm,3
2,2024-02-20,-3,deposit,1
3,2024-01-15,100,shop,1
0,2024-02-15,999,shop,2
0,2024-03-03,1,shop,2
"""


def config(tmp_path: Path, text: str = LOG, **data):
    (tmp_path / "log.csv").write_text(text)
    section = {
        "name": "events", "path": "log.csv", "id": "customer", "time": "when", "numeric": ["amount"],
        "categorical": ["kind"], "derive": {"is_target": "sku == 2"}, "where": "customer != 0",
        "output": "aggregates",
        "aggregates": {"windows_days": [7, 30], "flags": ["is_target"], "top_k": 1},
        "labels": {"cutoff": "2024-03-01", "horizon_days": None, "where": "is_target == 1"},
        **data,
    }  # fmt: skip
    return validate_config({"data": section}, config_dir=tmp_path).data


def features(data) -> dict[str, list[float]]:
    return {name: data.X[:, j].tolist() for j, name in enumerate(data.feature_names)}


def close(values: list[float], expected: list[float]) -> bool:
    return np.allclose(values, expected, rtol=1e-5, equal_nan=True)


def test_aggregates_on_a_hand_made_log(tmp_path: Path) -> None:
    data = build_events(config(tmp_path), seed=0)
    f = features(data)
    assert data.ids.tolist() == [1, 2, 3]  # customer 0 filtered out
    # Customer 1: 01-01 (10), 02-01 (20, target), 02-25 (30), 02-28 (40, target); 03-02 is the label.
    # Customer 2: 02-10 (5), 02-10 (7), 02-20 (-3). Customer 3: 01-15 (100).
    assert f["count"] == [4, 3, 1] and f["active_days"] == [4, 2, 1]
    assert f["recency_days"] == [2, 10, 46] and f["tenure_days"] == [60, 20, 46]  # 2024 is a leap year
    assert close(f["events_per_day"], [4 / 60, 3 / 20, 1 / 46])
    # Windows: ref - 7 days = 02-23, ref - 30 days = 01-31 (included); the window before: [02-16, 02-23).
    assert f["count_7d"] == [2, 0, 0] and f["count_30d"] == [3, 3, 0]
    assert f["count_trend_7d"] == [1, -1, 0]  # 2 vs 0; 0 vs 1 (02-20); nothing in either
    assert f["count_trend_30d"] == [0.5, 1, -1]  # (3 - 1) / (3 + 1); 3 vs 0; 0 vs 1 (01-15)
    assert f["amount_sum"] == [100, 9, 100] and f["amount_mean"] == [25, 3, 100]
    assert f["amount_max"] == [40, 7, 100]
    assert f["amount_sum_7d"] == [70, 0, 0] and close(f["amount_mean_7d"], [35, np.nan, np.nan])
    assert close(f["amount_max_30d"], [40, 7, np.nan])  # no event in the window: NaN, imputed later
    assert close(f["amount_sum_trend_30d"], [0.8, 1, -1])  # customer 1: (90 - 10) / (90 + 10)
    # Gaps between events, days: customer 1: 31, 24, 3; customer 2: 0 (same day), 10.
    assert close(f["gap_days_mean"], [58 / 3, 5, np.nan])
    assert close(f["gap_days_std"], [np.std([31, 24, 3]), 5, np.nan]) and close(
        f["gap_days_last"], [3, 10, np.nan]
    )
    # The derived 0/1 column is summarised like any numeric column, and is a flag.
    assert f["is_target_sum"] == [2, 0, 0] and f["is_target_sum_7d"] == [1, 0, 0]
    assert close(f["is_target_mean_30d"], [2 / 3, 0, np.nan])
    assert f["days_since_last_is_target"] == [2, 20, 46]  # never: the tenure
    # top_k: 1 level of kind by events before the cutoff (shop: 4, atm: 3), the rest "(other)".
    assert data.schema["aggregates"]["levels"] == {"kind": ["shop", "(other)"]}
    assert f["kind=shop_count"] == [3, 0, 1] and f["kind=(other)_count"] == [1, 3, 0]
    assert data.schema["aggregates"]["names"] == data.feature_names
    assert data.mask is None and data.X.dtype == np.float32


def test_where_is_applied_first_and_counted(tmp_path: Path) -> None:
    data = build_events(config(tmp_path), seed=0)
    report = data.report
    assert report["events_removed_by_where"] == 2 and report["customers_removed_by_where"] == 1
    assert report["events"] == 9 and report["customers_in_log"] == 3
    assert any("data.where 'customer != 0' removed 2 of 11" in note for note in report["notes"])
    # The label window runs to the end of the FILTERED log: customer 0's 03-03 is gone, so it ends
    # the day after 03-02. Customer 1 buys the target on 03-02.
    assert report["label_window_start"] == "2024-03-01 00:00:00"
    assert report["label_window_end"] == "2024-03-03 00:00:00" and report["label_window_days"] == 2
    assert data.y.tolist() == [1, 0, 0]


def test_where_on_a_derived_column_and_raw_values(tmp_path: Path) -> None:
    where = "customer != 0 and amount > 0 and (is_target == 0 or when >= '2024-03-01')"
    data = build_events(config(tmp_path, where=where), seed=0)
    f = features(data)
    assert data.ids.tolist() == [1, 2, 3]
    assert f["count"] == [2, 2, 1] and f["amount_sum"] == [40, 12, 100]  # the return (-3) is gone too
    assert f["is_target_sum"] == [0, 0, 0] and data.y.tolist() == [1, 0, 0]  # 03-02 kept: a label
    assert data.report["events_removed_by_where"] == 2 + 2 + 1  # customer 0, two targets, the return


def test_until_and_horizon_give_the_same_window(tmp_path: Path) -> None:
    labels = {"cutoff": "2024-03-01", "where": "is_target == 1"}
    by_days = build_events(config(tmp_path, labels={**labels, "horizon_days": 5}), seed=0)
    by_date = build_events(config(tmp_path, labels={**labels, "until": "2024-03-06"}), seed=0)
    assert by_days.report["label_window_days"] == by_date.report["label_window_days"] == 5
    assert by_days.y.tolist() == by_date.y.tolist() == [1, 0, 0]
    assert any("runs past the log's last event" in note for note in by_days.report["notes"])
    with pytest.raises(ConfigError, match="give horizon_days .* or until"):
        config(tmp_path, labels={"cutoff": "2024-03-01"})
    with pytest.raises(ConfigError, match="until: 2024-02-01 is not after the cutoff 2024-03-01"):
        config(tmp_path, labels={**labels, "until": "2024-02-01"})
    with pytest.raises(ConfigError, match="horizon_days and until both set"):
        config(tmp_path, labels={**labels, "horizon_days": 5, "until": "2024-03-06"})


def test_derived_columns_in_the_sequence(tmp_path: Path) -> None:
    cfg = config(tmp_path, output="sequence", numeric=["amount", "is_target", "line"], sequence_length=3,
                 derive={"is_target": "sku == 2", "line": "amount * sku + (kind == 'atm')"})  # fmt: skip
    data = build_events(cfg, seed=0)
    names = data.feature_names
    steps = data.X[0]  # customer 1's last three events before the cutoff
    assert steps[:, names.index("is_target")].tolist() == [1, 0, 1]
    assert steps[:, names.index("line")].tolist() == [40, 31, 80]  # 20 * 2; 30 * 1 + 1; 40 * 2


def test_log1p_is_applied_after_aggregating_and_named(tmp_path: Path) -> None:
    raw = features(build_events(config(tmp_path), seed=0))
    logged = build_events(config(tmp_path, aggregates={"windows_days": [7, 30], "log1p": True}), seed=0)
    f = features(logged)
    assert close(f["log1p_amount_sum"], np.log1p([100, 9, 100]).tolist())  # log of the sum, not a sum of logs
    assert close(f["log1p_amount_sum_7d"], [np.log1p(70), 0, 0]) and close(
        f["log1p_count"], np.log1p([4, 3, 1])
    )
    assert f["amount_sum_trend_30d"] == raw["amount_sum_trend_30d"]  # trends stay as they are, unprefixed
    # data.log1p (the sequence's steps) does not touch the aggregates.
    plain = build_events(config(tmp_path, log1p=["amount"], where="customer != 0 and amount > 0"), seed=0)
    assert features(plain)["amount_sum"] == [100, 12, 100]


def test_gaps_between_days(tmp_path: Path) -> None:
    data = build_events(config(tmp_path, aggregates={"windows_days": [30], "gaps": "days"}), seed=0)
    f = features(data)
    # Customer 2 shops on 2 days (02-10 twice, 02-20): one gap of 10 days.
    assert close(f["gap_days_mean"], [58 / 3, 10, np.nan]) and close(
        f["gap_days_std"], [np.std([31, 24, 3]), 0, np.nan]
    )


# --------------------------------------------------------------------------- leakage


def _later(text: str) -> str:
    """The log with every event on or after the cutoff changed, and new events on and after it."""
    frame = pd.read_csv(io.StringIO(text))
    late = frame["when"] >= "2024-03-01"
    frame.loc[late, "amount"] = frame.loc[late, "amount"] * 1000 + 7
    frame.loc[late, "kind"] = "deposit"
    extra = pd.DataFrame({
        "customer": [1, 2, 2, 9], "when": ["2024-03-01", "2024-03-01", "2024-03-15", "2024-03-20"],
        "amount": [1e6, -50, 8, 1], "kind": ["new", "atm", "shop", "shop"], "sku": [2, 2, 9, 2],
    })  # fmt: skip
    return pd.concat([frame, extra]).to_csv(index=False)


@pytest.mark.parametrize("output", ["aggregates", "sequence", "sequence_and_aggregates"])
def test_no_feature_reads_an_event_on_or_after_the_cutoff(tmp_path: Path, output: str) -> None:
    extra = {"output": output, "sequence_length": 3, "numeric": ["amount", "is_target"],
             "derived": ["days_since_previous", "days_before_reference", "day_of_week"],
             "labels": {"cutoff": "2024-03-01", "horizon_days": None}}  # fmt: skip
    builds = []
    for name, text in (("first", LOG), ("later", _later(LOG))):
        (tmp_path / name).mkdir()
        builds.append(build_events(config(tmp_path / name, text, **extra), seed=0))
    first, second = builds
    assert first.ids.tolist() == second.ids.tolist() == [1, 2, 3]  # customer 9 has no history
    assert first.feature_names == second.feature_names
    np.testing.assert_array_equal(first.X, second.X)
    if first.mask is not None:
        np.testing.assert_array_equal(first.mask, second.mask)
    assert (first.static is None) == (output != "sequence_and_aggregates")
    if first.static is not None:  # the aggregates beside the sequence see no later event either
        assert first.static_names == second.static_names
        np.testing.assert_array_equal(first.static, second.static)
    assert first.schema == second.schema
    assert second.report["events_from_reference_date"] == first.report["events_from_reference_date"] + 4
    assert first.y.tolist() == [1, 0, 0] and second.y.tolist() == [1, 1, 0]  # only the labels may change


def test_the_builder_refuses_events_at_the_reference_date() -> None:
    log = pd.DataFrame({"id": [1], "t": [pd.Timestamp("2024-03-01")]})
    spec = {"numeric": [], "stats": ["sum"], "windows_days": [], "flags": [], "levels": {}, "gaps": "none",
            "trend": False}  # fmt: skip
    with pytest.raises(ValueError, match="before the reference date"):
        build_aggregates(log, id_col="id", time_col="t", reference=np.datetime64("2024-03-01"), spec=spec)


# --------------------------------------------------------------------------- mistakes


def test_unknown_column_in_where_names_it_and_lists_the_columns(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        build_events(config(tmp_path, where="customer != 0 and amout > 0"), seed=0)
    message = str(caught.value)
    assert message.startswith("data.where: cannot evaluate") and "column 'amout' is not in log.csv" in message
    assert "did you mean 'amount'?" in message
    assert "its columns are: customer, when, amount, kind, sku, is_target" in message


def test_unknown_column_in_derive_and_labels_where(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"data.derive.line: cannot evaluate 'amount \* qty': column 'qty'"):
        build_events(config(tmp_path, derive={"line": "amount * qty"}), seed=0)
    with pytest.raises(DataError, match=r"data.labels.where: .*column 'is_targt'.*did you mean 'is_target'"):
        build_events(config(tmp_path, labels={"cutoff": "2024-03-01", "horizon_days": 9,
                                              "where": "is_targt == 1"}), seed=0)  # fmt: skip
    with pytest.raises(DataError, match=r"data.aggregates.flags: column 'is_big' is not in log.csv"):
        build_events(config(tmp_path, aggregates={"flags": ["is_big"]}), seed=0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"where": "customer = 0"},
         r"data.where: has a single '=' \(an assignment\); to compare, write '==' \(got 'customer = 0'\)"),
        ({"derive": {"t": "sku = 2"}}, r"data.derive: 't' has a single '='"),
        ({"labels": {"cutoff": "2024-03-01", "horizon_days": 9, "where": "kind = 'atm'"}},
         r"has a single '='"),
        ({"where": "kind.str.contains('a')"}, r"calls kind.str.contains\(\): only the math functions"),
        ({"derive": {"x": "__import__('os').system('ls')"}},
         r"data.derive: 'x' calls __import__\('os'\).system\(\): only the math functions"),
        ({"derive": {"x": "amount.values"}}, r"uses attribute access"),
        ({"where": "amount > @limit"}, r"uses '@' \(a Python variable\)"),
        ({"derive": {"x": "[a for a in amount]"}}, r"a comprehension"),
        ({"derive": {"x y": "amount"}}, r"a derived column's name is letters, digits and '_'"),
        ({"derive": {"when": "amount"}}, r"already the id or time column"),
        ({"where": "amount >"}, r"is not a valid expression"),
    ],
    ids=["where-eq", "derive-eq", "labels-eq", "attribute-call", "import", "attribute", "variable",
         "comprehension", "bad-name", "time-name", "syntax"],
)  # fmt: skip
def test_expressions_stay_expressions(tmp_path: Path, data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config(tmp_path, **data)


def test_math_functions_are_allowed_and_text_is_not_a_number(tmp_path: Path) -> None:
    data = build_events(config(tmp_path, derive={"size": "abs(amount)", "is_target": "sku == 2"}), seed=0)
    assert features(data)["size_sum"] == [100, 15, 100]
    with pytest.raises(
        DataError, match=r"data.derive.k: 'kind' gives .* values; a derived column is a number"
    ):
        build_events(config(tmp_path, derive={"k": "kind"}), seed=0)
    with pytest.raises(DataError, match=r"data.where: 'amount \* 2' gives .* not true/false"):
        build_events(config(tmp_path, where="amount * 2"), seed=0)
    with pytest.raises(DataError, match=r"data.derive.r: .* is infinite for 1 event"):
        build_events(config(tmp_path, derive={"r": "amount / (sku - 3)"}), seed=0)


# --------------------------------------------------------------------------- new data


NEW = """customer,when,amount,kind,sku
7,2023-12-01,50,transfer,2
7,2024-02-29,10,shop,1
8,2024-02-27,4,atm,2
0,2024-02-01,1,shop,2
"""


def test_the_schema_encodes_new_data_identically(tmp_path: Path) -> None:
    trained = build_events(config(tmp_path), seed=0)
    # New data with the config stripped of derive and where: the run's schema brings both back.
    (tmp_path / "new").mkdir()
    new_cfg = config(tmp_path / "new", NEW, derive={}, where=None, labels=None,
                     aggregates={"windows_days": [1], "top_k": 5})  # fmt: skip
    new = build_events(new_cfg, seed=0, schema=trained.schema, labelled=False)
    assert new.feature_names == trained.feature_names and new.schema == trained.schema
    assert new.ids.tolist() == [7, 8] and new.y.tolist() == [-1, -1]  # customer 0 filtered again
    f = features(new)
    assert f["count"] == [2, 1] and f["days_since_last_is_target"] == [91, 3]  # 2023-12-01, 02-27
    assert f["kind=shop_count"] == [1, 0] and f["kind=(other)_count"] == [1, 1]  # transfer: (other)
    assert f["is_target_sum_30d"] == [0, 1]


def test_older_runs_keep_their_aggregates(tmp_path: Path) -> None:
    """A run saved before these aggregates (its schema has none) is encoded as it was trained."""
    trained = build_events(config(tmp_path), seed=0)
    old = {k: v for k, v in trained.schema.items() if k not in ("aggregates", "derive", "where")}
    again = build_events(config(tmp_path, derive={}, where=None), seed=0, schema=old, labelled=False)
    assert again.feature_names == ["count", "recency_days", "tenure_days", "amount_total", "amount_mean"]
    assert again.ids.tolist() == [0, 1, 2, 3]
