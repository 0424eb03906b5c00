"""Run folders are safe to share and to make side by side.

Parallel ``train`` processes get distinct complete folders; the same config and seed give
bitwise-identical results and a different seed different ones; loading a run folder executes no
code from it; run names cannot escape the runs folder; nothing is written outside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqexp.errors import UserError
from seqexp.runfolder import atomic, files, lifecycle
from tests.conftest import ROOT, Tiny

SMALL = ["--set", "data.customers=200", "--set", "train.epochs=1"]
COMPLETE = [files.CONFIG, files.RUN, files.CLASS_COUNTS, files.HISTORY, files.METRICS, files.PREDICTIONS,
            files.VAL_PREDICTIONS, files.PREPROCESS, files.CONFUSION_PNG, "model.keras"]  # fmt: skip


def _train(runs_dir: Path, *extra: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "seqexp", "train", str(Tiny.path), "--runs-dir", str(runs_dir), "-q",
         *SMALL, *extra],
        cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def parallel_runs(tmp_path_factory) -> list[Path]:
    """Eight ``seqexp train`` processes started at once, same config, same runs folder."""
    runs_dir = tmp_path_factory.mktemp("parallel")
    processes = [_train(runs_dir) for _ in range(8)]
    folders = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr[-2000:]
        folders.append(Path(stdout.strip().splitlines()[-1]))
    return folders


@pytest.mark.slow
def test_parallel_runs_get_distinct_complete_folders(parallel_runs: list[Path]) -> None:
    assert len(set(parallel_runs)) == 8
    assert len(list(parallel_runs[0].parent.iterdir())) == 8
    for folder in parallel_runs:
        assert json.loads((folder / files.RUN).read_text())["status"] == "completed"
        for name in COMPLETE:
            assert (folder / name).is_file(), f"{folder.name}: {name} missing"
        assert not [p.name for p in folder.iterdir() if ".tmp" in p.name]


@pytest.mark.slow
def test_same_seed_is_bitwise_identical_even_in_parallel(parallel_runs: list[Path]) -> None:
    first = parallel_runs[0]
    for folder in parallel_runs[1:]:
        for name in (files.METRICS, files.PREDICTIONS, files.VAL_PREDICTIONS):
            assert (folder / name).read_bytes() == (first / name).read_bytes(), name


@pytest.mark.slow
def test_another_seed_differs_and_nothing_is_written_outside_the_runs_folder(
    parallel_runs: list[Path], tmp_path: Path
) -> None:
    """A run from a fresh working folder, with HOME and TMPDIR pointed at empty folders too."""
    cwd, home, tmp = tmp_path / "cwd", tmp_path / "home", tmp_path / "tmp"
    for folder in (cwd, home, tmp):
        folder.mkdir()
    (home / ".keras").mkdir()  # Keras's own settings folder, as on any machine that has run Keras
    before = {p for p in tmp_path.rglob("*")}
    process = _train(Path("runs"), "--set", "seed=8", cwd=cwd, env={"HOME": str(home), "TMPDIR": str(tmp)})
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-2000:]
    run_dir = cwd / stdout.strip().splitlines()[-1]

    new = {p for p in tmp_path.rglob("*")} - before
    outside = sorted(str(p.relative_to(tmp_path)) for p in new if not p.is_relative_to(cwd / "runs"))
    # Per-user library caches (Keras's keras.json, matplotlib's font list) are not run outputs.
    outside = [p for p in outside if not p.startswith(("home/.keras", "home/.cache", "home/.config"))]
    assert outside == [], outside
    for name in (files.METRICS, files.PREDICTIONS):
        assert (run_dir / name).read_bytes() != (parallel_runs[0] / name).read_bytes(), name


def test_a_cached_file_source_writes_its_arrays_to_the_user_cache_folder_only(tmp_path: Path) -> None:
    """An event log read from a file (``data.cache: true``, the default) from a fresh working folder:
    besides the run folder, only the array cache is written, in the user's cache folder."""
    import yaml

    cwd, home, tmp, data = (tmp_path / name for name in ("cwd", "home", "tmp", "data"))
    for folder in (cwd, home, tmp):
        folder.mkdir()
    done = subprocess.run([sys.executable, "-m", "seqexp", "generate", str(Tiny.path), "--out", str(data)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    section = yaml.safe_load((data / files.DATA_YAML).read_text())["data"]
    config = data / "experiment.yaml"
    experiment = {"name": "cached", "seed": 3, "data": section, "balance": {"name": "none"},
                  "model": {"name": "logistic_regression"}}  # fmt: skip
    config.write_text(yaml.safe_dump(experiment))
    env = {k: v for k, v in os.environ.items() if k not in ("SEQEXP_CACHE_DIR", "XDG_CACHE_HOME")}
    env.update(HOME=str(home), TMPDIR=str(tmp))
    before = set(tmp_path.rglob("*"))
    train = [sys.executable, "-m", "seqexp", "train", str(config), "--runs-dir", "runs", "-q"]
    for seed in ("3", "4"):  # the second run (another seed) reuses the arrays
        done = subprocess.run([*train, "--set", f"seed={seed}"], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
    run_dir = cwd / done.stdout.strip().splitlines()[-1]
    new = set(tmp_path.rglob("*")) - before
    outside = sorted(str(p.relative_to(tmp_path)) for p in new if not p.is_relative_to(cwd / "runs"))
    arrays = home / ".cache" / "seqexp" / "arrays"
    cached = sorted(p.suffix for p in arrays.iterdir())
    assert cached == [".json", ".npz"], cached
    library = ("home/.keras", "home/.config", "home/.cache/matplotlib")  # library caches, not run outputs
    assert [p for p in outside if not p.startswith(library)] == sorted(
        [
            "home/.cache",
            "home/.cache/seqexp",
            "home/.cache/seqexp/arrays",
            *(str(p.relative_to(tmp_path)) for p in arrays.iterdir()),
        ]
    )
    assert "arrays reused from the cache" in (run_dir / files.LOG).read_text()


# --------------------------------------------------------------------------- run names


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    name=st.text(min_size=1, max_size=200) | st.sampled_from(["..", "../..", "/etc/passwd", "a/../../b", "."])
)
def test_run_names_cannot_escape_the_runs_folder(name: str) -> None:
    cleaned = lifecycle.safe_name(name)
    assert cleaned and cleaned not in (".", "..") and "/" not in cleaned and "\\" not in cleaned
    assert len(cleaned) <= 80 and cleaned.isascii() and not cleaned.startswith((".", "-"))


@pytest.mark.parametrize("name", ["../../evil", "/abs/path", "a/b", "..", "名前 with spaces", "\x00nul"])
def test_run_folder_stays_inside_the_runs_dir(name: str, tmp_path: Path) -> None:
    folder = lifecycle.create_run_dir(tmp_path / "runs", name)
    assert folder.parent == tmp_path / "runs" and folder.resolve().is_relative_to(
        (tmp_path / "runs").resolve()
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]


def test_config_paths_are_relative_to_the_config_file_not_the_cwd(tmp_path: Path, monkeypatch) -> None:
    from pydantic import BaseModel

    from seqexp.config.section import ConfigPath

    class Holder(BaseModel):
        path: ConfigPath

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEQEXP_TEST_DATA", "shared")
    context = {"config_dir": str(tmp_path / "configs")}
    held = Holder.model_validate({"path": "${SEQEXP_TEST_DATA}/x.csv"}, context=context)
    assert Path(held.path) == tmp_path / "configs" / "shared" / "x.csv"
    held = Holder.model_validate({"path": "../data/${UNSET_SEQEXP_VAR:-d}.csv"}, context=context)
    assert Path(held.path) == tmp_path / "data" / "d.csv"  # normalised, no '..' left in it


# --------------------------------------------------------------------------- safe loading


def test_a_keras_file_with_a_lambda_layer_is_refused(tmp_path: Path) -> None:
    import keras

    from seqexp.models import load_estimator

    marker = tmp_path / "executed"
    inputs = keras.Input(shape=(3,))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)  # arbitrary Python code in the file
    keras.Model(inputs, outputs).save(tmp_path / "model.keras")
    with pytest.raises(UserError, match="refused: the model contains code"):
        load_estimator("keras", tmp_path)
    assert not marker.exists()


def test_pickled_models_load_only_with_trust(tmp_path: Path, monkeypatch) -> None:
    from seqexp import models
    from seqexp.config.section import Section
    from seqexp.registry import MODELS

    class PickledThingConfig(Section):
        name: Literal["pickled_thing"] = "pickled_thing"

    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))  # registered for this test only
    MODELS.register(
        PickledThingConfig,
        kind="pickled_thing",
        loader="tests.test_run_safety:PickledThing",
        pickled=True,
        tensorflow=False,
    )(lambda *args, **kwargs: None)
    with pytest.raises(UserError, match="stored as a pickle.*--trust-run"):
        models.load_estimator("pickled_thing", tmp_path)
    assert not PickledThing.loaded
    assert isinstance(models.load_estimator("pickled_thing", tmp_path, trust=True), PickledThing)
    with pytest.raises(UserError, match="cannot load"):
        models.load_estimator("who_knows", tmp_path)


