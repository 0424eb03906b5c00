"""The ``seqexp`` command line. Each command parses, loads the config, makes one call, prints
where the result is. Heavy libraries are imported inside the commands that need them, so
``--help``, ``validate`` and ``list`` stay fast."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from seqexp.errors import UserError
from seqexp.runfolder.lifecycle import RunInterrupted

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Declared, reproducible experiments for imbalanced customer classification.",
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

ConfigArg = Annotated[Path, typer.Argument(help="Experiment YAML file.", show_default=False)]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a config value: KEY=VALUE (YAML), repeatable."),
]
RunsDirOpt = Annotated[Path, typer.Option("--runs-dir", help="Parent folder of run folders.")]
TrustRunOpt = Annotated[
    bool,
    typer.Option("--trust-run", help="Load pickled models from the run folder (runs code: trusted only)."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the run folder's path.")]
MlflowOpt = Annotated[
    bool,
    typer.Option(
        "--mlflow", help="Also log the run to MLflow (MLFLOW_TRACKING_URI, else ./mlruns by the runs dir)."
    ),
]


def _say(quiet: bool):
    def say(message: str) -> None:
        if not quiet:
            err.print(f"[dim]{message}[/dim]")

    return say


def _tracker(enabled: bool, runs_dir: Path, quiet: bool):
    """The MLflow tracker when asked for (a UserError now, before training, if MLflow is missing)."""
    from seqexp.tracking import tracker_for

    def warn(message: str) -> None:
        from rich.markup import escape

        err.print(f"[yellow]warning:[/yellow] {escape(message)}", soft_wrap=True, highlight=False)

    return tracker_for(enabled, runs_dir, say=_say(quiet), warn=warn)


@app.command()
def generate(
    config: ConfigArg,
    overrides: SetOpt = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder to write (default: data/<config name>).")
    ] = None,
) -> None:
    """Write the config's synthetic data set as files a user could have brought."""
    from seqexp.config import load_config
    from seqexp.data.generate import write_generated

    cfg = load_config(config, overrides or [])
    folder = write_generated(cfg, out_dir or Path("data") / cfg.name)
    out.print(str(folder), soft_wrap=True)


@app.command()
def train(
    config: ConfigArg,
    overrides: SetOpt = None,
    runs_dir: RunsDirOpt = Path("runs"),
    quiet: QuietOpt = False,
    seeds: Annotated[
        int | None,
        typer.Option("--seeds", min=1, help="Train N seeds on one split; mean +- std (overrides repeats)."),
    ] = None,
    mlflow: MlflowOpt = False,
) -> None:
    """Train one experiment (or its seeds / folds); the last line printed is its run folder."""
    from seqexp.config import load_config

    cfg = load_config(config, overrides or [])
    if mlflow:  # recorded in the run's config.yaml like any setting
        cfg = cfg.model_copy(update={"tracking": "mlflow"})
    track = _tracker(cfg.tracking == "mlflow", runs_dir, quiet)
    from seqexp.pipeline.groups import needs_group

    if needs_group(cfg, seeds):
        _train_group(cfg, seeds, runs_dir, quiet, track)
        return
    from seqexp.pipeline.train import train_experiment
    from seqexp.reporting.tables import metrics_table

    show_progress = not quiet and out.is_terminal
    progress = None
    if show_progress:
        from seqexp.pipeline.callbacks import progress_display

        progress = progress_display(out)
    _signals_as_ctrl_c()
    try:
        result = train_experiment(cfg, runs_dir=runs_dir, say=_say(quiet), progress=progress, on_end=track)
    except RunInterrupted as stop:
        err.print(f"interrupted: {stop.run_dir} keeps its config, history so far and best checkpoint")
        raise typer.Exit(130) from None
    if not quiet:
        out.print(metrics_table(result.metrics))
    out.print(str(result.run_dir), soft_wrap=True)


def _train_group(cfg, seeds: int | None, runs_dir: Path, quiet: bool, track) -> None:
    from seqexp.pipeline.groups import group_title, train_planned_group
    from seqexp.pipeline.summary import spread_table

    progress = None
    if not quiet and out.is_terminal:
        from seqexp.pipeline.callbacks import progress_display

        progress = lambda: progress_display(out)  # noqa: E731  (a fresh bar per child run)
    result = train_planned_group(
        cfg, seeds=seeds, runs_dir=runs_dir, say=_say(quiet), progress=progress, on_end=track
    )
    if not quiet:
        out.print(spread_table(result.summary, group_title(result.summary)))
    out.print(str(result.run_dir), soft_wrap=True)


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


