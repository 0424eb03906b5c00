"""The customer-item graph (``data.graph``): each example's edge row holds the events strictly before
its own cutoff and nothing later; the embeddings and propagated features are fitted on the training
rows alone, and a customer unseen in training is embedded from its own edges, with the saved factors
(and so every training row's vector) unchanged. The hand-worked log is the snapshots tests' own."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqexp.config.loading import validate_config
from seqexp.data.cache import load, store
from seqexp.data.events import build_events
from seqexp.errors import ConfigError, DataError
from seqexp.pipeline.graph_features import GraphFeatures, item_weights, normalised
from tests.test_snapshots import LOG, section

GRAPH = {"item": "sku", "weight": "count", "normalise": "row", "dims": 1, "hops": 1}


def graph_log(customers: int = 240, items: int = 30, seed: int = 0) -> pd.DataFrame:
    """Three communities of customers, each buying mostly its own ten items in Jan-Feb 2024; those of
    community 0 buy the target sku 99 in March far more often (the graph knows who they are)."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(customers):
        k = int(rng.integers(2, 12))
        own = rng.random(k) < 0.8
        item = np.where(own, (c % 3) * 10 + rng.integers(0, 10, k), rng.integers(0, items, k))
        days = rng.integers(0, 59, k)
        rows += [
            (c, np.datetime64("2024-01-01") + int(d), int(i), float(rng.gamma(2, 5)))
            for i, d in zip(item, days, strict=True)
        ]
        if rng.random() < (0.5 if c % 3 == 0 else 0.06):
            rows.append((c, np.datetime64("2024-03-01") + int(rng.integers(0, 20)), 99, 3.0))
    frame = pd.DataFrame(rows, columns=["customer", "when", "sku", "amount"])
    return frame.assign(when=frame["when"].astype(str))


def build(tmp_path: Path, text: str = LOG, **data):
    (tmp_path / "log.csv").write_text(text)
    values = section(**{"graph": GRAPH, **data})
    split = {"method": "time"} if values.get("snapshots") else {}
    cfg = validate_config({"data": values, "split": split}, config_dir=tmp_path).data
    return build_events(cfg, seed=0)


def dense_rows(data, cutoff: str) -> dict[int, list[float]]:
    at = data.cutoffs == np.datetime64(cutoff)
    return {int(i): row.tolist() for i, row in zip(data.ids[at], data.edges[at].toarray(), strict=True)}


def test_edge_rows_hold_the_events_strictly_before_each_cutoff(tmp_path: Path) -> None:
    data = build(tmp_path)
    assert data.schema["graph"]["items"] == ["1", "2"]  # skus with an event before the last cutoff
    assert data.edges.shape == (len(data.y), 2)
    # 02-01: customer 1 bought sku 1 (01-05), 2 sku 1 (01-20), 4 sku 2 (01-02).
    assert dense_rows(data, "2024-02-01") == {1: [1, 0], 2: [1, 0], 4: [0, 1]}
    # 02-15: customer 2's sku 2 ON the cutoff is its label, not an edge; 1's 02-03 sku 2 is before it.
    assert dense_rows(data, "2024-02-15") == {1: [1, 1], 2: [1, 0], 3: [1, 0], 4: [0, 1]}
    assert dense_rows(data, "2024-03-01") == {1: [2, 1], 2: [1, 1], 3: [1, 0], 4: [0, 1]}
    spend = build(tmp_path, graph={**GRAPH, "weight": "amount"})
    assert dense_rows(spend, "2024-03-01") == {1: [40, 20], 2: [5, 7], 3: [100, 0], 4: [0, 9]}


def _changed_from(log: pd.DataFrame, cutoff: str, how: str) -> pd.DataFrame:
    """The log with every event on or after ``cutoff`` removed, or its item and amount changed."""
    late = pd.to_datetime(log["when"]) >= pd.Timestamp(cutoff)
    if how == "remove":
        return log[~late]
    skus = sorted(log["sku"].unique())
    moved = log["sku"].map(dict(zip(skus, skus[1:] + skus[:1], strict=True)))
    return log.assign(
        sku=log["sku"].where(~late, moved), amount=log["amount"].where(~late, log["amount"] * 7 + 1)
    )


SNAPSHOTS = ["2024-01-20", "2024-02-05", "2024-02-20"]


