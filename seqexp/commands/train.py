"""``seqexp train``: one experiment, or its seeds or folds, into a run folder; prints its path last."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seqexp.config.experiment import ExperimentConfig
from seqexp.config.loading import load_config
from seqexp.reporting.console import err, out, result, say_for, tracker
from seqexp.runfolder.lifecycle import RunInterrupted


def run(
    config: Path, overrides: list[str], *, runs_dir: Path, quiet: bool, seeds: int | None, mlflow: bool
) -> None:
    cfg = load_config(config, overrides)
    if mlflow:  # recorded in the run's config.yaml like any setting
        cfg = cfg.model_copy(update={"tracking": "mlflow"})
    from seqexp.pipeline.data_check import check_data

    check_data(cfg)  # a mistake in the data section is found before any run folder exists
    track = tracker(cfg.tracking == "mlflow", runs_dir, quiet)
    from seqexp.pipeline.groups import needs_group

    _signals_as_ctrl_c()
    try:
        _train(cfg, runs_dir=runs_dir, quiet=quiet, seeds=seeds, track=track, group=needs_group(cfg, seeds))
    except RunInterrupted as stop:
        err.print(f"interrupted: {stop.run_dir} keeps its config, history so far and best checkpoint")
        raise SystemExit(130) from None


def _train(
    cfg: ExperimentConfig, *, runs_dir: Path, quiet: bool, seeds: int | None, track: Any, group: bool
) -> None:
    if group:
        from seqexp.pipeline.groups import train_planned_group
        from seqexp.reporting.tables import spread_table

        trained_group = train_planned_group(
            cfg, seeds=seeds, runs_dir=runs_dir, say=say_for(quiet), progress=_progress(quiet, fresh=True),
            on_end=track,
        )  # fmt: skip
        if not quiet:
            out.print(spread_table(trained_group.summary))
        result(trained_group.run_dir)
        return
    from seqexp.pipeline.train import train_experiment
    from seqexp.reporting.tables import metrics_table

    trained = train_experiment(
        cfg, runs_dir=runs_dir, say=say_for(quiet), progress=_progress(quiet), on_end=track
    )
    if not quiet:
        out.print(metrics_table(trained.metrics))
    result(trained.run_dir)


def _progress(quiet: bool, *, fresh: bool = False) -> Any:
    """A live epoch bar when a person watches (a fresh one per child run for groups)."""
    if quiet or not out.is_terminal:
        return None
    from seqexp.reporting.progress import progress_display

    return (lambda: progress_display(out)) if fresh else progress_display(out)


def _signals_as_ctrl_c() -> None:
    """``kill``, a scheduler's time limit or ``docker stop`` end the run the way Ctrl-C does: the run
    folder is marked ``interrupted`` and keeps its history and best checkpoint; exit code 130.

    SIGINT is set too: a process started in the background by a shell inherits SIGINT ignored,
    and Python then never turns ``kill -INT`` into KeyboardInterrupt.
    """
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
