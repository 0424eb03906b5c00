"""The registry itself, and one contract test per registry family."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import Field

from seqexp import components  # noqa: F401
from seqexp.balancing import balance
from seqexp.config.section import Section
from seqexp.errors import UserError
from seqexp.models import build_estimator, load_estimator
from seqexp.models.base import FitData, InputSpec
from seqexp.registry import BALANCERS, DATA_SOURCES, MODELS, Registry


class _ThingConfig(Section):
    """A thing."""

    name: str = Field("thing")


def test_registry_refuses_duplicates_and_lists_known_names() -> None:
    registry = Registry("thing", "builder(cfg) -> the config itself")
    registry.register(_ThingConfig)(lambda cfg: cfg)
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(_ThingConfig)(lambda cfg: cfg)
    with pytest.raises(UserError, match=r"unknown thing 'thin'; did you mean 'thing'\? Known: thing"):
        registry.get("thin")
    assert registry.get("thing").description == "A thing."


def test_a_registry_holds_every_entry_to_its_extras() -> None:
    """A family that needs more than a builder (models: how to reload one) refuses an entry without it."""
    registry = Registry("thing", "builder(cfg) -> cfg; extras: kind", extras=("kind",))
    with pytest.raises(TypeError, match="'thing' must give kind"):
        registry.register(_ThingConfig)(lambda cfg: cfg)
    registry.register(_ThingConfig, kind="plain")(lambda cfg: cfg)
    assert registry.get("thing").extras == {"kind": "plain"}


@pytest.mark.parametrize("registry", [DATA_SOURCES, BALANCERS, MODELS], ids=lambda r: r.family)
def test_every_registry_states_its_contract(registry) -> None:
    assert "builder(" in registry.contract and "->" in registry.contract


@pytest.mark.parametrize("entry", list(MODELS), ids=lambda e: e.name)
def test_every_model_says_how_it_is_reloaded(entry) -> None:
    """The loader is registered with the model: run.json's kind finds this entry's loader."""
    from seqexp.models import loader_of

    assert loader_of(entry.extras["kind"]).extras["loader"] == entry.extras["loader"]
    module, cls = entry.extras["loader"].split(":")
    assert hasattr(__import__(module, fromlist=[cls]), cls)


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


def _balancer_cfg(entry, **extra):
    fields = entry.config_class.model_fields
    small = {key: 3 for key in ("k_neighbors", "n_neighbors") if key in fields}
    return entry.config_class.model_validate({"name": entry.name, **small, **extra})


@pytest.mark.parametrize("entry", list(BALANCERS), ids=lambda e: e.name)
def test_balancer_contract(entry) -> None:
    """Works on 3-D sequences, keeps synthetic rows valid, copies only rows it was given."""
    X, y, mask = _sequences()
    X_before = X.copy()
    out = balance(_balancer_cfg(entry), X, y, mask, [[2, 3, 4]], seed=0)
    assert np.array_equal(X, X_before), "the input was modified"
    assert out.X.shape[1:] == X.shape[1:] and len(out.X) == len(out.y) == len(out.origin)
    assert out.mask is not None and out.mask.shape == (len(out.y), X.shape[1])
    copied = out.origin >= 0
    # Every copied row is an input training row, unchanged (nothing from anywhere else).
    assert np.array_equal(out.X[copied], X[out.origin[copied]])
    assert np.array_equal(out.mask[copied], mask[out.origin[copied]])
    assert np.array_equal(out.y[copied], y[out.origin[copied]])
    # Synthetic rows: padding stays zero, one-hot blocks stay one-hot on real steps, every value
    # stays inside the range the training rows span on real steps.
    synthetic = ~copied
    assert out.synthetic == int(synthetic.sum())
    if synthetic.any():
        Xs, ms = out.X[synthetic], out.mask[synthetic]
        assert ms.any(axis=1).all(), "a synthetic customer with no real step"
        assert np.all(Xs[~ms] == 0.0)
        assert np.all(Xs[ms][:, 2:].sum(axis=1) == 1.0)
        assert set(np.unique(Xs[..., 2:])) <= {0.0, 1.0}
        real = X[mask]
        assert np.all(Xs[ms] >= real.min(axis=0)) and np.all(Xs[ms] <= real.max(axis=0))
    # Over-samplers never shrink the minority class; cleaning ones may drop a few of its rows
    # but still end up with more minority rows than they started with.
    if entry.name != "random_under":
        assert np.sum(out.y == 1) >= np.sum(y == 1)
    if "cleaning" not in entry.tags and entry.name != "random_under":
        assert np.array_equal(np.unique(out.origin[copied]), np.arange(len(y))), "an original was dropped"


@pytest.mark.parametrize("entry", list(BALANCERS), ids=lambda e: e.name)
def test_balancers_on_tables(entry) -> None:
    X, y, _ = _sequences()
    table = X[:, -1, :].copy()  # one row per customer
    out = balance(_balancer_cfg(entry), table, y, None, [[2, 3, 4]], seed=0)
    assert out.mask is None and out.X.ndim == 2 and len(out.X) == len(out.y)
    copied = out.origin >= 0
    assert np.array_equal(out.X[copied], table[out.origin[copied]])
    assert set(np.unique(out.X[:, 2:])) <= {0.0, 1.0}


@pytest.mark.parametrize(
    "entry",
    [e for e in BALANCERS if "over" in e.name or "smote" in e.name or e.name == "adasyn"],
    ids=lambda e: e.name,
)
def test_synthetic_counts_are_never_negative(entry) -> None:
    """What matters after scaling: mapped back to raw units, a never-negative column stays >= 0."""
    from seqexp.pipeline.scaling import Standardizer

    rng = np.random.default_rng(3)
    X, y, mask = _sequences()
    X[..., 0] = np.where(mask, rng.poisson(0.3, size=mask.shape), 0)  # a count, mostly 0
    X[..., 1] = np.where(mask, rng.exponential(50.0, size=mask.shape), 0)  # an amount
    scaler = Standardizer.fit(X, mask, [f"f{i}" for i in range(5)], passthrough=[2, 3, 4])
    scaled = scaler.transform(X, mask)
    extra = {"shrinkage": 2.0} if entry.name == "random_over" else {}  # ROSE noise is the hard case
    out = balance(_balancer_cfg(entry, **extra), scaled, y, mask, [[2, 3, 4]], seed=0)
    raw = out.X[..., :2] * np.asarray(scaler.std[:2]) + np.asarray(scaler.mean[:2])
    assert np.all(raw[out.mask] >= -1e-4)


def test_smoothed_bootstrap_rows_count_as_synthetic() -> None:
    X, y, mask = _sequences()
    cfg = BALANCERS.get("random_over").config_class(shrinkage=1.0)
    out = balance(cfg, X, y, mask, [[2, 3, 4]], seed=0)
    assert out.synthetic == int(np.sum(out.y == 1) - np.sum(y == 1))


def test_smote_with_too_few_minority_rows_says_what_to_do() -> None:
    X, y, mask = _sequences()
    y = np.zeros_like(y)
    y[:3] = 1
    cfg = BALANCERS.get("smote").config_class(k_neighbors=5)
    with pytest.raises(UserError, match="smaller balance.k_neighbors"):
        balance(cfg, X, y, mask, [], seed=0)


def _model_cases() -> list:
    """(entry, input kind) for every input kind a model declares in its tags."""
    cases = [(e, kind) for e in MODELS for kind in ("sequence", "table") if kind in e.tags]
    return [pytest.param(e, kind, id=f"{e.name}-{kind}") for e, kind in cases]


def _fit_one_epoch(entry, X, y, spec, tmp_path=None, **cfg):
    from seqexp.config.sections import TrainConfig

    train_cfg = TrainConfig(epochs=1, batch_size=32, early_stopping=None, tensorboard=False)
    estimator = build_estimator(entry.config_class(**cfg), train_cfg, spec, seed=1)
    history = estimator.fit(FitData(X, y), FitData(X[:40], y[:40]), train_cfg=train_cfg, callbacks=[])
    return estimator, history


def test_every_model_declares_its_inputs() -> None:
    for entry in MODELS:
        assert {"sequence", "table"} & entry.tags, entry.name


def test_the_epochs_tag_says_which_models_fit_with_the_train_section() -> None:
    """The report leaves ``train.*`` out of the config differences of models without the tag."""
    import importlib

    for entry in MODELS:
        module, name = entry.extras["loader"].split(":")
        estimator = getattr(importlib.import_module(module), name)
        assert ("epochs" in entry.tags) == estimator.keras_callbacks, entry.name


@pytest.mark.parametrize(("entry", "kind"), _model_cases())
def test_model_contract(entry, kind, tmp_path: Path) -> None:
    """Builds from defaults, trains briefly, one score in [0, 1] per row, saves and reloads exactly."""
    X, y, mask = _sequences()
    if kind == "table":
        X = X[:, -1, :].copy()
    blocks = (2, 2) if "graph" in entry.tags else ()  # a graph model: 1 own column, two hops of 2
    spec = InputSpec(X.shape[1:], masked=kind == "sequence", blocks=blocks)
    estimator, history = _fit_one_epoch(entry, X, y, spec)
    assert len(history) >= 1 and "loss" in history[0]
    scores = estimator.predict(X)
    assert scores.shape == (len(X),)
    assert np.all(np.isfinite(scores)) and np.all((scores >= 0) & (scores <= 1))
    estimator.save(tmp_path)
    again = load_estimator(estimator.kind, tmp_path, trust=True)
    np.testing.assert_allclose(again.predict(X), scores, rtol=1e-6, atol=1e-7)


def test_graph_models_refuse_data_without_hops() -> None:
    for entry in (e for e in MODELS if "graph" in e.tags):
        with pytest.raises(UserError, match="data.graph.hops"):
            build_estimator(entry.config_class(), None, InputSpec((5,)), seed=0)


@pytest.mark.parametrize("entry", [e for e in MODELS if "table" not in e.tags], ids=lambda e: e.name)
def test_sequence_models_refuse_tables_clearly(entry) -> None:
    with pytest.raises(UserError, match=f"model.name: {entry.name} reads sequences"):
        build_estimator(entry.config_class(), None, InputSpec((5,)), seed=0)


def test_pickled_models_load_only_when_trusted(tmp_path: Path) -> None:
    X, y, mask = _sequences()
    estimator, _ = _fit_one_epoch(MODELS.get("gradient_boosting"), X, y, InputSpec(X.shape[1:], True))
    estimator.save(tmp_path)
    with pytest.raises(UserError, match="trust"):
        load_estimator("gradient_boosting", tmp_path)


def _padded_to(X: np.ndarray, steps: int) -> np.ndarray:
    """The same sequences with extra padding steps in front (pre-padding)."""
    extra = np.zeros((len(X), steps - X.shape[1], X.shape[2]), dtype=X.dtype)
    return np.concatenate([extra, X], axis=1)


@pytest.mark.parametrize(
    ("name", "cfg"),
    [
        ("lstm", {}),
        ("gru", {"bidirectional": True}),
        ("rnn", {}),
        ("cnn_lstm", {}),
        ("transformer", {}),
        ("transformer", {"pooling": "last"}),
        ("dense", {"sequence_input": "mean"}),
    ],
    ids=lambda v: v if isinstance(v, str) else ",".join(f"{k}={w}" for k, w in v.items()) or "defaults",
)
def test_padding_is_ignored(name: str, cfg: dict) -> None:
    """More padding in front changes nothing: padded steps are masked, not read as data."""
    import keras

    from seqexp.models import build_keras_model
    from seqexp.runtime.seeding import seed_everything

    seed_everything(0)
    X, _, _ = _sequences(n=16)
    long = _padded_to(X, X.shape[1] + 3)
    entry = MODELS.get(name)
    model_cfg = entry.config_class(**cfg)
    from seqexp.config.sections import TrainConfig

    short_model = build_keras_model(model_cfg, TrainConfig(), InputSpec(X.shape[1:], masked=True))
    long_model = build_keras_model(model_cfg, TrainConfig(), InputSpec(long.shape[1:], masked=True))
    long_model.set_weights(short_model.get_weights())  # same weights, longer input
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(long_model(long, training=False)),
        keras.ops.convert_to_numpy(short_model(X, training=False)),
        rtol=1e-4,
        atol=1e-5,
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["transformer", "cnn_lstm"])
def test_custom_layers_load_in_a_fresh_process(name: str, tmp_path: Path) -> None:
    """Models with the project's registered layers reload with safe_mode=True in a new process."""
    import subprocess
    import sys

    X, y, _ = _sequences()
    estimator, _ = _fit_one_epoch(MODELS.get(name), X, y, InputSpec(X.shape[1:], True))
    estimator.save(tmp_path)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "scores.npy", estimator.predict(X))
    code = (
        "import sys, numpy as np; from pathlib import Path; from seqexp.models import load_estimator;"
        "d = Path(sys.argv[1]); m = load_estimator('keras', d);"
        "s = m.predict(np.load(d / 'X.npy'));"
        "np.testing.assert_allclose(s, np.load(d / 'scores.npy'), rtol=1e-6, atol=1e-7)"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
