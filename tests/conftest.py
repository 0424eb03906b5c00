"""Shared fixtures: the project's folders, tiny configs, and a way to run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from seqexp.config.experiment import ExperimentConfig

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
TINY = CONFIGS / "tiny.yaml"
SHARED_DATA = ROOT.parent / "shared" / "data"


class Tiny:
    """The tiny shipped config (configs/tiny.yaml: a small synthetic log, two epochs), which tests
    shrink or change further with ``--set``-style overrides, as a user would."""

    path = TINY

    def load(self, overrides: list[str] | None = None) -> ExperimentConfig:
        from seqexp.config.loading import load_config

        return load_config(self.path, overrides or [])


@pytest.fixture(scope="session")
def tiny() -> Tiny:
    return Tiny()


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``seqexp`` as a user would (a fresh process), capturing both streams."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "seqexp", *args],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def require(what: str, available: bool, how: str) -> None:
    """Skip a test whose tool is missing on a developer's machine; in CI (``CI`` set), fail instead:
    CI installs every tool its tests need, so a missing one is a broken install, not a reason."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI ({how}): .ci/run must install it")
    pytest.skip(f"{what} is not installed ({how})")


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a YAML text into a temporary config file and return its path."""

    def write(text: str, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture(autouse=True, scope="session")
def _data_cache_outside_the_project(tmp_path_factory: pytest.TempPathFactory):
    """Tests (and the CLI processes they start) cache built arrays in a temporary folder, never in
    the user's cache folder."""
    saved = os.environ.get("SEQEXP_CACHE_DIR")
    os.environ["SEQEXP_CACHE_DIR"] = str(tmp_path_factory.mktemp("data-cache"))
    yield
    if saved is None:
        os.environ.pop("SEQEXP_CACHE_DIR", None)
    else:
        os.environ["SEQEXP_CACHE_DIR"] = saved
