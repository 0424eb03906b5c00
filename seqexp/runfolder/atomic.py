"""Writing run-folder files so that no reader ever sees half a file.

Every file is written to a temporary name and renamed; append-only records (the run log, tune's
per-trial list) grow one line at a time instead.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


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
