"""The ``seqexp`` command line: wiring only. Each verb parses its options and calls its module in
``seqexp/commands/``, imported when the verb runs, so ``--help``, ``validate`` and ``list`` never
import TensorFlow, pandas or scikit-learn."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from seqexp.errors import UserError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Declared, reproducible experiments for imbalanced customer classification.",
)

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


RunArg = Annotated[Path, typer.Argument(help="A completed run folder.", show_default=False)]


@app.command()
def generate(
    config: ConfigArg,
    overrides: SetOpt = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder to write (default: data/<config name>).")
    ] = None,
) -> None:
    """Write the config's synthetic data set as files a user could have brought."""
    from seqexp.commands import generate as verb

    verb.run(config, overrides or [], out_dir=out_dir)


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
    from seqexp.commands import train as verb

    verb.run(config, overrides or [], runs_dir=runs_dir, quiet=quiet, seeds=seeds, mlflow=mlflow)


@app.command()
def validate(config: ConfigArg, overrides: SetOpt = None) -> None:
    """Check a config without training (and without importing TensorFlow)."""
    from seqexp.commands import validate as verb

    verb.run(config, overrides or [])


@app.command("list")
def list_components(
    family: Annotated[
        str, typer.Argument(help="models, balancers, data, or all.", show_default=True)
    ] = "all",
) -> None:
    """What each registry holds, with one line about each entry."""
    from seqexp.commands import components as verb

    verb.run(family)


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
    from seqexp.commands import tune as verb

    verb.run(
        config, overrides or [], runs_dir=runs_dir, quiet=quiet, resume=resume, chief=chief, worker=worker,
        chief_host=chief_host, port=port,
    )  # fmt: skip


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
    from seqexp.commands import evaluate as verb

    verb.run(run, data=data, threshold=threshold, trust=trust_run, quiet=quiet)


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
    from seqexp.commands import ensemble as verb

    verb.run(
        list(members or []), method=method, weights=weights, search=search, max_members=max_members,
        objective=objective, from_tune=from_tune, top=top, threshold=threshold, name=name,
        runs_dir=runs_dir, quiet=quiet, mlflow=mlflow,
    )  # fmt: skip


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
    from seqexp.commands import predict as verb

    verb.run(run, source, output=output, bands=bands, levels=levels, trust=trust_run, quiet=quiet)


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
    from seqexp.commands import compare as verb

    verb.run(
        list(run_dirs or []), all_runs=all_runs, runs_dir=runs_dir, sort=sort, out_dir=out_dir, quiet=quiet
    )


def main() -> None:
    """Console entry point: user mistakes become one message and exit code 2, never a traceback."""
    from seqexp.reporting.console import err

    try:
        app()
    except UserError as exc:
        from rich.markup import escape  # a message may hold brackets: "pip install 'seqexp[mlflow]'"

        err.print(f"[bold red]error:[/bold red] {escape(str(exc))}", soft_wrap=True, highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
