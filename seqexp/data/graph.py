"""The customer-item graph of an event log: its options (``data.graph``) and each example's edge row.

Customers who buy the same items behave alike. For each example (customer, cutoff) the build keeps
one sparse row over the item vocabulary: the count of its events per item, or the sum of a numeric
column (spend), over the events strictly BEFORE that example's cutoff, exactly the history its other
features read. The rows of one cutoff are one ``scipy.sparse`` COO -> CSR conversion (duplicates
summed), never a Python loop over customers or edges. The vocabulary is learned on the training
build (items with an event before the last cutoff) and saved in the schema; later builds map items
through it, and an item outside it is dropped and counted. What is learned from the rows (item
factors, propagated features) is ``seqexp.pipeline.graph_features``' job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from seqexp.config.section import Section
from seqexp.data.readers import MISSING_LEVEL
from seqexp.errors import DataError
from seqexp.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
    import scipy.sparse as sp
else:
    pd = lazy_module("pandas")  # imported on first use: light commands never pay for it

Normalise = Literal["none", "row", "symmetric", "tfidf"]


class GraphOptions(Section):
    """The bipartite customer-item graph: customer vectors from it are appended to the aggregates
    (``output: aggregates``) or to the static block beside the sequence."""

    item: str = Field(description="Event column naming the item (a product, a merchant, a subclass).")
    weight: str = Field(
        "count",
        description="Edge weight: count (events per customer and item) or a numeric column summed (spend); "
        "a net negative sum (returns) counts as 0.",
    )
    normalise: Normalise = Field(
        "tfidf",
        description="none; row (each customer's weights sum to 1); symmetric (D_c^-1/2 A D_i^-1/2, item "
        "degrees of the training graph); tfidf (log(1 + w) x the training idf, each row L2-normalised).",
    )
    dims: int = Field(
        32,
        ge=0,
        le=512,
        description="Customer embedding size (truncated SVD of the training graph); 0: none.",
    )
    hops: int = Field(
        0,
        ge=0,
        le=3,
        description="Propagated features through the items (the gnn model's input): hop k is the mean, "
        "over the customer's items, of hop k-1 of the training customers who bought them; 0: none.",
    )
    min_customers: int = Field(
        1, ge=1, description="Items bought by fewer customers before the last cutoff are left out."
    )

    @model_validator(mode="after")
    def _something(self) -> GraphOptions:
        if self.dims == 0 and self.hops == 0:
            raise ValueError("dims: 0 and hops: 0 add nothing; set dims (embeddings) or hops (propagation)")
        return self


def graph_schema(options: GraphOptions) -> dict[str, Any]:
    """What a training build saves (``items``, the vocabulary, is learned later from the history)."""
    return {**options.model_dump(), "items": []}


def graph_columns(spec: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The columns ``data.graph`` names (checked to exist, after derive), key first."""
    weight = [] if spec["weight"] == "count" else [spec["weight"]]
    return [("data.graph.item", [spec["item"]]), ("data.graph.weight", weight)]


def item_text(values: pd.Series) -> np.ndarray:
    """Item values as text (missing: their own level), so that a vocabulary saved as JSON matches."""
    return values.astype(object).where(values.notna(), MISSING_LEVEL).astype(str).to_numpy()


def learn_items(history: pd.DataFrame, id_col: str, spec: dict[str, Any]) -> list[str]:
    """The item vocabulary (sorted): items bought by at least ``min_customers`` customers of ``history``."""
    pairs = pd.DataFrame({"item": item_text(history[spec["item"]]), "id": history[id_col].to_numpy()})
    buyers = pairs.drop_duplicates().groupby("item", sort=True).size()
    items = [str(v) for v in buyers.index[buyers.to_numpy() >= spec["min_customers"]]]
    if not items:
        raise DataError(
            f"data.graph.min_customers: no item of column '{spec['item']}' has {spec['min_customers']} "
            "buyers before the cutoff; lower it"
        )
    return items


def edge_rows(
    history: pd.DataFrame, id_col: str, ids: np.ndarray, spec: dict[str, Any]
) -> tuple[sp.csr_matrix, int]:
    """``(rows, unseen)``: one CSR row per customer of ``ids`` (in that order) over the vocabulary,
    from the events of ``history`` (already cut before the cutoff); ``unseen``: events whose item is
    outside the vocabulary (dropped)."""
    import scipy.sparse as sp

    items = pd.Index(spec["items"])
    column = items.get_indexer(item_text(history[spec["item"]]))
    row = pd.Index(ids).get_indexer(history[id_col].to_numpy())
    known = (column >= 0) & (row >= 0)  # row < 0: a customer without an example (none today)
    if spec["weight"] == "count":
        weight = np.ones(int(known.sum()), dtype=np.float64)
    else:
        weight = np.nan_to_num(history[spec["weight"]].to_numpy(dtype=np.float64)[known])
    shape = (len(ids), len(items))
    rows = sp.coo_matrix((weight, (row[known], column[known])), shape=shape).tocsr()  # sums duplicates
    rows.data = np.maximum(rows.data, 0.0)  # returns cancel purchases; a net negative edge is no edge
    rows.eliminate_zeros()
    unseen = int(((column < 0) & (row >= 0)).sum())
    return rows.astype(np.float32), unseen


def example_edges(
    history: pd.DataFrame, id_col: str, ids: np.ndarray, schema: dict[str, Any], report: dict[str, Any]
) -> sp.csr_matrix | None:
    """The examples' rows (``ids``, in order) from ``history``, counted in ``report``; None without
    ``data.graph``."""
    spec = schema.get("graph")
    if not spec:
        return None
    rows, unseen = edge_rows(history, id_col, ids, spec)
    report["graph_items"] = len(spec["items"])
    report["graph_unseen_item_events"] = report.get("graph_unseen_item_events", 0) + unseen
    report["graph_edges"] = report.get("graph_edges", 0) + int(rows.nnz)
    return rows


def stack_rows(blocks: list[sp.csr_matrix]) -> sp.csr_matrix:
    """Several cutoffs' rows, one after the other."""
    import scipy.sparse as sp

    return sp.vstack(blocks, format="csr")


def graph_note(report: dict[str, Any], notes: list[str]) -> None:
    """A note for the run log when events of items outside the vocabulary were left out."""
    if report.get("graph_unseen_item_events"):
        notes.append(
            f"data.graph: {report['graph_unseen_item_events']} event(s) of items outside the graph's "
            f"{report['graph_items']} (fewer buyers than data.graph.min_customers before the cutoff, or "
            "unseen at training) left out of it"
        )
