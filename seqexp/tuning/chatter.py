"""keras-tuner's own output ("Reloading Tuner from ...", "Search space summary", its trial banners
and warnings) goes into the run's ``run.log``, not to the terminal.

keras-tuner writes with ``print`` and ``warnings.warn``; while the tuner is built and searches,
``sys.stdout`` is a writer that appends each line to ``run.log`` (marked ``keras-tuner:``), and
warnings are logged there too. seqexp's own lines and the progress view write to stderr through
their console, untouched; the trial process sends its output to the same log
(``trial_process.init_child``).
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from seqexp.runfolder import atomic

PREFIX = "keras-tuner: "
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # terminal control (keras-tuner clears its lines)


class LogLines(io.TextIOBase):
    """A text stream whose every complete line is appended to a run's log."""

    def __init__(self, path: Path):
        super().__init__()
        self.path, self._pending = path, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._append(line)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._append(self._pending)
            self._pending = ""

    def _append(self, line: str) -> None:
        line = _ESCAPES.sub("", line)
        if line.strip():  # keras-tuner prints blank lines between its blocks
            atomic.append_log(self.path, PREFIX + line.rstrip())


@contextlib.contextmanager
def into_log(path: Path) -> Iterator[LogLines]:
    """Within: stdout and Python warnings append to ``path`` (the run's log)."""
    lines = LogLines(path)

    def show(
        message: Warning | str, category: type[Warning], filename: str, lineno: int,
        file: Any = None, line: str | None = None,
    ) -> None:  # fmt: skip
        lines.flush()  # a warning is a line of its own, even after a print without its newline
        lines.write(f"{category.__name__}: {message} ({Path(filename).name}:{lineno})\n")

    with warnings.catch_warnings(), contextlib.redirect_stdout(lines):
        warnings.showwarning = show
        try:
            yield lines
        finally:
            lines.flush()
