"""The cache of built arrays: hit on the second load, rebuilt when the file or the data config
changes, off on request, and a cached Dataset equals a freshly built one."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from seqexp.config.loading import validate_config
from seqexp.data import cache
from seqexp.pipeline.prepare import load_dataset

LOG = """customer,when,amount,kind
A,2024-01-01,10,shop
A,2024-02-20,20,shop
B,2024-02-01,5,atm
B,2024-02-11,900,deposit
C,2024-02-27,7,shop
D,2024-02-02,80,deposit
"""
LABELS = "customer,label\nA,1\nB,0\nC,0\nD,1\n"


def experiment(tmp_path: Path, **data):
    raw = {
        "name": "events", "path": "log.csv", "id": "customer", "time": "when", "numeric": ["amount"],
        "categorical": ["kind"], "sequence_length": 2, "labels": {"path": "labels.csv"}, **data,
    }  # fmt: skip
    return validate_config({"data": raw}, config_dir=tmp_path)


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "log.csv").write_text(LOG)
    (tmp_path / "labels.csv").write_text(LABELS)
    monkeypatch.setenv(cache.ENV_DIR, str(tmp_path / "cache"))
    monkeypatch.delenv(cache.ENV_SWITCH, raising=False)
    return tmp_path


def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count calls of the events builder behind the cache."""
    from seqexp.registry import DATA_SOURCES

    entry = DATA_SOURCES.get("events")
    calls: list[int] = []
    original = entry.builder

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setitem(DATA_SOURCES._entries, "events", replace(entry, builder=counting))
    return calls


def same(a, b) -> None:
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.mask, b.mask)
    assert a.ids.tolist() == b.ids.tolist() and a.ids.dtype == b.ids.dtype
    assert (a.feature_names, a.onehot_groups, a.schema) == (b.feature_names, b.onehot_groups, b.schema)
    assert a.fingerprint() == b.fingerprint()
    assert a.static_names == b.static_names and (a.static is None) == (b.static is None)
    if a.static is not None:
        np.testing.assert_array_equal(a.static, b.static)


def test_second_load_hits_the_cache_with_identical_arrays(files: Path, monkeypatch) -> None:
    calls = builds(monkeypatch)
    cfg = experiment(files)
    first = load_dataset(cfg)
    second = load_dataset(cfg.model_copy(update={"seed": 7}))  # another seed reuses it too
    assert len(calls) == 1
    same(first, second)
    assert any("reused from the cache" in note for note in second.report["notes"])
    assert sorted(p.suffix for p in (files / "cache").iterdir()) == [".json", ".npz"]


def test_the_static_block_beside_the_sequence_comes_back_from_the_cache(files: Path, monkeypatch) -> None:
    calls = builds(monkeypatch)
    cfg = experiment(files, output="sequence_and_aggregates")
    first, second = load_dataset(cfg), load_dataset(cfg)
    assert len(calls) == 1 and first.static is not None and first.static_names
    assert first.static.shape == (4, len(first.static_names))
    same(first, second)


def test_changed_file_or_data_config_rebuilds(files: Path, monkeypatch) -> None:
    calls = builds(monkeypatch)
    load_dataset(experiment(files))
    load_dataset(experiment(files, sequence_length=3))  # the data config changed
    assert len(calls) == 2
    log = files / "log.csv"
    log.write_text(LOG + "D,2024-02-03,81,shop\n")  # the file changed (size and mtime)
    rebuilt = load_dataset(experiment(files))
    assert len(calls) == 3
    assert rebuilt.X[3, 1, 0] == 81  # D's last event is the new one
    labels = files / "labels.csv"
    labels.write_text(LABELS.replace("D,1", "D,0"))
    os.utime(labels, ns=(labels.stat().st_atime_ns, labels.stat().st_mtime_ns + 10**9))
    assert load_dataset(experiment(files)).y[3] == 0  # the label file counts as input too
    assert len(calls) == 4


def test_cache_can_be_turned_off(files: Path, monkeypatch) -> None:
    calls = builds(monkeypatch)
    load_dataset(experiment(files, cache=False))
    load_dataset(experiment(files, cache=False))
    assert len(calls) == 2 and not (files / "cache").exists()
    monkeypatch.setenv(cache.ENV_SWITCH, "0")
    load_dataset(experiment(files))
    assert len(calls) == 3


def test_a_damaged_entry_is_rebuilt(files: Path, monkeypatch) -> None:
    calls = builds(monkeypatch)
    cfg = experiment(files)
    load_dataset(cfg)
    (npz,) = (files / "cache").glob("*.npz")
    npz.write_bytes(b"not an npz")
    load_dataset(cfg)
    assert len(calls) == 2
    load_dataset(cfg)
    assert len(calls) == 2


def test_the_cache_lives_in_the_user_cache_folder_unless_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never under the working folder: the user's cache folder, or where SEQEXP_CACHE_DIR says."""
    import sys

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(cache.ENV_DIR, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    if sys.platform not in ("win32", "darwin"):
        assert cache.cache_dir() == tmp_path / "home" / ".cache" / "seqexp" / "arrays"
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert cache.cache_dir() == tmp_path / "xdg" / "seqexp" / "arrays"
        monkeypatch.setenv("XDG_CACHE_HOME", "relative")  # not a valid XDG value: ignored
        assert cache.cache_dir() == tmp_path / "home" / ".cache" / "seqexp" / "arrays"
    assert not cache.cache_dir().is_relative_to(tmp_path / "data")
    monkeypatch.setenv(cache.ENV_DIR, "")
    assert cache.cache_dir() == cache.user_cache_dir()
    monkeypatch.setenv(cache.ENV_DIR, str(tmp_path / "runs" / ".cache"))
    assert cache.cache_dir() == tmp_path / "runs" / ".cache"
