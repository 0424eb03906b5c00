"""The two terminal streams every verb writes to: results on stdout, progress and notes on stderr.

stdout carries what a script reads (the last line is always the result's path); everything a person
reads while waiting goes to stderr, dimmed, and ``--quiet`` silences it.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

Say = Callable[[str], None]


def say_for(quiet: bool) -> Say:
    """A progress line printer (stderr, dim), silent under ``--quiet``."""

    def say(message: str) -> None:
        if not quiet:
            err.print(f"[dim]{message}[/dim]")

    return say


def warn(message: str) -> None:
    from rich.markup import escape

    err.print(f"[yellow]warning:[/yellow] {escape(message)}", soft_wrap=True, highlight=False)


def result(path: object) -> None:
    """The last line: where the result is."""
    out.print(str(path), soft_wrap=True)


def tracker(enabled: bool, runs_dir: object, quiet: bool) -> Callable | None:
    """The MLflow tracker when asked for (a UserError now, before training, if MLflow is missing)."""
    from pathlib import Path

    from seqexp.tracking import tracker_for

    return tracker_for(enabled, Path(str(runs_dir)), say=say_for(quiet), warn=warn)
