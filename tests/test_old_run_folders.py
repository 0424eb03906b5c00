"""Run folders written before the redesign still open: evaluate reproduces them, predict and compare
read them. The fixture was written by seqexp 0.1.0 (main before the redesign) from configs/tiny.yaml
with a logistic regression, whose model is JSON (figures left out to keep it small; a Keras model file
is a generated binary and is not kept in git).

``repeated_layout/run`` was trained (logistic regression, before the static block existed) on
``output: sequence_and_aggregates`` when that repeated the aggregates on every real step; its
config's paths were made relative (``../events.csv``) so that the folder travels with its log."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import Tiny, run_cli

OLD = Path(__file__).parent / "fixtures" / "runs_v0_1"
REPEATED = Path(__file__).parent / "fixtures" / "repeated_layout"


@pytest.fixture
def old_runs(tmp_path: Path) -> Path:
    """A copy (evaluate writes an evaluations/ folder inside a run)."""
    return Path(shutil.copytree(OLD, tmp_path / "runs"))


@pytest.mark.parametrize("name", ["logistic"])
def test_evaluate_reproduces_an_old_run(old_runs: Path, name: str) -> None:
    from seqexp.commands.evaluate import evaluate_run

    run = old_runs / name
    assert json.loads((run / "run.json").read_text())["versions"]["seqexp"] == "0.1.0"
    result = evaluate_run(run)
    # The synthetic log, now encoded by the events builder, gives the same arrays under the run's names.
    assert result.notes == []  # the same data fingerprint
    saved = json.loads((run / "metrics.json").read_text())
    for key in ("pr_auc", "roc_auc", "f1", "mcc", "brier"):
        assert result.metrics["test"][key] == pytest.approx(saved["test"][key], abs=1e-6), key
    assert result.metrics["threshold"] == saved["threshold"]


def test_predict_and_compare_read_old_runs(tiny: Tiny, old_runs: Path, tmp_path: Path) -> None:
    scores = tmp_path / "scores.csv"
    done = run_cli("predict", str(old_runs / "logistic"), str(tiny.path), "-o", str(scores), "-q")
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(scores)
    assert list(frame.columns) == ["id", "score", "probability", "y_pred", "risk"] and len(frame) > 0
    assert (frame["probability"] == frame["score"]).all()  # no calibration.json: the scores themselves
    compared = run_cli("compare", "--all", "--runs-dir", str(old_runs), "-o", str(tmp_path / "report"))
    assert compared.returncode == 0, compared.stderr
    board = pd.read_csv(tmp_path / "report" / "leaderboard.csv")
    assert set(board["status"]) == {"completed"} and len(board) == 1


def test_a_run_with_the_aggregates_on_every_step_still_evaluates_and_predicts(tmp_path: Path) -> None:
    from seqexp.commands.evaluate import evaluate_run
    from seqexp.commands.predict import predict_run

    run = Path(shutil.copytree(REPEATED, tmp_path / "repeated")) / "run"
    saved = json.loads((run / "metrics.json").read_text())
    assert len(json.loads((run / "run.json").read_text())["feature_names"]) == 9 + 24  # steps + aggregates
    result = evaluate_run(run)
    assert result.notes == []  # the same data fingerprint: the old layout is rebuilt exactly
    for key in ("pr_auc", "roc_auc", "f1", "mcc", "brier"):
        assert result.metrics["test"][key] == pytest.approx(saved["test"][key], abs=1e-9), key
    data = yaml.safe_load((run / "config.yaml").read_text())["data"]
    data.pop("labels")
    data["path"] = str(run.parent / "events.csv")
    (tmp_path / "score.yaml").write_text(yaml.safe_dump({"data": data}))
    predict_run(run, tmp_path / "score.yaml", tmp_path / "scores.csv")
    scored = pd.read_csv(tmp_path / "scores.csv").set_index("id")
    test = pd.read_csv(run / "predictions.csv").set_index("id")
    np.testing.assert_allclose(scored.loc[test.index, "score"], test["score"], rtol=1e-9)