@app.command()
def validate(config: ConfigArg, overrides: SetOpt = None) -> None:
    """Check a config without training (and without importing TensorFlow)."""
    from seqexp.config import load_config

    cfg = load_config(config, overrides or [])
    out.print(
        f"{config}: ok ({cfg.model.name} on {cfg.data.name}, balance {cfg.balance.name}, seed {cfg.seed})",
        soft_wrap=True,
    )


@app.command("list")
def list_components(
    family: Annotated[
        str, typer.Argument(help="models, balancers, data, or all.", show_default=True)
    ] = "all",
) -> None:
    """What each registry holds, with one line about each entry."""
    from rich.table import Table

    from seqexp.config import COMPONENT_SECTIONS

    families = {"data": "data", "sources": "data", "balancers": "balance", "models": "model"}
    if family != "all" and family not in families:
        raise UserError(f"unknown family '{family}'; use models, balancers, data or all")
    for key, section in families.items():
        if key == "sources" or (family != "all" and families[family] != section):
            continue
        table = Table(title=f"{key} (config section '{section}')", title_justify="left")
        table.add_column("name", style="bold")
        table.add_column("description")
        for entry in COMPONENT_SECTIONS[section]:
            table.add_row(entry.name, entry.description)
        out.print(table)


@app.command()
def tune(
    config: Annotated[
        Path | None,
        typer.Argument(
            help="Experiment YAML with a 'tune' section (optional with --resume).", show_default=False
        ),
    ] = None,
    overrides: SetOpt = None,
    runs_dir: RunsDirOpt = Path("runs"),
    quiet: QuietOpt = False,
    resume: Annotated[
        Path | None, typer.Option("--resume", help="Continue the interrupted search in this tune folder.")
    ] = None,
    chief: Annotated[
        bool, typer.Option("--chief", help="Serve the search to workers (keras-tuner chief).")
    ] = False,
    worker: Annotated[
        str | None, typer.Option("--worker", metavar="ID", help="Run trials for the chief at --chief-host.")
    ] = None,
    chief_host: Annotated[
        str | None, typer.Option("--chief-host", help="The chief's address (workers); the chief binds to it.")
    ] = None,
    port: Annotated[int, typer.Option("--port", help="The chief's gRPC port.")] = 8000,
) -> None:
    """Search hyperparameters with keras-tuner; the last line printed is the tune folder."""
    from seqexp.config import load_config

    if config is None and resume is None:
        raise UserError("give a CONFIG with a tune section, or --resume FOLDER")
    cfg = load_config(config, overrides or []) if config is not None else None
    if cfg is None and overrides:
        raise UserError("--set needs a CONFIG; to resume as it was, use --resume FOLDER alone")
    from seqexp.tuning.search import run_tune, set_distributed_env, trial_progress

    set_distributed_env(chief=chief, worker=worker, chief_host=chief_host, port=port)
    progress = trial_progress(err) if not quiet and err.is_terminal else None
    result = run_tune(cfg, runs_dir=runs_dir, resume=resume, say=_say(quiet), progress=progress)
    out.print(str(result.folder), soft_wrap=True)


RunArg = Annotated[Path, typer.Argument(help="A completed run folder.", show_default=False)]


