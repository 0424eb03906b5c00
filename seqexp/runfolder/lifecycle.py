"""A run folder's life: created unique, recorded in ``run.json``, finished exactly once.

Every verb that writes a run folder (train, a group of seeds or folds, tune, ensemble) goes through
``create`` and the ``recording`` context manager, so that a folder always says how it ended:
``completed``, ``failed`` (with the error) or ``interrupted``, and never looks complete when it is not.
"""

from __future__ import annotations

import json
import platform
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from seqexp.errors import UserError
from seqexp.runfolder import files
from seqexp.runfolder.atomic import write_json, write_text

PACKAGES = (
    "seqexp", "tensorflow", "keras", "scikit-learn", "imbalanced-learn", "lightgbm", "numpy", "pandas",
)  # fmt: skip


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a run; its folder is marked ``interrupted`` and kept."""

    def __init__(self, run_dir: Path, hint: str = ""):
        super().__init__(str(run_dir))
        self.run_dir = run_dir
        self.hint = hint


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
        self.context = ""  # what the run was doing, put before an error message ("kfold child 2")
        self.data: dict[str, Any] = {
            "status": "running",
            "started": now_iso(),
            "finished": None,
            **fields,
            "versions": package_versions(),
        }
        self.save()

    @classmethod
    def reopen(cls, folder: Path, **changes: Any) -> RunRecord:
        """Continue an earlier record (``tune --resume``): its fields kept, status back to running."""
        previous = read_run(folder)
        kept = {k: v for k, v in previous.items() if k not in ("status", "started", "finished", "versions")}
        record = cls(folder, **kept)
        record.data["started"] = previous.get("started", record.data["started"])
        record.update(**changes)
        return record

    @property
    def prefix(self) -> str:
        return f"{self.context}: " if self.context else ""

    @property
    def running(self) -> bool:
        return self.data["status"] == "running"

    def update(self, **fields: Any) -> None:
        self.data.update(fields)
        self.save()

    def finish(self, status: str, **fields: Any) -> None:
        self.update(status=status, finished=now_iso(), **fields)

    def save(self) -> None:
        write_json(self.folder / files.RUN, self.data)


def create(runs_dir: Path, name: str, config_text: str, **fields: Any) -> RunRecord:
    """A new run folder holding its config and a ``running`` record (``name`` is recorded too)."""
    folder = create_run_dir(runs_dir, name)
    write_text(folder / files.CONFIG, config_text)
    return RunRecord(folder, name=name, **fields)


@contextmanager
def recording(
    record: RunRecord,
    *,
    on_end: Callable[[Path], None] | None = None,
    on_stop: Callable[[Path], None] | None = None,
    interrupted: str = "interrupted by the user",
) -> Iterator[RunRecord]:
    """Finish ``record`` however the block ends; the one place a run's status is decided.

    A block that returns leaves the run ``completed`` (unless it finished the record itself). Ctrl-C
    marks it ``interrupted`` and raises ``RunInterrupted``; any error marks it ``failed`` with the
    message (``record.context`` first, e.g. "repeats child 2") and propagates. ``on_stop(folder)`` runs
    before a failed or interrupted status is written (e.g. to keep a partial history);
    ``on_end(folder)`` runs once the folder is final, whatever happened (MLflow tracking uses it).
    """
    folder = record.folder
    try:
        yield record
    except KeyboardInterrupt:
        if on_stop is not None:
            on_stop(folder)
        record.finish("interrupted", error=interrupted)
        raise RunInterrupted(folder, interrupted) from None
    except UserError as exc:
        if on_stop is not None:
            on_stop(folder)
        record.finish("failed", error=f"{record.prefix}{exc}")
        raise
    except Exception as exc:
        if on_stop is not None:
            on_stop(folder)
        record.finish("failed", error=f"{record.prefix}{type(exc).__name__}: {exc}")
        raise
    else:
        if record.running:
            record.finish("completed")
    finally:
        if on_end is not None:
            on_end(folder)


def read_run(folder: Path) -> dict[str, Any]:
    """Read a run folder's ``run.json``; a folder that is not a run is a user error."""
    path = Path(folder) / files.RUN
    if not path.is_file():
        raise UserError(f"{folder}: not a run folder (no {files.RUN})")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: unreadable ({exc})") from None