@pytest.mark.parametrize("how", ["remove", "change"])
@pytest.mark.parametrize("cutoff", SNAPSHOTS)
def test_no_edge_at_or_after_a_cutoff_enters_its_graph(tmp_path: Path, cutoff: str, how: str) -> None:
    """Remove or change every event on or after a cutoff: that cutoff's edge rows, and the vectors
    fitted on the rows up to it (a time split's training part), are unchanged. Removing every later
    event leaves no label in the log, so that case is one cutoff with labels from a file."""
    log = graph_log(seed=1).query("sku != 99")
    log = pd.concat([log, log.sample(50, random_state=0).assign(when=cutoff)])  # ON the cutoff: no edge
    spec = {**GRAPH, "dims": 3, "hops": 2, "normalise": "tfidf"}
    options: dict = {"graph": spec, "snapshots": {"cutoffs": SNAPSHOTS}, "labels": {"horizon_days": 14}}
    if how == "remove":
        labels = pd.DataFrame({"customer": log["customer"].unique()}).assign(
            label=lambda f: f["customer"] % 2
        )
        labels.to_csv(tmp_path / "labels.csv", index=False)
        options.update(snapshots=None, reference_date=cutoff, labels={"path": "labels.csv", "id": "customer"})
    before = build(tmp_path, log.to_csv(index=False), **options)
    after = build(tmp_path, _changed_from(log, cutoff, how).to_csv(index=False), **options)
    assert before.schema["graph"]["items"] == after.schema["graph"]["items"]
    if how == "remove":
        at, fit_rows = [np.ones(len(d.y), bool) for d in (before, after)], [before, after]
    else:
        at = [d.cutoffs == np.datetime64(cutoff) for d in (before, after)]
        fit_rows = [d.subset(np.flatnonzero(d.cutoffs <= np.datetime64(cutoff))) for d in (before, after)]
    assert before.edges[at[0]].nnz > 0
    np.testing.assert_array_equal(before.edges[at[0]].toarray(), after.edges[at[1]].toarray())
    np.testing.assert_array_equal(before.ids[at[0]], after.ids[at[1]])
    vectors = [GraphFeatures.fit(part, before.schema["graph"]).transform(part) for part in fit_rows]
    np.testing.assert_allclose(vectors[0], vectors[1], rtol=1e-5, atol=1e-6)


def test_normalisations_use_training_column_statistics_and_each_row_its_own(tmp_path: Path) -> None:
    import scipy.sparse as sp

    B = sp.csr_matrix(np.array([[2.0, 0, 1], [0, 1, 1], [1, 1, 0]]))
    row = normalised(B, "row", item_weights(B, "row")).toarray()
    np.testing.assert_allclose(row.sum(axis=1), 1.0)
    tfidf = normalised(B, "tfidf", item_weights(B, "tfidf")).toarray()
    np.testing.assert_allclose(np.linalg.norm(tfidf, axis=1), 1.0)
    degree = np.asarray(B.sum(axis=0)).ravel()
    symmetric = normalised(B, "symmetric", item_weights(B, "symmetric")).toarray()
    expected = B.toarray() / np.sqrt(B.toarray().sum(axis=1, keepdims=True)) / np.sqrt(degree)
    np.testing.assert_allclose(symmetric, expected)
    # A new row is normalised with the training items' statistics, not with its own column sums.
    new = sp.csr_matrix(np.array([[0, 3.0, 0]]))
    np.testing.assert_allclose(normalised(new, "symmetric", item_weights(B, "symmetric")).toarray(),
                               [[0, 3 / np.sqrt(3) / np.sqrt(degree[1]), 0]])  # fmt: skip


def _aggregate_data(tmp_path: Path, customers: int = 240, **graph):
    log = graph_log(customers)
    (tmp_path / "log.csv").write_text(log.to_csv(index=False))
    values = section(graph={**GRAPH, "dims": 4, "hops": 2, "normalise": "tfidf", **graph},
                     labels={"cutoff": "2024-03-01", "horizon_days": 28, "where": "is_target == 1"},
                     derive={"is_target": "sku == 99"}, snapshots=None)  # fmt: skip
    return build_events(validate_config({"data": values}, config_dir=tmp_path).data, seed=0)


