"""Import TensorFlow once, quietly.

TensorFlow's C++ layer prints start-up notes to the process's stderr before Python logging exists
(CUDA probing on a CPU machine, oneDNN notes); ``TF_CPP_MIN_LOG_LEVEL`` no longer silences them
all. They are not for users, so file descriptor 2 points at /dev/null while TensorFlow loads and
looks for devices. Python exceptions are raised after stderr is restored, so real errors show.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def tensorflow() -> Any:
    """The ``tensorflow`` module, imported with its start-up chatter silenced."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")  # device probing prints too
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tf
