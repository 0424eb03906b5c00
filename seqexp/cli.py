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
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print only the run folder's path.")]


def _say(quiet: bool):
    def say(message: str) -> None:
        if not quiet:
            err.print(f"[dim]{message}[/dim]")

    return say


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
) -> None:
    """Train one experiment; the last line printed is its run folder."""
    from seqexp.config import load_config

    cfg = load_config(config, overrides or [])
    from seqexp.experiment import train_experiment
    from seqexp.report import metrics_table

    show_progress = not quiet and out.is_terminal
    progress = None
    if show_progress:
        from seqexp.training import progress_display

        progress = progress_display(out)
    result = train_experiment(cfg, runs_dir=runs_dir, say=_say(quiet), progress=progress)
    if not quiet:
        out.print(metrics_table(result.metrics))
    out.print(str(result.run_dir), soft_wrap=True)


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


def _not_yet(verb: str) -> None:
    raise UserError(f"'seqexp {verb}' is not yet available in this version")


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


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def evaluate(ctx: typer.Context) -> None:
    """Re-evaluate a saved run on its test split or new data (not yet available)."""
    _not_yet("evaluate")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def ensemble(ctx: typer.Context) -> None:
    """Combine saved runs into one model (not yet available)."""
    _not_yet("ensemble")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def predict(ctx: typer.Context) -> None:
    """Score new customers with a saved run (not yet available)."""
    _not_yet("predict")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def compare(ctx: typer.Context) -> None:
    """Leaderboard of saved runs (not yet available)."""
    _not_yet("compare")


def main() -> None:
    """Console entry point: user mistakes become one message and exit code 2, never a traceback."""
    try:
        app()
    except UserError as exc:
        err.print(f"[bold red]error:[/bold red] {exc}", soft_wrap=True, markup=True, highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
