"""One place that makes TensorFlow runs repeatable on CPU."""

from __future__ import annotations


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and ask TensorFlow for deterministic kernels."""
    import keras

    from seqexp.backend import tensorflow

    tf = tensorflow()
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
