"""The command line behaves like one: ``--version``; an example under every verb's help; choices
listed and checked by the parser; shell completion; metavars that say what to give, never a Python
type; ``--quiet`` described truthfully per verb and leaving one line on stdout; one meaning per
option name across verbs; machine-readable ``--format``; an empty config refused in one line.
Everything through the real CLI (a fresh process), except the parser's own tables."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY, run_cli

VERBS = ("generate", "train", "validate", "list", "tune", "evaluate", "ensemble", "predict", "compare",
         "explain", "serve", "export")  # fmt: skip
PYTHON_TYPES = re.compile(r"<(bool|str|int|float|path|Path|list\[[^>]*\]|int range|float range)>")
QUIET = {  # what --quiet leaves on stdout, as each verb's help must say
    "train": "run folder's path", "tune": "tune folder's path", "evaluate": "evaluation folder's path",
    "ensemble": "ensemble's run folder path", "predict": "scores CSV's path",
    "compare": "report folder's path", "explain": "explanation folder's path",
}  # fmt: skip


def _help(*verb: str) -> str:
    result = run_cli(*verb, "--help")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_version() -> None:
    from importlib.metadata import version

    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"seqexp {version('seqexp')}"


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_an_example_and_no_python_type_in_its_help(verb: str) -> None:
    shown = _help(verb)
    assert f"Example: seqexp {verb}" in shown
    assert not PYTHON_TYPES.findall(shown), PYTHON_TYPES.findall(shown)


def _options(verb: str) -> dict[str, object]:
    import typer

    from seqexp.cli import app

    command = typer.main.get_command(app).commands[verb]  # type: ignore[attr-defined]
    return {opt: param for param in command.params for opt in param.opts}


@pytest.mark.parametrize("verb", sorted(QUIET))
def test_quiet_says_what_it_leaves_on_stdout(verb: str) -> None:
    assert f"Print only the {QUIET[verb]}" in _options(verb)["--quiet"].help  # type: ignore[attr-defined]


def test_the_top_level_help_has_no_python_types_and_offers_completion() -> None:
    shown = _help()
    assert not PYTHON_TYPES.findall(shown) and "--install-completion" in shown and "--version" in shown


@pytest.mark.parametrize(
    "args", [["--help"], ["list"], ["validate", str(TINY)], ["compare", "--help"], ["serve", "--help"]]
)
def test_light_commands_import_no_heavy_library(args: list[str]) -> None:
    """``--help``, ``list`` and ``validate`` stay fast: no TensorFlow, LightGBM, pandas, scikit-learn,
    Jinja2, FastAPI, uvicorn or MLflow."""
    code = (
        "import sys, atexit; atexit.register(lambda: print(sorted(m for m in ('pandas', 'sklearn', "
        "'tensorflow', 'lightgbm', 'jinja2', 'matplotlib', 'fastapi', 'uvicorn', 'mlflow') "
        "if m in sys.modules), file=sys.stderr)); "
        f"sys.argv = ['seqexp', *{args!r}]; from seqexp.cli import main; main()"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_shell_completion_completes_verbs_and_choices() -> None:
    def complete(words: str, index: int) -> list[str]:
        env = {
            **os.environ,
            "_SEQEXP_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(index),
        }
        done = subprocess.run(
            [sys.executable, "-c", "from seqexp.cli import app; app(prog_name='seqexp')"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("seqexp comp", 1) == ["compare"]
    assert complete("seqexp ensemble --method ", 3) == ["mean", "weighted", "rank", "stack"]
    assert complete("seqexp compare --format ", 3) == ["table", "csv", "json"]
    code = "from seqexp.cli import app; app(prog_name='seqexp')"
    script = subprocess.run([sys.executable, "-c", code, "--show-completion", "bash"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "complete " in script.stdout and "_SEQEXP_COMPLETE" in script.stdout


@pytest.mark.parametrize(
    ("args", "choices"),
    [
        (["ensemble", "a", "b", "--method", "average"], "'mean', 'weighted', 'rank', 'stack'"),
        (["ensemble", "a", "b", "--objective", "f1"], "'pr_auc', 'roc_auc'"),
        (["list", "model"], "'models', 'balancers', 'data'"),
        (["compare", "--all", "--format", "yaml"], "'table', 'csv', 'json'"),
        (["compare", "--all", "--sort", "prauc"], "'pr_auc', 'roc_auc'"),
        (["evaluate", "runs/x", "--format", "xml"], "'table', 'csv', 'json'"),
        (["evaluate", "runs/x", "--threshold", "max_f1"], "Invalid value for '--threshold'"),
    ],
)
def test_the_parser_checks_choices_before_anything_runs(args: list[str], choices: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert choices in " ".join(result.stderr.replace("│", " ").split()), result.stderr


def test_choices_in_the_parser_are_the_ones_the_verbs_accept() -> None:
    from seqexp import cli
    from seqexp.commands.compare import FORMATS
    from seqexp.commands.components import FAMILIES
    from seqexp.commands.export import FORMATS as EXPORT_FORMATS
    from seqexp.ensembles.combine import METHODS, OBJECTIVES
    from seqexp.reporting.board import SORTABLE

    assert typing.get_args(cli.choices.Method) == METHODS
    assert typing.get_args(cli.choices.Objective) == OBJECTIVES
    assert set(typing.get_args(cli.choices.Family)) == {*FAMILIES, "all"}
    assert typing.get_args(cli.choices.Format) == FORMATS
    assert typing.get_args(cli.choices.ExportFormat) == EXPORT_FORMATS
    assert typing.get_args(cli.choices.SortKey) == SORTABLE


def test_one_meaning_per_option_name_across_verbs() -> None:
    """An option name has one type across verbs (``--threshold`` is a number wherever it is shown);
    hidden options are old spellings kept for scripts. A choice is a choice: its values may differ by
    verb (``--format``: table, csv or json for a verb's document; mlflow for ``export``)."""
    import typer

    from seqexp.cli import app

    group = typer.main.get_command(app)
    meanings: dict[str, set[str]] = {}
    for command in group.commands.values():  # type: ignore[attr-defined]
        for param in command.params:
            if param.param_type_name != "option" or getattr(param, "hidden", False):
                continue
            kind = str(param.type_descriptor.annotation)
            kind = "a choice" if kind.startswith("typing.Literal[") else kind
            for opt in param.opts:
                meanings.setdefault(opt, set()).add(kind)
    mixed = {opt: kinds for opt, kinds in meanings.items() if len(kinds) > 1}
    assert not mixed, mixed
    assert meanings["--threshold"] == {str(float)}
    ensemble = " ".join(_help("ensemble").split())
    assert "--threshold-rule" in ensemble and "--threshold " not in ensemble.replace("--threshold-rule", "")


def test_an_empty_config_is_refused_in_one_line(tmp_path: Path) -> None:
    for text in ("", "# just a comment\n"):
        path = tmp_path / "empty.yaml"
        path.write_text(text)
        for verb in ("validate", "train"):
            result = run_cli(verb, str(path), "--runs-dir", str(tmp_path / "runs")) if verb == "train" else (
                run_cli(verb, str(path)))  # fmt: skip
            assert result.returncode == 2 and "Traceback" not in result.stderr
            (line,) = result.stderr.strip().splitlines()
            assert str(path) in line and "empty" in line and "data:" in line and "model:" in line
    assert not (tmp_path / "runs").exists()  # nothing was trained


# --------------------------------------------------------------------------- on real runs


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    """Two logistic regressions on the same data and split (seconds)."""
    runs = tmp_path_factory.mktemp("runs")
    made = []
    for c in ("1.0", "0.1"):
        result = run_cli("train", str(TINY), "--runs-dir", str(runs), "-q", "--set",
                         "model={name: logistic_regression}", "--set", f"model.C={c}")  # fmt: skip
        assert result.returncode == 0, result.stderr
        made.append(Path(result.stdout.strip()))
    return made[0], made[1]


def test_quiet_leaves_one_line_on_stdout(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    run = two_runs[0]
    for args in (["evaluate", str(run)], ["predict", str(run), str(TINY), "-o", str(tmp_path / "s.csv")],
                 ["compare", str(run), "-o", str(tmp_path / "report")]):  # fmt: skip
        result = run_cli(*args, "-q")
        assert result.returncode == 0, result.stderr
        assert len(result.stdout.splitlines()) == 1 and Path(result.stdout.strip()).exists(), args
        assert result.stderr == "", args


def test_format_json_and_csv_hold_only_the_document(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    run = two_runs[0]
    evaluated = run_cli("evaluate", str(run), "--format", "json")
    assert evaluated.returncode == 0, evaluated.stderr
    document = json.loads(evaluated.stdout)
    metrics = json.loads((run / "metrics.json").read_text())
    assert document["metrics"]["pr_auc"] == pytest.approx(metrics["test"]["pr_auc"])
    assert Path(document["folder"]).parent.name == "evaluations"
    table = run_cli("evaluate", str(run), "--format", "csv")
    assert table.stdout.splitlines()[0] == "metric,now,at_training" and "pr_auc," in table.stdout
    scored = run_cli("predict", str(run), str(TINY), "-o", str(tmp_path / "s.csv"), "--format", "json")
    summary = json.loads(scored.stdout)
    assert summary["rows"] == 400 and sum(summary["counts"].values()) == 400
    assert summary["output"] == str(tmp_path / "s.csv")
    one_row = run_cli("predict", str(run), str(TINY), "-o", str(tmp_path / "s.csv"), "--format", "csv")
    assert one_row.stdout.splitlines()[0].startswith("output,rows,threshold,predicted_positive")


def test_ensemble_threshold_rule_and_its_old_spelling(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    for option in ("--threshold-rule", "--threshold"):
        result = run_cli(
            "ensemble", *map(str, two_runs), option, "max_mcc", "--runs-dir", str(tmp_path), "-q"
        )
        assert result.returncode == 0, result.stderr
        metrics = json.loads((Path(result.stdout.strip()) / "metrics.json").read_text())
        assert "max_mcc" in metrics["threshold_rule"]
