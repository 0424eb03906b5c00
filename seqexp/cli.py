"""The ``seqexp`` command line: wiring only. Each verb parses its options and calls its module in
``seqexp/commands/``, imported when the verb runs, so ``--help``, ``validate`` and ``list`` never
import TensorFlow, pandas or scikit-learn. Every verb has an example, choices the parser checks (exit
2), metavars that say what to give, one meaning per option name (tests/test_cli_conventions.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from seqexp.errors import UserError
from seqexp.reporting import cli_help as choices  # the parser's choices, beside the help texts
from seqexp.reporting.cli_help import EXAMPLES, HELP, SERVE_HELP, SORT_HELP, Command, Group

app = typer.Typer(
    cls=Group, add_completion=True, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Declared, reproducible experiments for imbalanced customer classification.",
    epilog="Start with: seqexp train configs/tiny.yaml   (seconds; then seqexp compare --all)",
)  # fmt: skip


def verb(name: str) -> Any:
    """Register a verb, with its example under its help."""
    return app.command(name, cls=Command, epilog="\n\n".join(f"Example: {e}" for e in EXAMPLES[name]))


ConfigArg = Annotated[Path, typer.Argument(
    help="Experiment YAML file.", show_default=False, metavar="CONFIG")]  # fmt: skip
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", "-s", metavar="KEY=VALUE", help="Override a config value (YAML), repeatable.")]  # fmt: skip
RunsDirOpt = Annotated[Path, typer.Option("--runs-dir", metavar="DIR", help="Parent folder of run folders.")]
TrustRunOpt = Annotated[bool, typer.Option(
    "--trust-run", help="Load pickled models from the run folder (runs code: trusted only).")]  # fmt: skip
MlflowOpt = Annotated[bool, typer.Option("--mlflow", help=(
    "Also log the run to MLflow (MLFLOW_TRACKING_URI, else ./mlruns by the runs dir)."))]  # fmt: skip
AsOfOpt = Annotated[str | None, typer.Option("--as-of", metavar="DATE", help=(
    "Event logs: build each customer's history strictly before DATE (default: the day after the log's last "
    "event; for labels from the log, their cutoff)."))]  # fmt: skip
RunArg = Annotated[Path, typer.Argument(help="A completed run folder.", show_default=False, metavar="RUN")]


def _quiet(says: str) -> Any:
    """``--quiet``, described by what it leaves on stdout for this verb."""
    return typer.Option("--quiet", "-q", metavar="", help=f"Print only {says}.")


def _format(what: str) -> Any:
    return typer.Option("--format", "-f", help=f"table for people; csv or json for scripts: {what}.")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"seqexp {version('seqexp')}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = None,  # fmt: skip
) -> None:
    """Declared, reproducible experiments for imbalanced customer classification."""


@verb("generate")
def generate(
    config: ConfigArg,
    overrides: SetOpt = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="DIR", help="Folder to write (default: data/<config name>)."),
    ] = None,
) -> None:
    """Write the config's synthetic data set as files a user could have brought."""
    from seqexp.commands import generate as verb

    verb.run(config, overrides or [], out_dir=out_dir)


@verb("train")
def train(
    config: ConfigArg,
    overrides: SetOpt = None,
    runs_dir: RunsDirOpt = Path("runs"),
    quiet: Annotated[bool, _quiet("the run folder's path (no progress, no table)")] = False,
    seeds: Annotated[
        int | None,
        typer.Option(
            "--seeds", min=1, metavar="N", help="Train N seeds on one split; mean +- std (overrides repeats)."
        ),
    ] = None,
    mlflow: MlflowOpt = False,
) -> None:
    """Train one experiment (or its seeds / folds); the last line printed is its run folder."""
    from seqexp.commands import train as verb

    verb.run(config, overrides or [], runs_dir=runs_dir, quiet=quiet, seeds=seeds, mlflow=mlflow)


@verb("backtest")
def backtest(
    config: ConfigArg,
    overrides: SetOpt = None,
    tests: Annotated[
        int, typer.Option("--tests", min=1, max=100, metavar="K", help="Test at the last K snapshot cutoffs.")
    ] = 4,
    runs_dir: RunsDirOpt = Path("runs"),
    quiet: Annotated[bool, _quiet("the parent run folder's path (no progress, no table)")] = False,
    mlflow: MlflowOpt = False,
) -> None:
    """Rolling out-of-time backtest: per test cutoff, train on the past, choose the threshold on the
    cutoff before it, test at it; one child run each, per-cutoff table and figure in the parent."""
    from seqexp.commands import backtest as verb

    verb.run(config, overrides or [], tests=tests, runs_dir=runs_dir, quiet=quiet, mlflow=mlflow)


@verb("validate")
def validate(config: ConfigArg, overrides: SetOpt = None) -> None:
    """Check a config without training (and without importing TensorFlow)."""
    from seqexp.commands import validate as verb

    verb.run(config, overrides or [])


@verb("list")
def list_components(
    family: Annotated[choices.Family, typer.Argument(
        help="Which registry (sources = data).", show_default=True, metavar="FAMILY")] = "all",
) -> None:  # fmt: skip
    """What each registry holds, with one line about each entry."""
    from seqexp.commands import components as verb

    verb.run(family)


