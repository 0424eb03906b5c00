"""Customer vectors from the customer-item graph, fitted on the training rows only, saved as ``.npz``.

The training examples' edge rows ``B`` (``seqexp.data.graph``) are all that is fitted on; validation,
test and new customers only ever read what was fitted, through their own edges:

* **embeddings** (``dims``): the truncated SVD ``A ~ U S V^T`` of the normalised training matrix ``A``
  (scikit-learn's ``TruncatedSVD`` with ARPACK, a fixed start: the same data and split give the same
  factors). Every row, training rows included, is embedded by folding in its own edges,
  ``u = normalise(b) V / S`` (for a training row that is its row of ``U``). The normalisation's column
  statistics (idf, item degrees) are the training graph's too; its row statistics are the row's own.
* **propagated features** (``hops``, SIGN-style, the ``gnn`` model's input): the example's own
  features ``X`` (the aggregates, standardised with training statistics), then item matrices
  ``M1 = colmean(B)^T X_train`` (per item: the mean features of the training customers who bought
  it, weighted by the edges) and a customer's hop 1 ``= rowmean(b) M1``; ``M2 = colmean(B)^T H1_train``
  and so on. Only the item matrices are saved: a new customer's hops need its own edges alone.

So predicting for a customer never seen in training needs no refit, and cannot change what training
rows get: the saved factors are read, never written, after training.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.data.dataset import Dataset
from seqexp.errors import DataError

SVD_SEED = 0  # the factors depend on the data and split alone, not on the run's seed


def _sparse() -> Any:
    import scipy.sparse as sp

    return sp


def item_weights(B: Any, normalise: str) -> np.ndarray:
    """Per-item factors of the normalisation, from the training rows ``B``: the smoothed idf
    (``tfidf``), ``degree^-1/2`` (``symmetric``), else ones."""
    if normalise == "tfidf":
        df = np.diff(B.tocsc().indptr).astype(np.float64)  # training customers per item
        return np.log((1.0 + B.shape[0]) / (1.0 + df)) + 1.0
    if normalise == "symmetric":
        degree = np.asarray(B.sum(axis=0)).ravel().astype(np.float64)
        return np.where(degree > 0, 1.0 / np.sqrt(np.maximum(degree, 1e-300)), 0.0)
    return np.ones(B.shape[1])


def normalised(B: Any, normalise: str, weights: np.ndarray) -> Any:
    """The rows of ``B`` normalised: column factors given (training), row factors each row's own."""
    sp = _sparse()
    A = B.astype(np.float64).tocsr(copy=True)
    if normalise == "tfidf":
        A.data = np.log1p(A.data)
    if normalise != "none":
        A = A @ sp.diags(weights)
    if normalise in ("row", "symmetric"):
        total = np.asarray(A.sum(axis=1) if normalise == "row" else B.sum(axis=1)).ravel()
        power = 1.0 if normalise == "row" else 0.5
        A = sp.diags(np.where(total > 0, 1.0 / np.maximum(total, 1e-300) ** power, 0.0)) @ A
    elif normalise == "tfidf":
        norm = np.sqrt(np.asarray(A.multiply(A).sum(axis=1)).ravel())
        A = sp.diags(np.where(norm > 0, 1.0 / np.maximum(norm, 1e-300), 0.0)) @ A
    return A.tocsr()


def row_mean(B: Any) -> Any:
    """Each row divided by its sum: multiplying by it averages over the row's items (no edge: 0)."""
    total = np.asarray(B.sum(axis=1)).ravel().astype(np.float64)
    return _sparse().diags(np.where(total > 0, 1.0 / np.maximum(total, 1e-300), 0.0)) @ B.astype(np.float64)


def own_block(data: Dataset) -> tuple[np.ndarray, list[str]]:
    """The example's own per-customer features the graph propagates: the table, or the static block."""
    if data.static is not None:
        return data.static, data.static_names
    if data.X.ndim != 2:
        raise DataError(
            "data.graph: needs per-customer features (output: aggregates or sequence_and_aggregates)"
        )
    return data.X, data.feature_names


