"""``seqexp compare``: leaderboard from run folders (failed ones listed, not fatal), CSV, figures,
and an HTML report that a real browser (headless Chromium) renders with its table and images."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import Tiny, require, run_cli


@pytest.fixture(scope="module")
def runs_dir(tiny: Tiny, tmp_path_factory) -> Path:
    """Two tiny runs (LSTM, and logistic regression) plus a failed one."""
    runs = tmp_path_factory.mktemp("runs")
    for extra in ([], ["--set", "model={name: logistic_regression}", "--set", "name=tiny_logreg"]):
        result = run_cli("train", str(tiny.path), "--runs-dir", str(runs), "--quiet", *extra)
        assert result.returncode == 0, result.stderr
    failed = run_cli(
        "train", str(tiny.path), "--runs-dir", str(runs), "--set", "balance.k_neighbors=500", "-q"
    )
    assert failed.returncode == 2
    return runs


@pytest.fixture(scope="module")
def report(runs_dir: Path, tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("report")
    result = run_cli("compare", "--all", "--runs-dir", str(runs_dir), "-o", str(out), "--sort", "roc_auc")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(out)
    return out, result.stdout


def test_leaderboard_csv_ranks_completed_runs_and_lists_the_failed_one(runs_dir: Path, report) -> None:
    out, stdout = report
    board = pd.read_csv(out / "leaderboard.csv")
    assert len(board) == 3
    assert list(board["status"]) == ["completed", "completed", "failed"]
    done = board[board["status"] == "completed"]
    assert done["roc_auc"].is_monotonic_decreasing
    assert set(done["model"]) == {"lstm", "logistic_regression"}
    assert "k_neighbors" in board.loc[board["status"] == "failed", "error"].item()
    for run in done.itertuples():
        metrics = json.loads((runs_dir / run.run / "metrics.json").read_text())
        assert run.pr_auc == pytest.approx(metrics["test"]["pr_auc"], rel=1e-5)
        assert run.threshold == pytest.approx(metrics["threshold"], rel=1e-5)
        assert run.epochs >= 1 and run.best_epoch >= 1 and run.fit_seconds > 0
    assert "leaderboard" in stdout and "failed" in stdout


def test_html_report_renders_in_headless_chromium(report, tmp_path: Path) -> None:
    out, _ = report
    page = (out / "report.html").read_text()
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 2  # comparison and overfitting figures, inlined
    from PIL import Image

    for data in images:
        assert Image.open(io.BytesIO(base64.b64decode(data))).size[0] > 300
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    require("chromium", browser is not None, "apt-get install chromium")
    assert browser is not None
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files"]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", (out / "report.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    body = re.search(r'<table id="leaderboard">.*?<tbody>(.*?)</tbody>', dom, re.S)
    assert body is not None, "the browser's DOM has no leaderboard table"
    assert body.group(1).count("<tr") == 3 and "failed" in body.group(1)
    assert dom.count("<img") == 2
    shot = tmp_path / "shot.png"
    subprocess.run(
        [browser, *flags, f"--screenshot={shot}", "--window-size=1400,2200", (out / "report.html").as_uri()],
        capture_output=True, timeout=120,
    )  # fmt: skip
    # The rendered page shows the figures: matplotlib's default blue bars are on screen.
    pixels = Image.open(shot).convert("RGB").getdata()
    blue = sum(1 for r, g, b in pixels if abs(r - 31) < 12 and abs(g - 119) < 12 and abs(b - 180) < 12)
    assert blue > 500, "no figure visible in the rendered report"


def test_compare_bad_input(tmp_path: Path) -> None:
    result = run_cli("compare", "--all", "--runs-dir", str(tmp_path))
    assert result.returncode == 2 and "no run folders" in result.stderr
    result = run_cli("compare", str(tmp_path))
    assert result.returncode == 2 and "not a run folder" in result.stderr
    result = run_cli("compare")
    assert result.returncode == 2 and "--all" in result.stderr


def test_unknown_sort_key(runs_dir: Path) -> None:
    from seqexp.commands.compare import build_leaderboard
    from seqexp.errors import UserError

    with pytest.raises(UserError, match="--sort"):
        build_leaderboard(sorted(runs_dir.iterdir()), "prauc")