@app.command()
def evaluate(
    run: RunArg,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            "-d",
            help="Labelled data: a data config YAML or a data file (default: the run's test split).",
        ),
    ] = None,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Use this threshold instead of the run's.")
    ] = None,
    trust_run: TrustRunOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Evaluate a run again (its test split, or new labelled data); prints the evaluation folder."""
    from seqexp.commands.evaluate import evaluate_run, evaluation_table

    result = evaluate_run(run, data=data, threshold=threshold, trust=trust_run)
    say = _say(quiet)
    for note in result.notes:
        say(f"note: {note}")
    if not quiet:
        import json

        from seqexp.runfolder.files import METRICS

        out.print(evaluation_table(result, json.loads((run / METRICS).read_text())))
    out.print(str(result.folder), soft_wrap=True)


@app.command()
def ensemble(
    members: Annotated[
        list[Path] | None,
        typer.Argument(help="Run folders (same data and split).", show_default=False),
    ] = None,
    method: Annotated[str, typer.Option("--method", "-m", help="mean | weighted | rank | stack.")] = "mean",
    weights: Annotated[
        str | None, typer.Option("--weights", help="Comma-separated member weights, e.g. 0.7,0.3 (weighted).")
    ] = None,
    search: Annotated[
        bool, typer.Option("--search", help="Keep the member subset with the best validation objective.")
    ] = False,
    max_members: Annotated[int, typer.Option("--max-members", min=1, help="Largest subset searched.")] = 3,
    objective: Annotated[str, typer.Option("--objective", help="pr_auc | roc_auc (validation).")] = "pr_auc",
    from_tune: Annotated[
        Path | None, typer.Option("--from-tune", help="A tune run folder: take its best runs as members.")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=2, help="With --from-tune: how many runs.")] = 5,
    threshold: Annotated[
        str | None, typer.Option("--threshold", help="Threshold rule (YAML); default: the first member's.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Run name (default ensemble-METHOD).")] = None,
    runs_dir: RunsDirOpt = Path("runs"),
    quiet: QuietOpt = False,
    mlflow: MlflowOpt = False,
) -> None:
    """Combine saved runs into one model; the last line printed is its run folder."""
    from seqexp.commands.ensemble import build_ensemble, ensemble_table, parse_weights, tune_members

    track = _tracker(mlflow, runs_dir, quiet)
    paths = list(members or [])
    if from_tune is not None:
        paths += tune_members(from_tune, top, objective)
    result = build_ensemble(
        paths,
        method=method,
        weights=parse_weights(weights),
        search=search,
        max_members=max_members,
        objective=objective,
        threshold=threshold,
        name=name,
        runs_dir=runs_dir,
    )
    if track is not None:
        track(result.run_dir)
    if not quiet:
        out.print(ensemble_table(result.metrics))
    out.print(str(result.run_dir), soft_wrap=True)


def _floats(text: str | None, option: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UserError(
            f"{option}: expected comma-separated numbers such as 0.3,0.7 (got {text!r})"
        ) from None


@app.command()
def predict(
    run: RunArg,
    source: Annotated[
        Path,
        typer.Argument(help="Customers to score: a data config YAML or a data file.", show_default=False),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV to write.")] = Path("scores.csv"),
    bands: Annotated[
        str | None,
        typer.Option(
            "--bands", help="Risk cut points, e.g. 0.3,0.7 (default: the run's evaluate.risk_bands)."
        ),
    ] = None,
    levels: Annotated[
        str | None, typer.Option("--levels", help="Risk level names, e.g. low,medium,high.")
    ] = None,
    trust_run: TrustRunOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Score new customers: id, score, label at the run's threshold, risk level; prints the CSV."""
    from seqexp.commands.predict import predict_run, summary_lines

    names = [x.strip() for x in levels.split(",")] if levels is not None else None
    summary = predict_run(run, source, output, cuts=_floats(bands, "--bands"), levels=names, trust=trust_run)
    say = _say(quiet)
    for line in summary_lines(summary):
        say(line)
    out.print(str(summary.output), soft_wrap=True)


@app.command()
def compare(
    run_dirs: Annotated[
        list[Path] | None, typer.Argument(help="Run folders to compare.", show_default=False)
    ] = None,
    all_runs: Annotated[bool, typer.Option("--all", help="Compare every run under --runs-dir.")] = False,
    runs_dir: RunsDirOpt = Path("runs"),
    sort: Annotated[str, typer.Option("--sort", help="Test metric (or column) to rank by.")] = "pr_auc",
    out_dir: Annotated[Path, typer.Option("--output", "-o", help="Folder for the report.")] = Path("report"),
    quiet: QuietOpt = False,
) -> None:
    """Leaderboard of runs: table, CSV, figures, one HTML file; prints the report folder."""
    from seqexp.commands.compare import compare_runs, find_runs, rich_table

    if bool(run_dirs) == all_runs:
        raise UserError("give run folders, or --all (with --runs-dir) for every run, not both")
    board, folder = compare_runs(find_runs(runs_dir) if all_runs else list(run_dirs or []), out_dir, sort)
    if not quiet:
        out.print(rich_table(board))
    out.print(str(folder), soft_wrap=True)


def main() -> None:
    """Console entry point: user mistakes become one message and exit code 2, never a traceback."""
    try:
        app()
    except UserError as exc:
        from rich.markup import escape  # a message may hold brackets: "pip install 'seqexp[mlflow]'"

        err.print(f"[bold red]error:[/bold red] {escape(str(exc))}", soft_wrap=True, highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