class PickledThing:
    loaded = False

    @classmethod
    def load(cls, folder: Path, *, trust: bool = False) -> PickledThing:
        cls.loaded = True
        return cls()


def test_loading_a_run_folder_imports_nothing_from_it(tmp_path: Path) -> None:
    """Python files planted in a run folder are never imported by the loaders."""
    from seqexp.models import load_estimator
    from seqexp.models.baselines import LogisticEstimator
    from seqexp.pipeline.scaling import Standardizer

    code = f"open({str(tmp_path / 'pwned')!r}, 'w').write('x')\n"
    for name in ("__init__.py", "sitecustomize.py", "keras.py", "numpy.py", "seqexp.py", "json.py"):
        (tmp_path / name).write_text(code)
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from seqexp.models.base import FitData

    table = FitData(np.eye(4), np.array([0, 1, 0, 1]))
    estimator = LogisticEstimator(LogisticRegression())
    estimator.fit(table, table, train_cfg=None, callbacks=[])
    estimator.save(tmp_path)
    Standardizer(["a"], [0.0], [1.0], [True]).save(tmp_path / files.PREPROCESS)
    atomic.write_json(tmp_path / files.RUN, {"status": "completed", "estimator": "logistic_regression"})
    kind = lifecycle.read_run(tmp_path)["estimator"]
    load_estimator(kind, tmp_path)
    Standardizer.load(tmp_path / files.PREPROCESS)
    subprocess.run([sys.executable, "-c", "import seqexp.models"], cwd=ROOT, check=True)
    assert not (tmp_path / "pwned").exists()