@verb("tune")
def tune(
    config: Annotated[
        Path | None,
        typer.Argument(
            help="Experiment YAML with a 'tune' section (optional with --resume).",
            show_default=False,
            metavar="CONFIG",
        ),
    ] = None,
    overrides: SetOpt = None,
    runs_dir: RunsDirOpt = Path("runs"),
    quiet: Annotated[bool, _quiet("the tune folder's path (no progress, no notes)")] = False,
    resume: Annotated[
        Path | None,
        typer.Option("--resume", metavar="DIR", help="Continue (or, with --set, extend) this tune folder."),
    ] = None,
    chief: Annotated[
        bool, typer.Option("--chief", metavar="", help="Serve the search to workers (keras-tuner chief).")
    ] = False,
    worker: Annotated[
        str | None, typer.Option("--worker", metavar="ID", help="Run trials for the chief at --chief-host.")
    ] = None,
    chief_host: Annotated[
        str | None,
        typer.Option(
            "--chief-host", metavar="HOST", help="The chief's address (workers); the chief binds to it."
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", metavar="N", help="The chief's gRPC port.")] = 8000,
) -> None:
    """Search hyperparameters with keras-tuner; the last line printed is the tune folder."""
    from seqexp.commands import tune as verb

    verb.run(
        config, overrides or [], runs_dir=runs_dir, quiet=quiet, resume=resume, chief=chief, worker=worker,
        chief_host=chief_host, port=port,
    )  # fmt: skip


@verb("evaluate")
def evaluate(
    run: RunArg,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            "-d",
            metavar="FILE",
            help="Labelled data: a data config YAML or a data file (default: the run's test split).",
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", metavar="X", help="Decide at this score instead of the run's threshold."),
    ] = None,
    as_of: AsOfOpt = None,
    trust_run: TrustRunOpt = False,
    quiet: Annotated[bool, _quiet("the evaluation folder's path (no table, no notes)")] = False,
    fmt: Annotated[choices.Format, _format("the metrics now and at training")] = "table",
) -> None:
    """Evaluate a run again (its test split, or new labelled data); prints the evaluation folder."""
    from seqexp.commands import evaluate as verb

    verb.run(run, data=data, threshold=threshold, as_of=as_of, trust=trust_run, quiet=quiet, fmt=fmt)


@verb("ensemble")
def ensemble(
    members: Annotated[
        list[Path] | None,
        typer.Argument(help="Run folders (same data and split).", show_default=False, metavar="RUN"),
    ] = None,
    method: Annotated[
        choices.Method, typer.Option("--method", "-m", help="How member scores are combined.")
    ] = "mean",
    weights: Annotated[
        str | None,
        typer.Option(
            "--weights", metavar="W,W,...", help="Member weights, e.g. 0.7,0.3 (--method weighted)."
        ),
    ] = None,
    search: Annotated[
        bool,
        typer.Option(
            "--search", metavar="", help="Keep the member subset with the best validation objective."
        ),
    ] = False,
    max_members: Annotated[
        int, typer.Option("--max-members", min=1, metavar="N", help="Largest subset searched.")
    ] = 3,
    objective: Annotated[
        choices.Objective,
        typer.Option("--objective", help="Validation metric that fits weights and picks subsets."),
    ] = "pr_auc",  # fmt: skip
    from_tune: Annotated[
        Path | None,
        typer.Option("--from-tune", metavar="DIR", help="A tune run folder: take its best runs as members."),
    ] = None,
    top: Annotated[
        int, typer.Option("--top", min=2, metavar="N", help="With --from-tune: how many runs.")
    ] = 5,
    threshold_rule: Annotated[
        str | None,
        typer.Option(
            "--threshold-rule",
            metavar="RULE",
            help="Threshold rule (YAML: max_f1, 0.4, {min_recall: 0.6}); default: the first member's.",
        ),
    ] = None,
    old_threshold: Annotated[str | None, typer.Option("--threshold", hidden=True)] = None,
    name: Annotated[
        str | None, typer.Option("--name", metavar="NAME", help="Run name (default ensemble-METHOD).")
    ] = None,
    runs_dir: RunsDirOpt = Path("runs"),
    quiet: Annotated[bool, _quiet("the ensemble's run folder path (no table)")] = False,
    mlflow: MlflowOpt = False,
) -> None:
    """Combine saved runs into one model; the last line printed is its run folder."""
    from seqexp.commands import ensemble as verb

    if old_threshold is not None and threshold_rule is None:  # the old spelling, hidden: --threshold
        threshold_rule = old_threshold  # is a number in evaluate, so here it is --threshold-rule
    verb.run(
        list(members or []), method=method, weights=weights, search=search, max_members=max_members,
        objective=objective, from_tune=from_tune, top=top, threshold=threshold_rule, name=name,
        runs_dir=runs_dir, quiet=quiet, mlflow=mlflow,
    )  # fmt: skip


@verb("predict")
def predict(
    run: RunArg,
    source: Annotated[Path, typer.Argument(
        help="Customers to score: a data config YAML or a data file.", show_default=False, metavar="INPUT")],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE", help="CSV to write.")] = Path(
        "scores.csv"),
    bands: Annotated[str | None, typer.Option("--bands", metavar="X,X,...", help=(
        "Risk cut points, e.g. 0.3,0.7 (default: the run's evaluate.risk_bands)."))] = None,
    levels: Annotated[str | None, typer.Option(
        "--levels", metavar="NAME,NAME,...", help="Risk level names, e.g. low,medium,high.")] = None,
    as_of: AsOfOpt = None,
    explain: Annotated[int | None, typer.Option("--explain", min=1, max=20, metavar="K",
                                                help=HELP["predict_explain"])] = None,
    trust_run: TrustRunOpt = False,
    quiet: Annotated[bool, _quiet("the scores CSV's path (no summary)")] = False,
    fmt: Annotated[choices.Format, _format("the summary of what was scored")] = "table",
) -> None:  # fmt: skip
    """Score new customers: id, score, label at the run's threshold, risk level; prints the CSV."""
    from seqexp.commands import predict as verb

    verb.run(run, source, output=output, bands=bands, levels=levels, as_of=as_of, explain=explain,
             trust=trust_run, quiet=quiet, fmt=fmt)  # fmt: skip


