"""``seqexp tune``: a keras-tuner search (alone, chief or worker); prints the tune folder last."""

from __future__ import annotations

from pathlib import Path

from seqexp.errors import UserError
from seqexp.reporting.console import err, result, say_for
from seqexp.runfolder.lifecycle import RunInterrupted


def run(
    config: Path | None,
    overrides: list[str],
    *,
    runs_dir: Path,
    quiet: bool,
    resume: Path | None,
    chief: bool,
    worker: str | None,
    chief_host: str | None,
    port: int,
) -> None:
    from seqexp.config.loading import load_config

    if config is None and resume is None:
        raise UserError("give a CONFIG with a tune section, or --resume FOLDER")
    if config is None and overrides:  # --resume FOLDER --set tune.max_trials=N: a new budget
        from seqexp.runfolder import files

        if not (resume / files.CONFIG).is_file():  # type: ignore[operator]
            raise UserError(f"{resume}: no {files.CONFIG} here; --resume takes a tune folder")
        config = resume / files.CONFIG  # type: ignore[operator]
    cfg = load_config(config, overrides) if config is not None else None
    from seqexp.reporting.progress import trial_progress
    from seqexp.tuning.roles import set_distributed_env
    from seqexp.tuning.search import run_tune

    set_distributed_env(chief=chief, worker=worker, chief_host=chief_host, port=port)
    progress = trial_progress(err) if not quiet and err.is_terminal else None
    try:
        searched = run_tune(cfg, runs_dir=runs_dir, resume=resume, say=say_for(quiet), progress=progress)
    except RunInterrupted as stop:
        err.print(stop.hint)
        raise SystemExit(130) from None
    result(searched.folder)
