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


def _module_fixture_users(item: pytest.Item) -> bool:
    """Whether the test reads a module-scoped fixture (a run trained once for the module's tests)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(defs and defs[-1].scope == "module" for defs in info.name2fixturedefs.values())


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Order the suite for the two CI workers (``--dist loadgroup --no-loadscope-reorder``).

    A module's tests that share a module-scoped fixture form one unit (an ``xdist_group``): one
    worker runs them together, so the fixture's training runs once, not once per worker. The units
    holding ``slow`` tests go first, then those sharing a fixture, and the quick tests last: each
    worker takes the next unit when it is free, so the two finish close together instead of one
    waiting on a long test at the end. The sort is stable: within a weight and within a unit the
    collection order is kept."""
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        if _module_fixture_users(item):
            group = item.nodeid.split("::", 1)[0]
            item.add_marker(pytest.mark.xdist_group(group))
            units.setdefault(group, []).append(item)
        else:
            units[item.nodeid] = [item]

    def weight(key: str) -> int:  # 0: slow, 1: shares a module fixture, 2: the rest
        return 0 if any(i.get_closest_marker("slow") for i in units[key]) else 1 if "::" not in key else 2

    items[:] = [item for key in sorted(units, key=weight) for item in units[key]]
