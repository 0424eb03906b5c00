"""``train.distribute``: train one Keras model over several devices with tf.distribute.

``mirrored`` copies the model onto every visible GPU (tf.distribute.MirroredStrategy) and splits
each batch between them; without a GPU it runs with one replica on the CPU, and says so.
"""

from __future__ import annotations

import contextlib
from typing import Any

from seqexp.config.sections import TrainConfig

_STRATEGIES: dict[str, Any] = {}  # one strategy per process: Keras refuses to mix strategy objects


def strategy(train_cfg: TrainConfig) -> Any | None:
    """The configured tf.distribute strategy, or None for plain single-device training."""
    name = getattr(train_cfg, "distribute", "none")
    if name == "none":
        return None
    if name not in _STRATEGIES:
        from seqexp.runtime.backend import tensorflow

        _STRATEGIES[name] = tensorflow().distribute.MirroredStrategy()
    return _STRATEGIES[name]


def scope(train_cfg: TrainConfig) -> Any:
    """Build and compile models inside this context so that their variables are mirrored."""
    chosen = strategy(train_cfg)
    return chosen.scope() if chosen is not None else contextlib.nullcontext()


def describe(train_cfg: TrainConfig) -> str | None:
    """One line for the run log: how many replicas, on which devices."""
    chosen = strategy(train_cfg)
    if chosen is None:
        return None
    from seqexp.runtime.backend import tensorflow

    gpus = tensorflow().config.list_logical_devices("GPU")
    replicas = chosen.num_replicas_in_sync
    if not gpus:
        return f"distribute: mirrored with {replicas} replica on the CPU (no GPU found; nothing is split)"
    return f"distribute: mirrored over {replicas} replica(s) on {', '.join(g.name for g in gpus)}"
