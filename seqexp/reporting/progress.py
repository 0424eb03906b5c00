"""The live progress bar shown while a person watches (epochs of a fit, trials of a search)."""

from __future__ import annotations

from typing import Any


def progress_display(console: Any, fields: str = "{task.fields[metrics]}") -> Any:
    """A rich progress bar (epochs, or tune's trials) with ``fields`` rendered beside it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn(fields),
        console=console,
        transient=False,
    )


def trial_progress(console: Any) -> Any:
    """Tune's progress: trials done out of planned, with the best objective so far."""
    return progress_display(console, "best {task.fields[best]}")
