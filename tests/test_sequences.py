"""The vectorized sequence builder against a plain per-customer loop (the obvious, slow oracle)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from seqexp.data.sequences import build_sequences, customer_codes, sort_order


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(-3, 3)), min_size=1, max_size=40))
def test_sort_order_is_lexsort(pairs) -> None:
    codes = np.array([p[0] for p in pairs], dtype=np.int64)
    times = np.array([p[1] for p in pairs], dtype=np.int64)  # many ties: input order must win
    assert np.array_equal(sort_order(codes, times, 7), np.lexsort((times, codes)))


def test_customer_codes_sorted_for_int_and_text_ids() -> None:
    codes, ids = customer_codes(pd.Series([30, 10, 30, 20]))
    assert ids.tolist() == [10, 20, 30] and codes.tolist() == [2, 0, 2, 1]
    codes, ids = customer_codes(pd.Series(["b", "a", "b", "c"]))
    assert ids.tolist() == ["a", "b", "c"] and codes.tolist() == [1, 0, 1, 2]
    codes, ids = customer_codes(pd.Series([10**12, 5, 10**12]))  # sparse ints: the factorize path
    assert ids.tolist() == [5, 10**12] and codes.tolist() == [1, 0, 1]


def test_builder_matches_a_per_customer_loop() -> None:
    rng = np.random.default_rng(3)
    n, length = 400, 4
    log = pd.DataFrame({
        "cid": rng.integers(0, 60, size=n),
        "t": np.datetime64("2024-01-01") + rng.integers(0, 90, size=n).astype("timedelta64[D]"),
        "amount": rng.normal(size=n),
        "kind": rng.choice(["a", "b", "c"], size=n),
    })  # fmt: skip
    reference = np.datetime64("2024-04-01")
    seq = build_sequences(log, id_col="cid", time_col="t", length=length, numeric=["amount"],
                          categorical={"kind": ["a", "b"]}, derived=["days_since_previous",
                          "days_before_reference", "day_of_week"], reference=reference, log_days=False,
                          aggregates=True)  # fmt: skip
    for row, (cid, group) in enumerate(log.groupby("cid", sort=True)):
        assert seq.ids[row] == cid
        group = group.sort_values("t", kind="stable")
        gaps = group["t"].diff().dt.days.fillna(0).to_numpy()[-length:]
        last = group.tail(length)
        k = len(last)
        steps = seq.X[row, length - k :]
        assert seq.mask[row].tolist() == [False] * (length - k) + [True] * k
        assert not seq.X[row, : length - k].any()
        np.testing.assert_allclose(steps[:, 0], last["amount"], rtol=1e-6)
        np.testing.assert_allclose(steps[:, 1], gaps)
        np.testing.assert_allclose(steps[:, 2], (reference - last["t"].to_numpy()) / np.timedelta64(1, "D"))
        assert steps[:, 3:5].tolist() == [[kind == "a", kind == "b"] for kind in last["kind"]]
        weekday = steps[:, 5:12].argmax(axis=1)
        assert weekday.tolist() == last["t"].dt.dayofweek.tolist()
        recency = (reference - group["t"].max()) / np.timedelta64(1, "D")
        expected = [len(group), recency, (reference - group["t"].min()) / np.timedelta64(1, "D"),
                    group["amount"].sum(), group["amount"].mean()]  # fmt: skip
        np.testing.assert_allclose(seq.aggregates[row], expected, rtol=1e-5)
