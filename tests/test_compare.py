"""``seqexp compare``: every kind of run folder seqexp writes (runs, seeds and k-fold parents, tune
folders, ensembles, evaluations inside runs; completed, failed, interrupted, still running,
unreadable) makes a leaderboard and never a traceback; runs on different data are ranked apart;
tables stay readable on a 100-column terminal and unwrapped when piped; ``--format csv|json``.

The HTML report is tested in a real browser in tests/test_report_html.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY, run_cli

LOGREG = ["--set", "model={name: logistic_regression}"]


def _train(runs: Path, *extra: str) -> Path:
    result = run_cli("train", str(TINY), "--runs-dir", str(runs), "--quiet", *extra)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def _with_status(source: Path, target: Path, status: str, drop: tuple[str, ...] = ()) -> Path:
    """A copy of a run as a run that stopped early leaves it (``run.json`` says so, files missing)."""
    shutil.copytree(source, target)
    record = json.loads((target / "run.json").read_text())
    record["status"] = status
    (target / "run.json").write_text(json.dumps(record))
    for name in drop:
        (target / name).unlink()
    return target


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """One folder of every kind: an LSTM run, a logistic regression (evaluated once: its
    evaluations/ folder must not count), seeds and k-fold parents, an ensemble, a failed run, a
    tune folder with a top run, an interrupted and a running copy, an unreadable folder, and a run
    on other data (another positive rate)."""
    root = tmp_path_factory.mktemp("runs")
    made = {"lstm": _train(root), "logreg": _train(root, *LOGREG, "--set", "name=tiny_logreg")}
    assert run_cli("evaluate", str(made["logreg"]), "-q").returncode == 0
    made["seeds"] = _train(root, *LOGREG, "--set", "name=tiny_seeds", "--seeds", "2")
    made["kfold"] = _train(root, *LOGREG, "--set", "name=tiny_kfold", "--set",
                           "split={method: kfold, folds: 2, test: 0.2}")  # fmt: skip
    made["other"] = _train(root, *LOGREG, "--set", "name=other_data", "--set", "data.positive_rate=0.3")
    shops = root.parent / "shops.yaml"  # a multi-class run: no PR-AUC, ranked by its macro-F1
    shops.write_text(
        "name: shops\nseed: 3\ndata: {name: synthetic_next_shop, customers: 400, shops: 4, "
        "sequence_length: 5}\nbalance: {name: class_weight}\nmodel: {name: logistic_regression}\n"
    )
    result = run_cli("train", str(shops), "--runs-dir", str(root), "-q")
    assert result.returncode == 0, result.stderr
    made["shops"] = Path(result.stdout.strip())
    ensemble = run_cli("ensemble", str(made["lstm"]), str(made["logreg"]), "--runs-dir", str(root), "-q")
    assert ensemble.returncode == 0, ensemble.stderr
    made["ensemble"] = Path(ensemble.stdout.strip().splitlines()[-1])
    failed = run_cli("train", str(TINY), "--runs-dir", str(root), "--set", "balance.k_neighbors=500", "-q")
    assert failed.returncode == 2
    made["failed"] = next(
        p for p in root.iterdir() if json.loads((p / "run.json").read_text())["status"] == "failed"
    )
    # A tune folder as `seqexp tune` leaves it: its own run.json, keras-tuner's folder, top/ runs.
    tune = root / "20250101-000000-tt-tune"
    (tune / "keras_tuner" / "trial_00").mkdir(parents=True)
    (tune / "keras_tuner" / "trial_00" / "run.json").write_text("{}")  # not a run: never walked into
    (tune / "run.json").write_text(json.dumps({"status": "completed", "command": "tune", "name": "tt"}))
    made["top"] = shutil.copytree(made["logreg"], tune / "top" / "20250101-000100-tt-top1-trial0")
    made["tune"] = tune
    made["interrupted"] = _with_status(made["lstm"], root / "20250101-000200-stopped", "interrupted",
                                       drop=("metrics.json",))  # fmt: skip
    made["running"] = _with_status(made["logreg"], root / "20250101-000300-busy", "running")
    broken = root / "20250101-000400-broken"
    broken.mkdir()
    (broken / "run.json").write_text("{not json")
    made["broken"] = broken
    made["root"] = root
    return made


def _document(*args: str) -> dict:
    result = run_cli("compare", *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def _rows(document: dict) -> list[dict]:
    return [row for section in document["sections"] for row in section["runs"]]


def test_all_runs_of_every_kind_make_one_leaderboard(runs: dict[str, Path], tmp_path: Path) -> None:
    document = _document("--all", "--runs-dir", str(runs["root"]), "-o", str(tmp_path / "report"))
    rows = {row["path"]: row for row in _rows(document)}
    name = {key: runs[key].relative_to(runs["root"]).as_posix() for key in runs if key != "root"}
    assert not any("evaluations" in path or "keras_tuner" in path for path in rows)
    assert name["tune"] not in rows and rows[name["top"]]["status"] == "completed"  # tune = its top runs
    seeds, kfold = rows[name["seeds"]], rows[name["kfold"]]
    summary = json.loads((runs["seeds"] / "metrics.json").read_text())
    assert seeds["kind"] == "seeds" and seeds["n"] == 2
    assert seeds["pr_auc"] == pytest.approx(summary["mean"]["test"]["pr_auc"])
    assert seeds["pr_auc_std"] == pytest.approx(summary["std"]["test"]["pr_auc"])
    assert kfold["kind"] == "folds" and kfold["pr_auc_std"] is not None
    assert not any(row.get("parent") for row in rows.values())  # children only with --children
    assert rows[name["ensemble"]]["kind"] == "ensemble" and rows[name["ensemble"]]["pr_auc"] is not None
    assert rows[name["ensemble"]]["data"] == rows[name["lstm"]]["data"]  # data read from its members
    assert "k_neighbors" in rows[name["failed"]]["error"]
    assert rows[name["interrupted"]]["status"] == "interrupted"
    assert rows[name["running"]]["status"] == "running"
    assert rows[name["broken"]]["status"] == "unreadable" and "run.json" in rows[name["broken"]]["error"]


def test_runs_on_different_data_are_never_ranked_together(runs: dict[str, Path], tmp_path: Path) -> None:
    result = run_cli("compare", "--all", "--runs-dir", str(runs["root"]), "-o", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    assert "different data sets" in result.stderr
    document = _document("--all", "--runs-dir", str(runs["root"]), "-o", str(tmp_path / "r"))
    assert "different data sets" in document["warning"]
    known = [s for s in document["sections"] if s["data_fingerprint"]]
    assert len(known) == 3
    (shops,) = [s for s in known if s["data"] == "synthetic_next_shop"]
    assert shops["runs"][0]["f1_macro"] > 0 and shops["runs"][0]["rank"] == 1
    assert any("ranked by f1_macro" in note for note in document["notes"])
    known.remove(shops)
    for section in known:
        fingerprints = {row["data_fingerprint"] for row in section["runs"]}
        assert fingerprints == {section["data_fingerprint"]}
        assert section["data"] == "synthetic_transactions" and section["rows_of_data"] == 400
        assert section["protocol"].startswith("holdout 80/10/10")
        assert all(row["data"].startswith("synthetic_transactions ") for row in section["runs"])
        ranks = [row["rank"] for row in section["runs"] if row["status"] == "completed"]
        assert ranks == list(range(1, len(ranks) + 1))
        scores = [row["pr_auc"] for row in section["runs"] if row["status"] == "completed"]
        assert scores == sorted(scores, reverse=True)
    rates = sorted(s["positive_rate"] for s in known)
    assert rates == [0.15, 0.3]
    # and the tables: one per data set, each titled by its data
    assert result.stdout.count("synthetic_transactions, 400 rows, positive rate") == 2
    assert "synthetic_next_shop, 400 rows, 4 classes" in result.stdout and "macro F1" in result.stdout


def test_a_parent_named_directly_is_one_row_and_its_children_on_request(
    runs: dict[str, Path], tmp_path
) -> None:
    parent = runs["seeds"]
    document = _document(str(parent), "-o", str(tmp_path / "one"))
    (row,) = _rows(document)
    assert row["kind"] == "seeds" and row["pr_auc_std"] is not None
    listed = _rows(_document(str(parent), "--children", "-o", str(tmp_path / "two")))
    assert [r["kind"] for r in listed] == ["seeds", "child", "child"]
    assert {r["parent"] for r in listed[1:]} == {parent.name}
    table = run_cli("compare", str(runs["kfold"]), "-o", str(tmp_path / "three"))
    assert table.returncode == 0 and "±" in table.stdout and "Traceback" not in table.stderr
    refused = run_cli("evaluate", str(parent))
    assert (
        refused.returncode == 2
        and "a group of 2 seeds" in refused.stderr
        and "Traceback" not in refused.stderr
    )


def test_leaderboard_csv_matches_the_json_and_the_run_folders(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = run_cli("compare", str(runs["lstm"]), str(runs["logreg"]), str(runs["failed"]), "-o", str(out),
                     "--sort", "roc_auc", "--format", "csv")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == (out / "leaderboard.csv").read_text()  # stdout holds the CSV, nothing else
    board = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["status"] for r in board] == ["completed", "completed", "failed"]
    assert {"data", "data_fingerprint", "model", "balancer", "pr_auc", "threshold", "error"} <= set(board[0])
    done = board[:2]
    assert float(done[0]["roc_auc"]) >= float(done[1]["roc_auc"])
    for row in done:
        metrics = json.loads((Path(row["path"]) / "metrics.json").read_text())
        assert float(row["pr_auc"]) == pytest.approx(metrics["test"]["pr_auc"], rel=1e-5)
        assert float(row["threshold"]) == pytest.approx(metrics["threshold"], rel=1e-5)
    lstm = next(r for r in done if r["model"] == "lstm")
    assert int(lstm["best_epoch"]) >= 1 and float(lstm["fit_seconds"]) > 0
    logreg = next(r for r in done if r["model"] == "logistic_regression")
    assert logreg["best_epoch"] == ""  # one "epoch": no history to speak of


def test_piped_tables_are_never_wrapped_or_cut(runs: dict[str, Path], tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "60"}  # a narrow setting must not wrap a table written to a pipe
    result = subprocess.run(
        [sys.executable, "-m", "seqexp", "compare", str(runs["seeds"]), str(runs["logreg"]), "-o",
         str(tmp_path / "r")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    (head,) = [line for line in lines if line.startswith("┃")]
    for label in (
        "run",
        "model",
        "PR-AUC",
        "ROC-AUC",
        "F1",
        "MCC",
        "precision",
        "recall",
        "threshold",
        "fit s",
    ):
        assert f" {label} " in head, label
    body = [line for line in lines if line.startswith("│")]
    assert len(body) == 2  # one line per run: nothing wrapped onto a second line
    assert all(line.rstrip() == line for line in lines)


def _in_a_terminal(args: list[str], columns: int) -> str:
    """Run the CLI with stdout on a pseudo-terminal ``columns`` wide; return what it showed."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "50", "TERM": "xterm"}
    process = subprocess.Popen([sys.executable, "-m", "seqexp", *args], cwd=ROOT, env=env, stdout=follower,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=300) == 0
    os.close(leader)
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode())


