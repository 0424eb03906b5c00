"""Cost of the customer-item graph features: fit (truncated SVD of the normalised training graph, and
the propagated features' item matrices) and fold-in of every row, on a synthetic graph.

    python benchmarks/bench_graph.py                      # 1M customers x 100k items (the default)
    python benchmarks/bench_graph.py --customers 50000 --items 5000 --algorithms randomized

Customers have 1 + Poisson(edges - 1) line items each; items are drawn with power-law popularity
(p_i proportional to 1 / (i + 1)^alpha, alpha 1.0: a few items everyone buys, a long tail). The rows
are built as the events source builds them (one COO -> CSR conversion). Per stage (each run twice:
once timed, once traced): seconds, the peak of memory traced (numpy, scipy and scikit-learn
allocations; tracemalloc) and the process's peak resident memory. The fit uses scikit-learn's
``TruncatedSVD`` with ARPACK (what seqexp uses); ``--algorithms randomized`` also times the
randomized solver (``n_iter`` 5, the other choice) on the same matrix, and both report the share of
the normalised graph's squared norm their factors capture (higher is better; ARPACK's is the rank-k
optimum).

Memory at the default (estimated, 20 edges per customer, 32 own features, dims 32, hops 2): the
edges, 20M x (4 + 4) bytes + indptr = 0.17 GB as float32 CSR, about twice that per float64 copy
while normalising (a few alive at once); ARPACK's Lanczos basis, at most 2k + 1 = 65 vectors of the
smaller side (100k items, 0.05 GB), and its products with A (1M float64 each); the own features and
each hop 1M x 32 float64 (0.26 GB each, three alive at once). A few GB in all, well under 23 GB;
the figures at 50k x 5k (benchmarks/README.md) scale linearly in the edges and customers.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's seqexp


def synthetic_graph(customers: int, items: int, edges: float, alpha: float, seed: int):
    """``(B, X)``: the customer x item count matrix (CSR) and ``features`` own features per customer."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    per_customer = 1 + rng.poisson(max(edges - 1.0, 0.0), size=customers)
    popularity = 1.0 / np.arange(1, items + 1) ** alpha
    cumulative = np.cumsum(popularity / popularity.sum())
    column = np.searchsorted(cumulative, rng.random(int(per_customer.sum())), side="right")
    column = np.minimum(column, items - 1).astype(np.int32)
    row = np.repeat(np.arange(customers, dtype=np.int32), per_customer)
    weight = np.ones(len(row), dtype=np.float32)
    return sp.coo_matrix((weight, (row, column)), shape=(customers, items)).tocsr()


def measured(label: str, work):
    """Run ``work()`` twice: untraced for the seconds (tracemalloc slows allocation-heavy code such as
    ARPACK's iterations several-fold), then traced for the peak of memory; print both and the
    process's peak RSS; return the result."""
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    result = work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB (Linux)
    print(f"| {label} | {seconds:.1f} | {peak / 1024**3:.2f} | {rss:.2f} |", flush=True)
    return result


def captured(A, sigma: np.ndarray) -> float:
    """The share of ``||A||_F^2`` the rank-k factors keep (sum of sigma^2 over the squared norm)."""
    return float((sigma.astype(np.float64) ** 2).sum() / A.multiply(A).sum())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--edges", type=float, default=20.0, help="Mean line items per customer.")
    parser.add_argument("--alpha", type=float, default=1.0, help="Power-law exponent of item popularity.")
    parser.add_argument("--features", type=int, default=32, help="Own features per customer (for hops).")
    parser.add_argument("--dims", type=int, default=32)
    parser.add_argument("--hops", type=int, default=2)
    parser.add_argument("--normalise", default="tfidf", choices=["none", "row", "symmetric", "tfidf"])
    parser.add_argument(
        "--algorithms", default="", help="randomized: also time the randomized solver on the same matrix."
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from seqexp.data.dataset import Dataset
    from seqexp.pipeline.graph_features import GraphFeatures, normalised

    print(f"{args.customers} customers x {args.items} items, {args.edges:g} line items per customer, "
          f"alpha {args.alpha:g}, dims {args.dims}, hops {args.hops}, {args.normalise}")  # fmt: skip
    print("\n| stage | s | traced peak GiB | process peak RSS GiB |\n|---|---|---|---|")
    B = measured("synthetic graph (COO -> CSR)", lambda: synthetic_graph(
        args.customers, args.items, args.edges, args.alpha, args.seed))  # fmt: skip
    rng = np.random.default_rng(args.seed + 1)
    X = rng.normal(size=(args.customers, args.features)).astype(np.float32)
    data = Dataset(X=X, y=np.zeros(args.customers, dtype=np.int64), ids=np.arange(args.customers),
                   feature_names=[f"f{i}" for i in range(args.features)], edges=B)  # fmt: skip
    spec = {"normalise": args.normalise, "dims": args.dims, "hops": args.hops}
    fitted = measured("fit (SVD + hop item matrices)", lambda: GraphFeatures.fit(data, spec))
    measured("fold-in of every row", lambda: fitted.transform(data))
    print(f"\nnnz {B.nnz}, items with a buyer {int((np.diff(B.tocsc().indptr) > 0).sum())}")
    algorithms = [a.strip() for a in args.algorithms.split(",") if a.strip()]
    A = normalised(B, args.normalise, fitted.weights)
    print(f"ARPACK: {captured(A, fitted.sigma):.4f} of ||A||^2 in {len(fitted.sigma)} dims")
    if "randomized" in algorithms and args.dims:
        from sklearn.decomposition import TruncatedSVD

        print("\n| stage | s | traced peak GiB | process peak RSS GiB |\n|---|---|---|---|")
        solver = TruncatedSVD(args.dims, algorithm="randomized", n_iter=5, random_state=0)
        sigma = measured("randomized SVD alone (n_iter 5)", lambda: solver.fit(A).singular_values_)
        print(f"randomized: {captured(A, sigma):.4f} of ||A||^2 in {len(sigma)} dims")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