@dataclass(frozen=True)
class GraphFeatures:
    """What was fitted on the training graph: the item factors, the normalisation's item weights,
    the scaling of the propagated features and the item matrices of each hop."""

    normalise: str
    weights: np.ndarray  # (items,)
    components: np.ndarray  # (items, k): V
    sigma: np.ndarray  # (k,): S
    own_names: list[str]
    hop_items: list[np.ndarray]  # K matrices (items, f)

    @property
    def names(self) -> list[str]:
        """The columns it appends: ``graph_svd_1..k``, then ``graph_hop<h>_<feature>`` per hop."""
        svd = [f"graph_svd_{i + 1}" for i in range(len(self.sigma))]
        return svd + [f"graph_hop{h + 1}_{n}" for h in range(len(self.hop_items)) for n in self.own_names]

    @property
    def blocks(self) -> tuple[int, ...]:
        """Widths of the hop blocks at the end of the features (the gnn model's branches)."""
        return tuple(len(self.own_names) for _ in self.hop_items)

    @classmethod
    def fit(cls, train: Dataset, spec: dict[str, Any]) -> GraphFeatures:
        """Fit on the training examples' edges (and own features, for the hops) alone."""
        B = train.edges.astype(np.float64)
        weights = item_weights(B, spec["normalise"])
        components, sigma = _svd(normalised(B, spec["normalise"], weights), spec["dims"])
        own, own_names = own_block(train)
        own = own.astype(np.float64)
        with np.errstate(all="ignore"):
            mean = np.nan_to_num(np.nanmean(own, axis=0)) if len(own) else np.zeros(own.shape[1])
            std = np.nan_to_num(np.nanstd(own, axis=0)) if len(own) else np.ones(own.shape[1])
        std = np.where(std > 1e-12, std, 1.0)
        hop = np.nan_to_num((own - mean) / std)
        by_item, by_customer = row_mean(B.T.tocsr()), row_mean(B)  # column means of B, row means
        hop_items = []
        for _ in range(spec["hops"]):
            items = np.asarray(by_item @ hop)  # per item: the mean of its training buyers' hop h-1
            hop_items.append(items.astype(np.float32))
            hop = np.asarray(by_customer @ items)
        return cls(spec["normalise"], weights, components, sigma, list(own_names), hop_items)

    def transform(self, data: Dataset) -> np.ndarray:
        """The appended columns for every row of ``data``, from its own edges and the saved factors."""
        if data.edges is None:
            raise DataError("the run was trained with data.graph; the data has no graph rows (rebuild it)")
        if data.edges.shape[1] != len(self.weights):
            raise DataError(
                f"the data's graph has {data.edges.shape[1]} items, the run's {len(self.weights)}"
            )
        parts = []
        if len(self.sigma):
            folded = normalised(data.edges, self.normalise, self.weights) @ self.components
            parts.append(np.asarray(folded) / self.sigma)
        if self.hop_items:
            _, names = own_block(data)
            if list(names) != self.own_names:
                raise DataError("the data's per-customer features differ from those the graph was fitted on")
            by_customer = row_mean(data.edges)
            parts.extend(np.asarray(by_customer @ items) for items in self.hop_items)
        return np.hstack(parts).astype(np.float32) if parts else np.zeros((len(data.y), 0), np.float32)

    def apply(self, data: Dataset) -> Dataset:
        """``data`` with the graph's columns after its table's, or after its static block."""
        columns = self.transform(data)
        if data.static is not None:
            return replace(
                data, static=np.hstack([data.static, columns]), static_names=[*data.static_names, *self.names]
            )
        return replace(data, X=np.hstack([data.X, columns]), feature_names=[*data.feature_names, *self.names])

    def save(self, path: Path) -> None:
        from seqexp.runfolder.atomic import atomic_path

        arrays: dict[str, Any] = {
            "normalise": np.asarray(self.normalise),
            "weights": self.weights,
            "components": self.components,
            "sigma": self.sigma,
            "own_names": np.asarray(self.own_names, dtype=str),
            "hops": np.asarray(len(self.hop_items)),
        }
        arrays.update({f"hop{h + 1}": items for h, items in enumerate(self.hop_items)})
        with atomic_path(path) as tmp, tmp.open("wb") as handle:
            np.savez(handle, **arrays)

    @classmethod
    def load(cls, path: Path) -> GraphFeatures:
        with np.load(path, allow_pickle=False) as z:
            hops = [z[f"hop{h + 1}"] for h in range(int(z["hops"]))]
            names = [str(n) for n in z["own_names"]]
            return cls(str(z["normalise"]), z["weights"], z["components"], z["sigma"], names, hops)


def graph_file(folder: Path, record: dict[str, Any]) -> Path:
    """The run's graph.npz; an ensemble's is its first member's (members share data and split)."""
    from seqexp.runfolder import files

    path = Path(folder) / files.GRAPH
    members = record.get("members") or []
    if not path.is_file() and members:
        path = Path(members[0]) / files.GRAPH
    if not path.is_file():
        raise DataError(f"{folder}: the data has graph rows (data.graph) but the run has no {files.GRAPH}")
    return path


def _svd(A: Any, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """``(V, S)`` of the rank-``dims`` truncated SVD of ``A`` (capped below its smaller side);
    components with a zero singular value are dropped (nothing to fold in along them)."""
    k = min(dims, min(A.shape) - 1)
    if k < 1:
        return np.zeros((A.shape[1], 0), np.float32), np.zeros(0, np.float32)
    from sklearn.decomposition import TruncatedSVD

    # ARPACK (Lanczos): the exact rank-k factors at the randomized solver's cost on the graphs measured
    # (benchmarks/README.md "Graph features"); a fixed start vector makes it deterministic.
    svd = TruncatedSVD(n_components=k, algorithm="arpack", random_state=SVD_SEED).fit(A)
    keep = svd.singular_values_ > 1e-9
    return svd.components_[keep].T.astype(np.float32), svd.singular_values_[keep].astype(np.float32)
