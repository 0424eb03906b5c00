"""The run folder: unique creation, atomic files, and the status record in ``run.json``.

File names here are the contract between the commands (train writes them; evaluate, predict,
compare and ensemble read them).
"""

from __future__ import annotations

import csv
import json
import os
import platform
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from seqexp.errors import UserError

CONFIG = "config.yaml"
RUN = "run.json"
CLASS_COUNTS = "class_counts.json"
HISTORY = "history.csv"
HISTORY_PARTIAL = "history.partial.csv"  # rewritten after each epoch while training
CHECKPOINT = "checkpoint.keras"  # best weights so far (by the early-stopping monitor)
METRICS = "metrics.json"
CONFUSION_CSV = "confusion_matrix.csv"
CONFUSION_PNG = "confusion_matrix.png"
PREDICTIONS = "predictions.csv"
VAL_PREDICTIONS = "val_predictions.csv"
PREPROCESS = "preprocess.json"
DATA_SCHEMA = "data_schema.json"
LOG = "run.log"

PACKAGES = ("seqexp", "tensorflow", "keras", "scikit-learn", "imbalanced-learn", "numpy", "pandas")


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a run; its folder is marked ``interrupted`` and kept."""

    def __init__(self, run_dir: Path):
        super().__init__(str(run_dir))
        self.run_dir = run_dir


def safe_name(name: str) -> str:
    """A run name usable as one folder name: no separators, no '..', no odd characters."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")
    return cleaned[:80] or "run"


def create_run_dir(runs_dir: Path, name: str, *, now: datetime | None = None) -> Path:
    """Create ``runs_dir/<YYYYmmdd-HHMMSS>-<name>[-n]`` atomically (``mkdir`` fails if taken)."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-{safe_name(name)}"
    for n in range(1, 10_000):
        path = runs_dir / (base if n == 1 else f"{base}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise UserError(f"{runs_dir}: too many runs named {base}")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def write_text(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; a run folder is as readable as any
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` for libraries that write files themselves (Keras, matplotlib,
    pandas); renamed onto ``path`` when the block succeeds, removed when it fails or is interrupted.

    The temporary name keeps ``path``'s suffix (Keras and matplotlib choose the format by it) and is
    unique per process, so parallel writers never share one.
    """
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, default=_jsonable) + "\n")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RunRecord:
    """``run.json``: written at start as ``running``, rewritten atomically at each change."""

    def __init__(self, folder: Path, **fields: Any):
        self.folder = folder
        self.data: dict[str, Any] = {
            "status": "running",
            "started": now_iso(),
            "finished": None,
            **fields,
            "versions": package_versions(),
        }
        self.save()

    def update(self, **fields: Any) -> None:
        self.data.update(fields)
        self.save()

    def finish(self, status: str, **fields: Any) -> None:
        self.update(status=status, finished=now_iso(), **fields)

    def save(self) -> None:
        write_json(self.folder / RUN, self.data)


def read_run(folder: Path) -> dict[str, Any]:
    """Read a run folder's ``run.json``; a folder that is not a run is a user error."""
    path = Path(folder) / RUN
    if not path.is_file():
        raise UserError(f"{folder}: not a run folder (no {RUN})")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: unreadable ({exc})") from None


# Append-only records (the run log, tune's per-trial list) grow one line at a time, so that a killed
# process loses nothing already said; at worst its last line is cut. Every other file is atomic.


def append_log(path: Path, message: str) -> None:
    """Append one time-stamped line to a run's log."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{time.strftime('%H:%M:%S')} {message}\n")


def append_csv_row(path: Path, row: dict[str, Any]) -> None:
    """Append one row to a CSV file, writing the header first when the file is new."""
    new = not path.exists()
    with path.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)