@verb("explain")
def explain(
    run: RunArg,
    source: Annotated[Path | None, typer.Argument(help=HELP["explain_input"], metavar="INPUT")] = None,
    top: Annotated[int, typer.Option("--top", min=1, max=20, metavar="K", help="Reasons per customer.")] = 3,
    trust_run: TrustRunOpt = False,
    quiet: Annotated[bool, _quiet("the explanation folder's path (no summary)")] = False,
) -> None:  # fmt: skip
    """Why the model scores as it does: importance by feature and time step, reasons per customer."""
    from seqexp.commands import explain as verb

    verb.run(run, source, top=top, trust=trust_run, quiet=quiet)


@verb("compare")
def compare(
    run_dirs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Run folders to compare (a group, a tune folder: its runs).",
            show_default=False,
            metavar="RUN",
        ),
    ] = None,
    all_runs: Annotated[
        bool,
        typer.Option("--all", metavar="", help="Compare every run under --runs-dir, at any depth."),
    ] = False,
    runs_dir: RunsDirOpt = Path("runs"),
    sort: Annotated[
        choices.SortKey,
        typer.Option("--sort", metavar="METRIC", help=SORT_HELP),
    ] = "pr_auc",
    children: Annotated[
        bool,
        typer.Option("--children", metavar="", help="Also list each child of a seeds / k-fold group."),
    ] = False,
    out_dir: Annotated[
        Path, typer.Option("--output", "-o", metavar="DIR", help="Folder for the report.")
    ] = Path("report"),
    quiet: Annotated[bool, _quiet("the report folder's path (with --format csv/json: the document)")] = False,
    fmt: Annotated[choices.Format, _format("the leaderboard")] = "table",
) -> None:
    """Leaderboard of runs, one table per data set, a CSV and one HTML file; prints the report folder."""
    from seqexp.commands import compare as verb

    verb.run(
        list(run_dirs or []), all_runs=all_runs, runs_dir=runs_dir, sort=sort, out_dir=out_dir, quiet=quiet,
        children=children, fmt=fmt,
    )  # fmt: skip


@verb("serve")
def serve(
    run: RunArg,
    host: Annotated[str, typer.Option("--host", metavar="HOST", help=SERVE_HELP["host"])] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, metavar="N", help="The port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, metavar="N", help=SERVE_HELP["workers"])] = 1,
    max_customers: Annotated[int, typer.Option(
        "--max-customers", min=1, metavar="N", help="Most customers per request (more: a 422).")] = 1000,
    max_body_bytes: Annotated[int, typer.Option(
        "--max-body-bytes", min=1, metavar="N", help="Largest request body (larger: a 413).")] = 16 * 2**20,
    trust_run: TrustRunOpt = False,
    quiet: Annotated[bool, _quiet("warnings and errors (no request log)")] = False,
) -> None:  # fmt: skip
    """Serve a run over HTTP (POST /predict, GET /health, GET /metadata); needs the serve extra."""
    from seqexp.commands import serve as verb

    verb.run(run, host=host, port=port, workers=workers, trust=trust_run, max_customers=max_customers,
             max_body_bytes=max_body_bytes, quiet=quiet)  # fmt: skip


@verb("export")
def export(
    run: RunArg,
    fmt: Annotated[choices.ExportFormat, typer.Option("--format", "-f", help=SERVE_HELP["export"])] = (
        "mlflow"),
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="DIR", help="Folder to write (default: RUN/exports/mlflow-TIME).")] = None,
    trust_run: TrustRunOpt = False,
    quiet: Annotated[bool, _quiet("the exported model's folder")] = False,
) -> None:  # fmt: skip
    """Export a run as a model another tool serves (an MLflow pyfunc model); prints its folder."""
    from seqexp.commands import export as verb

    verb.run(run, fmt=fmt, output=output, trust=trust_run, quiet=quiet)


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