def test_training_rows_fold_in_to_their_own_svd_rows(tmp_path: Path) -> None:
    from sklearn.decomposition import TruncatedSVD

    data = _aggregate_data(tmp_path)
    fitted = GraphFeatures.fit(data, data.schema["graph"])
    A = normalised(data.edges, "tfidf", fitted.weights)
    U = TruncatedSVD(4, algorithm="arpack", random_state=0).fit_transform(A) / fitted.sigma
    np.testing.assert_allclose(fitted.transform(data)[:, :4], U, atol=2e-5)
    assert fitted.names[:5] == [
        "graph_svd_1",
        "graph_svd_2",
        "graph_svd_3",
        "graph_svd_4",
        "graph_hop1_count",
    ]
    assert len(fitted.names) == 4 + 2 * len(data.feature_names)
    # Hop 1 is the mean, over the customer's items, of the mean own features of their training buyers.
    own = np.nan_to_num(
        (data.X - np.nanmean(data.X, 0)) / np.where(np.nanstd(data.X, 0) > 1e-12, np.nanstd(data.X, 0), 1)
    )
    B = data.edges.toarray().astype(np.float64)
    items = (B / B.sum(axis=0)).T @ own
    hop1 = (B / B.sum(axis=1, keepdims=True)) @ items
    np.testing.assert_allclose(fitted.transform(data)[:, 4 : 4 + own.shape[1]], hop1, rtol=1e-4, atol=1e-4)


def test_an_unseen_customer_is_embedded_from_its_own_edges_without_refitting(tmp_path: Path) -> None:
    data = _aggregate_data(tmp_path)
    train = data.subset(np.arange(200))
    fitted = GraphFeatures.fit(train, data.schema["graph"])
    path = tmp_path / "graph.npz"
    fitted.save(path)
    saved = path.read_bytes()
    trained = GraphFeatures.load(path).transform(train)
    np.testing.assert_array_equal(trained, fitted.transform(train))
    # 40 customers the fit never saw, one of them with items no training customer... bought
    unseen = data.subset(np.arange(200, 240))
    again = GraphFeatures.load(path)
    vectors = again.transform(unseen)
    A = normalised(unseen.edges, "tfidf", fitted.weights)
    np.testing.assert_allclose(vectors[:, :4], (A @ fitted.components) / fitted.sigma, rtol=1e-5, atol=1e-6)
    assert np.abs(vectors).sum(axis=1).min() > 0
    both = again.transform(data)  # scoring everyone together changes no training row's vector
    np.testing.assert_array_equal(both[:200], trained)
    assert path.read_bytes() == saved
    no_edges = replace(unseen, edges=unseen.edges.multiply(0).tocsr())
    assert not again.transform(no_edges).any()  # no history in the graph: the training mean (0)


def test_the_cache_keeps_the_sparse_rows(tmp_path: Path) -> None:
    data = _aggregate_data(tmp_path)
    assert store(tmp_path / "cache", "k", data)
    with np.load(tmp_path / "cache" / "k.npz", allow_pickle=False) as arrays:
        assert {"edges_data", "edges_indices", "edges_indptr", "edges_shape"} <= set(arrays.files)
    back = load(tmp_path / "cache", "k")
    assert (
        back is not None and (back.edges != data.edges).nnz == 0 and back.fingerprint() == data.fingerprint()
    )


def test_unseen_items_are_dropped_and_counted(tmp_path: Path) -> None:
    data = _aggregate_data(tmp_path)
    log = graph_log(20).assign(sku=lambda f: f["sku"] + 1000)  # items never seen in training
    (tmp_path / "new.csv").write_text(log.to_csv(index=False))
    cfg = validate_config({"data": {**section(graph=GRAPH, snapshots=None, labels=None), "path": "new.csv"}},
                          config_dir=tmp_path).data  # fmt: skip
    new = build_events(cfg, seed=0, schema=data.schema, labelled=False)
    assert new.edges.nnz == 0 and new.report["graph_unseen_item_events"] == len(log)
    assert any("outside the" in note for note in new.report["notes"])


def test_mistakes_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="graph"):
        validate_config({"data": {**section(graph=GRAPH), "output": "sequence"}, "split": {"method": "time"}})
    with pytest.raises(ConfigError, match="dims: 0 and hops: 0"):
        validate_config({"data": section(graph={"item": "sku", "dims": 0}), "split": {"method": "time"}})
    with pytest.raises(DataError, match="data.graph.item: column 'nope' is not in log.csv"):
        build(tmp_path, graph={**GRAPH, "item": "nope"})
    with pytest.raises(DataError, match="data.graph.min_customers"):
        build(tmp_path, graph={**GRAPH, "min_customers": 50})
