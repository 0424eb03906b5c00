"""Figures at train time, and ``seqexp evaluate``: a run folder alone reproduces its test metrics,
scores new labelled data, and refuses what is not a completed run."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import Tiny, run_cli

FIGURES = ["roc_curve.png", "pr_curve.png", "calibration.png", "threshold_curve.png", "history.png"]


@pytest.fixture(scope="module")
def tiny_run(tiny: Tiny, tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    result = run_cli("train", str(tiny.path), "--runs-dir", str(runs), "--quiet")
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "evaluations" not in p.parts
    }


def test_train_writes_figures_architecture_and_class_report(tiny_run: Path) -> None:
    for name in [*FIGURES, "model_summary.txt"]:
        path = tiny_run / name
        assert path.is_file() and path.stat().st_size > 1000, name
        if name.endswith(".png"):
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "LSTM" in (tiny_run / "model_summary.txt").read_text()
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    report = metrics["classification_report"]["test"]
    assert report["1"]["support"] + report["0"]["support"] == metrics["test"]["rows"]
    assert report["1"]["recall"] == pytest.approx(metrics["test"]["recall"])
    assert "figures:" in (tiny_run / "run.log").read_text()


def test_evaluate_reproduces_the_test_metrics_without_touching_the_run(tiny_run: Path) -> None:
    before = _digest(tiny_run)
    result = run_cli("evaluate", str(tiny_run))
    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert folder.parent == tiny_run / "evaluations"
    original = json.loads((tiny_run / "metrics.json").read_text())
    again = json.loads((folder / "metrics.json").read_text())
    assert again["threshold"] == original["threshold"]
    for key, value in original["test"].items():
        assert again["test"][key] == pytest.approx(value, abs=1e-9), key
    assert pd.read_csv(folder / "predictions.csv").equals(pd.read_csv(tiny_run / "predictions.csv"))
    for name in ["evaluation.json", "confusion_matrix.png", "roc_curve.png", "pr_curve.png"]:
        assert (folder / name).is_file(), name
    assert _digest(tiny_run) == before, "evaluate changed the run's own files"


def test_evaluate_on_new_labelled_data_with_a_threshold(tiny_run: Path, write_config) -> None:
    from seqexp.commands.evaluate import evaluate_run

    config = write_config(
        "data: {name: synthetic_transactions, customers: 300, sequence_length: 6, "
        "positive_rate: 0.15, seed: 99}\n",
        name="new_customers.yaml",
    )
    result = evaluate_run(tiny_run, data=config, threshold=0.4)
    assert result.folder.name.endswith("new_customers")
    assert result.metrics["threshold"] == 0.4 and "--threshold" in result.metrics["threshold_rule"]
    assert result.metrics["data"]["rows"] == 300
    predictions = pd.read_csv(result.folder / "predictions.csv")
    assert len(predictions) == 300 and set(predictions["y_pred"]) <= {0, 1}
    assert ((predictions["score"] >= 0.4).astype(int) == predictions["y_pred"]).all()
    info = json.loads((result.folder / "evaluation.json").read_text())
    assert info["source"] == str(config) and info["data"]["customers"] == 300


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("not_a_run", "not a run folder"),
        ("failed_run", "'failed', not completed"),
        ("missing_file", "no such file"),
        ("bad_threshold", "--threshold"),
    ],
)
def test_evaluate_bad_input_is_one_error(tiny_run: Path, tmp_path: Path, case: str, message: str) -> None:
    args = {
        "not_a_run": [str(tmp_path)],
        "missing_file": [str(tiny_run), "--data", str(tmp_path / "nope.csv")],
        "bad_threshold": [str(tiny_run), "--threshold", "1.5"],
    }.get(case)
    if case == "failed_run":
        failed = tmp_path / "failed"
        failed.mkdir()
        (failed / "run.json").write_text(json.dumps({"status": "failed", "error": "DataError: boom"}))
        args = [str(failed)]
    result = run_cli("evaluate", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_evaluate_data_of_another_shape_is_refused(tiny_run: Path, write_config) -> None:
    from seqexp.commands.evaluate import evaluate_run
    from seqexp.errors import UserError

    config = write_config("data: {name: synthetic_transactions, customers: 200, sequence_length: 9}\n")
    with pytest.raises(UserError, match=r"shape \[9, 9\].*expects \[6, 9\]"):
        evaluate_run(tiny_run, data=config)