def test_run_names_stay_readable_on_a_100_column_terminal(runs: dict[str, Path], tmp_path: Path) -> None:
    shown = _in_a_terminal(
        ["compare", "--all", "--runs-dir", str(runs["root"]), "-o", str(tmp_path / "r")], 100
    )
    table = [line for line in shown.splitlines() if line.startswith(("│", "┃", "┏", "└"))]
    assert table and max(len(line.rstrip()) for line in table) <= 100
    assert "…" not in "".join(table)  # no name cut short
    for key in ("logreg", "seeds", "ensemble"):
        stamp, rest = runs[key].name[:15], runs[key].name[16:]
        readable = f"{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]} {rest}"
        assert readable in shown, readable


def test_bad_input_is_one_line(tmp_path: Path, runs: dict[str, Path]) -> None:
    result = run_cli("compare", "--all", "--runs-dir", str(tmp_path))
    assert result.returncode == 2 and "no run folders" in result.stderr
    result = run_cli("compare", str(tmp_path))
    assert result.returncode == 2 and "not a run folder" in result.stderr
    result = run_cli("compare")
    assert result.returncode == 2 and "--all" in result.stderr
    result = run_cli("compare", str(runs["logreg"]), "--sort", "prauc")
    assert result.returncode == 2 and "pr_auc" in result.stderr and "Traceback" not in result.stderr


def test_unknown_sort_key_in_the_library() -> None:
    from seqexp.errors import UserError
    from seqexp.reporting.board import build_leaderboard

    with pytest.raises(UserError, match="--sort"):
        build_leaderboard([], "prauc")
