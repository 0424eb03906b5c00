"""The two terminal streams every verb writes to: results on stdout, progress and notes on stderr.

stdout carries what a script reads (the last line is always the result's path); everything a person
reads while waiting goes to stderr, dimmed, and ``--quiet`` silences it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

Say = Callable[[str], None]


WARNING = "warning: "  # a progress message that starts so is printed as a warning (yellow)


def say_for(quiet: bool) -> Say:
    """A progress line printer (stderr, dim), silent under ``--quiet``; a message starting with
    ``warning: `` (a stage's warning, such as drift at training) is printed as a warning."""

    def say(message: str) -> None:
        if quiet:
            return
        if message.startswith(WARNING):
            warn(message[len(WARNING) :])
        else:
            from rich.markup import escape

            err.print(f"[dim]{escape(message)}[/dim]")

    return say


def warn(message: str) -> None:
    from rich.markup import escape

    err.print(f"[yellow]warning:[/yellow] {escape(message)}", soft_wrap=True, highlight=False)


def result(path: object) -> None:
    """The last line: where the result is."""
    out.print(str(path), soft_wrap=True)


def print_wide(renderable: Any) -> None:
    """Print a table on stdout. On a terminal it fits the window; anywhere else (a file, a pipe, a CI
    log) it is printed at its natural width: never wrapped at 80 columns, no header cut."""
    if out.is_terminal:
        out.print(renderable)
        return
    import io

    width = Console(width=10_000).measure(renderable).maximum
    buffer = io.StringIO()
    Console(file=buffer, width=max(width, 40), highlight=False, color_system=None).print(renderable)
    print_document("\n".join(line.rstrip() for line in buffer.getvalue().splitlines()))


def print_document(text: str) -> None:
    """Machine-readable output (CSV or JSON) on stdout exactly as given: no markup, no wrapping."""
    out.file.write(text if text.endswith("\n") else text + "\n")
    out.file.flush()


def print_json(document: Any) -> None:
    """JSON on stdout; NaN and infinities (not JSON) become null, paths and the like strings."""
    import json

    print_document(json.dumps(finite(document), indent=2, default=str, allow_nan=False))


def finite(value: Any) -> Any:
    import math

    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def tracker(enabled: bool, runs_dir: object, quiet: bool) -> Callable | None:
    """The MLflow tracker when asked for (a UserError now, before training, if MLflow is missing)."""
    from pathlib import Path

    from seqexp.tracking import tracker_for

    return tracker_for(enabled, Path(str(runs_dir)), say=say_for(quiet), warn=warn)
