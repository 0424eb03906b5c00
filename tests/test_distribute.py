"""``train.distribute: mirrored`` trains under tf.distribute.MirroredStrategy and says how many replicas."""

from __future__ import annotations

from pathlib import Path

import pytest

from seqexp.config.loading import load_config
from tests.conftest import Tiny


def test_mirrored_training_runs_and_names_its_replicas(tiny: Tiny, tmp_path: Path) -> None:
    from seqexp.pipeline.train import train_experiment
    from seqexp.runtime.backend import tensorflow

    cfg = load_config(tiny.path, ["train.distribute=mirrored", "train.epochs=1", "evaluate.baseline=none"])
    result = train_experiment(cfg, runs_dir=tmp_path)
    log = (result.run_dir / "run.log").read_text()
    gpus = tensorflow().config.list_logical_devices("GPU")
    expected = "mirrored with 1 replica on the CPU" if not gpus else f"mirrored over {len(gpus)} replica(s)"
    assert expected in log
    assert (result.run_dir / "model.keras").is_file() and 0 <= result.metrics["test"]["pr_auc"] <= 1


def test_distribute_is_validated(tiny: Tiny) -> None:
    from seqexp.errors import ConfigError

    with pytest.raises(ConfigError, match="train.distribute"):
        load_config(tiny.path, ["train.distribute=multi_gpu"])
