"""Import every component module so that its registry entries exist.

Only light modules live on this path (pydantic config classes and builders that import their
heavy libraries lazily), so ``seqexp list`` and ``seqexp validate`` stay fast.
"""

from seqexp import balancing  # noqa: F401
from seqexp.data import daily, events, next_shop, npz, synthetic, table  # noqa: F401
from seqexp.models import autoencoder, baselines, dense, gnn, lgbm, recurrent, transformer  # noqa: F401
