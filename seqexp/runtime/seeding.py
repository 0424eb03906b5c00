"""One place that makes TensorFlow runs repeatable on CPU."""

from __future__ import annotations


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and ask TensorFlow for deterministic kernels."""
    from seqexp.runtime.backend import tensorflow

    tf = tensorflow()  # first, so TensorFlow's start-up noise is silenced
    import keras

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
