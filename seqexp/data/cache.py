"""A cache of built arrays, so that seeds, repeats and tuning trials read an event log once.

Building sequences from a 10M-event log takes seconds to minutes; every later run on the same file
with the same ``data`` section gets the same arrays. They are stored in the user's cache folder
(``~/.cache/seqexp/arrays``, or ``$XDG_CACHE_HOME/seqexp/arrays``; ``~/Library/Caches`` on macOS,
``%LOCALAPPDATA%`` on Windows), never under the working folder, as ``<key>.npz`` (numpy arrays, no
pickle) beside ``<key>.json`` (feature names, one-hot groups, report, schema). The key hashes each
input file's resolved path, size and modification time and the data config (minus ``cache`` itself),
so editing the file or the config builds afresh. The ``.json`` is written last and atomically: an
entry without it is incomplete and ignored.

Why there and not in the runs folder: the arrays depend on the input files and the data section
alone, so one cache serves train, tune, backtest, evaluate and explain whatever runs folder they
use, and run folders stay what they are (copied or archived without a cache inside).

Off with ``data.cache: false`` or ``SEQEXP_DATA_CACHE=0``; ``SEQEXP_CACHE_DIR`` moves the folder (for
example ``SEQEXP_CACHE_DIR=runs/.cache`` keeps it under the runs folder). The location is a property
of the machine, not of the experiment, so it is not a config key.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.config.experiment import Component
from seqexp.data.dataset import Dataset

FORMAT = 3  # bump when the builders change what they produce: old entries stop matching
# 3: sequence_and_aggregates keeps the aggregates as a static block beside the sequence
ENV_SWITCH = "SEQEXP_DATA_CACHE"
ENV_DIR = "SEQEXP_CACHE_DIR"
SUBFOLDER = Path("seqexp") / "arrays"


def user_cache_dir() -> Path:
    """The user's cache folder for seqexp's arrays (the platform's convention)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"  # XDG: a relative one is invalid
    return base / SUBFOLDER


def cache_dir() -> Path:
    """``SEQEXP_CACHE_DIR`` when set, else the user's cache folder."""
    chosen = os.environ.get(ENV_DIR, "").strip()
    return Path(chosen).expanduser() if chosen else user_cache_dir()


def enabled(data_cfg: Component) -> bool:
    """Only file sources that ask for it (``cache: true``, the default), unless the env var says 0."""
    if os.environ.get(ENV_SWITCH, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    return bool(getattr(data_cfg, "cache", False))


def input_files(data_cfg: Component) -> list[Path]:
    """Every file the data section reads (``path`` fields, nested sections included)."""
    found: list[Path] = []

    def walk(section: Any) -> None:
        for name in type(section).model_fields:
            value = getattr(section, name)
            if name == "path" and isinstance(value, str):
                found.append(Path(value))
            elif hasattr(type(value), "model_fields"):
                walk(value)

    walk(data_cfg)
    return found


def cache_key(data_cfg: Component) -> str | None:
    """Hash of the input files' identity and the data config; None when an input file is missing."""
    from seqexp import __version__

    parts: dict[str, Any] = {
        "format": FORMAT,
        "seqexp": __version__,
        "config": data_cfg.model_dump(mode="json", exclude={"cache"}),
        "files": [],
    }
    for path in input_files(data_cfg):
        try:
            stat = path.stat()
        except OSError:
            return None  # the builder reports the missing file with a proper message
        parts["files"].append([str(path.resolve()), stat.st_size, stat.st_mtime_ns])
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cached_build(data_cfg: Component, build: Callable[[], Dataset], folder: Path | None = None) -> Dataset:
    """``build()``'s Dataset, read from the cache when an entry matches, else built and stored."""
    key = cache_key(data_cfg) if enabled(data_cfg) else None
    if key is None:
        return build()
    folder = folder or cache_dir()
    hit = load(folder, key)
    if hit is not None:
        return hit
    data = build()
    # A read-only or full disk costs the next run a rebuild, not this run its result.
    with contextlib.suppress(OSError):
        store(folder, key, data)
    return data


def _note(data: Dataset, note: str) -> Dataset:
    from dataclasses import replace

    report = dict(data.report)
    report["notes"] = [*report.get("notes", []), note]
    return replace(data, report=report)


OPTIONAL_ARRAYS = ("mask", "static", "cutoffs", "position")  # Dataset arrays a source may leave None


def store(folder: Path, key: str, data: Dataset) -> bool:
    """Write the entry (arrays first, metadata last, both atomically); False when ids cannot be
    stored without pickle (mixed types), in which case nothing is written."""
    from seqexp.runfolder.atomic import atomic_path

    ids = data.ids
    ids_object = ids.dtype == object
    if ids_object:
        if not all(isinstance(v, str) for v in ids):
            return False
        ids = ids.astype(str)
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {"X": data.X, "y": data.y, "ids": ids}
    for name in OPTIONAL_ARRAYS:
        if getattr(data, name) is not None:
            arrays[name] = getattr(data, name)
    if data.edges is not None:  # the graph's sparse rows as their three arrays and shape, no pickle
        edges = data.edges
        arrays.update(edges_data=edges.data, edges_indices=edges.indices, edges_indptr=edges.indptr,
                      edges_shape=np.asarray(edges.shape, dtype=np.int64))  # fmt: skip
    with atomic_path(folder / f"{key}.npz") as tmp, tmp.open("wb") as handle:
        np.savez(handle, **arrays)
    meta = {
        "feature_names": data.feature_names,
        "onehot_groups": data.onehot_groups,
        "report": data.report,
        "schema": data.schema,
        "ids_object": bool(ids_object),
        "static_names": data.static_names,
    }
    with atomic_path(folder / f"{key}.json") as tmp:
        tmp.write_text(json.dumps(meta, default=_json_default))
    return True


def load(folder: Path, key: str) -> Dataset | None:
    """The cached Dataset, or None when there is no complete, readable entry."""
    meta_path, arrays_path = folder / f"{key}.json", folder / f"{key}.npz"
    if not (meta_path.is_file() and arrays_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text())
        with np.load(arrays_path, allow_pickle=False) as arrays:
            X, y, ids = arrays["X"], arrays["y"], arrays["ids"]
            optional = {n: arrays[n] if n in arrays.files else None for n in OPTIONAL_ARRAYS}
            optional["edges"] = _edges(arrays) if "edges_shape" in arrays.files else None
    except (OSError, ValueError, KeyError):
        return None  # damaged entry: rebuild (and overwrite it)
    if meta.get("ids_object"):
        ids = ids.astype(object)
    data = Dataset(
        X=X,
        y=y,
        ids=ids,
        feature_names=meta["feature_names"],
        onehot_groups=meta["onehot_groups"],
        report=meta["report"],
        schema=meta["schema"],
        static_names=meta.get("static_names", []),
        **optional,
    )
    return _note(data, f"arrays reused from the cache ({arrays_path}); data.cache: false rebuilds them")


def _edges(arrays: Any) -> Any:
    import scipy.sparse as sp

    parts = (arrays["edges_data"], arrays["edges_indices"], arrays["edges_indptr"])
    return sp.csr_matrix(parts, shape=tuple(int(v) for v in arrays["edges_shape"]))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
