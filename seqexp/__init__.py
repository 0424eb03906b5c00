"""seqexp: declared, reproducible experiments for imbalanced customer classification."""

__version__ = "0.1.0"
