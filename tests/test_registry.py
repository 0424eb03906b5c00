"""The registry itself, and one contract test per registry family."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import Field

from seqexp import components  # noqa: F401
from seqexp.balancing import balance
from seqexp.errors import UserError
from seqexp.models import build_estimator, load_estimator
from seqexp.models.base import FitData, InputSpec
from seqexp.registry import BALANCERS, DATA_SOURCES, MODELS, Registry
from seqexp.schema import Section


class _ThingConfig(Section):
    """A thing."""

    name: str = Field("thing")


def test_registry_refuses_duplicates_and_lists_known_names() -> None:
    registry = Registry("thing")
    registry.register(_ThingConfig)(lambda cfg: cfg)
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(_ThingConfig)(lambda cfg: cfg)
    with pytest.raises(UserError, match=r"unknown thing 'thin'; did you mean 'thing'\? Known: thing"):
        registry.get("thin")
    assert registry.get("thing").description == "A thing."


@pytest.mark.parametrize("entry", list(DATA_SOURCES), ids=lambda e: e.name)
def test_every_entry_has_a_description_and_default_config(entry) -> None:
    assert entry.description
    assert entry.config_class().name == entry.name


def _sequences(n: int = 120, steps: int = 5, seed: int = 0):
    """Scaled-looking sequences with padding and a one-hot block (features 2..4)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, steps, 5)).astype(np.float32)
    X[..., 2:] = np.eye(3, dtype=np.float32)[rng.integers(0, 3, size=(n, steps))]
    lengths = rng.integers(1, steps + 1, size=n)
    mask = np.arange(steps)[None, :] >= steps - lengths[:, None]
    X[~mask] = 0.0
    y = (rng.random(n) < 0.2).astype(np.int64)
    y[:6] = 1
    return X, y, mask


@pytest.mark.parametrize("entry", list(BALANCERS), ids=lambda e: e.name)
def test_balancer_contract(entry) -> None:
    """Works on 3-D sequences, keeps synthetic rows valid, copies only rows it was given."""
    X, y, mask = _sequences()
    cfg = entry.config_class.model_validate(
        {
            "name": entry.name,
            **({"k_neighbors": 3} if "k_neighbors" in entry.config_class.model_fields else {}),
        }
    )
    out = balance(cfg, X, y, mask, [[2, 3, 4]], seed=0)
    assert out.X.shape[1:] == X.shape[1:] and len(out.X) == len(out.y) == len(out.origin)
    assert out.mask is not None and out.mask.shape == (len(out.y), X.shape[1])
    copied = out.origin >= 0
    # Every copied row is an input training row, unchanged (nothing from anywhere else).
    assert np.array_equal(out.X[copied], X[out.origin[copied]])
    assert np.array_equal(out.y[copied], y[out.origin[copied]])
    # Synthetic rows: padding stays zero, one-hot blocks stay one-hot on real steps.
    synthetic = ~copied
    if synthetic.any():
        Xs, ms = out.X[synthetic], out.mask[synthetic]
        assert np.all(Xs[~ms] == 0.0)
        assert np.all(Xs[ms][:, 2:].sum(axis=1) == 1.0)
        assert set(np.unique(Xs[..., 2:])) <= {0.0, 1.0}
    # The minority class never shrinks and the input is not modified.
    assert np.sum(out.y == 1) >= np.sum(y == 1) or entry.name == "random_under"


def test_smote_with_too_few_minority_rows_says_what_to_do() -> None:
    X, y, mask = _sequences()
    y = np.zeros_like(y)
    y[:3] = 1
    cfg = BALANCERS.get("smote").config_class(k_neighbors=5)
    with pytest.raises(UserError, match="smaller balance.k_neighbors"):
        balance(cfg, X, y, mask, [], seed=0)


@pytest.mark.parametrize("entry", list(MODELS), ids=lambda e: e.name)
def test_model_contract(entry, tmp_path: Path) -> None:
    """Builds from defaults, trains briefly, one score in [0, 1] per row, saves and reloads exactly."""
    from seqexp.config import TrainConfig

    X, y, mask = _sequences()
    train_cfg = TrainConfig(epochs=1, batch_size=32, early_stopping=None, tensorboard=False)
    estimator = build_estimator(entry.config_class(), train_cfg, InputSpec(X.shape[1:], masked=True), seed=1)
    history = estimator.fit(FitData(X, y), FitData(X[:40], y[:40]), train_cfg=train_cfg, callbacks=[])
    assert len(history) >= 1 and "loss" in history[0]
    scores = estimator.predict(X)
    assert scores.shape == (len(X),)
    assert np.all((scores >= 0) & (scores <= 1))
    estimator.save(tmp_path)
    again = load_estimator(estimator.kind, tmp_path)
    np.testing.assert_allclose(again.predict(X), scores, rtol=1e-6, atol=1e-7)
