"""Ensembles of tiny runs: each method, the fingerprint refusal, search, --from-tune, new-data scoring."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from seqexp.commands.ensemble import build_ensemble, tune_members
from seqexp.config.loading import load_config
from seqexp.ensembles.combine import METHODS, ensemble_scores, fit_weights, simplex_grid
from seqexp.errors import UserError
from seqexp.pipeline.groups import seed_variants
from seqexp.pipeline.train import train_experiment
from tests.conftest import Tiny, run_cli

pytestmark = pytest.mark.slow  # two tiny LSTM runs and two logistic regressions, trained once


@pytest.fixture(scope="module")
def members(tiny: Tiny, tmp_path_factory) -> dict[str, Path]:
    """Two LSTM seeds and a logistic regression on one split, and a logistic regression on another.
    Uncalibrated, so the combinations can be checked on the scores themselves (calibrated members:
    test_calibrated_members_are_combined_as_probabilities)."""
    runs_dir = tmp_path_factory.mktemp("members")
    raw = "evaluate.calibration=none"
    cfg = load_config(tiny.path, ["train.epochs=1", raw])
    (_, lstm_a), (_, lstm_b) = seed_variants(cfg, 2)
    logistic = load_config(
        tiny.path, ["model={name: logistic_regression}", "data.seed=7", "split.seed=7", raw]
    )
    other_split = load_config(
        tiny.path, ["model={name: logistic_regression}", "data.seed=7", "split.seed=99", raw]
    )
    configs = {"lstm_a": lstm_a, "lstm_b": lstm_b, "logistic": logistic, "other_split": other_split}
    return {key: train_experiment(c, runs_dir=runs_dir).run_dir for key, c in configs.items()}


def scores(run: Path, file: str = "predictions.csv") -> pd.DataFrame:
    return pd.read_csv(run / file, dtype={"id": str}).sort_values("id").reset_index(drop=True)


def same_split(members: dict[str, Path]) -> list[Path]:
    return [members["lstm_a"], members["lstm_b"], members["logistic"]]


@pytest.mark.parametrize("method", METHODS)
def test_each_method_writes_an_ordinary_run_that_rescoring_reproduces(
    members: dict[str, Path], method: str, tmp_path: Path
) -> None:
    result = build_ensemble(same_split(members), method=method, runs_dir=tmp_path)
    run_dir = result.run_dir
    for name in ("config.yaml", "run.json", "metrics.json", "ensemble.json", "predictions.csv",
                 "val_predictions.csv", "confusion_matrix.csv", "confusion_matrix.png"):  # fmt: skip
        assert (run_dir / name).is_file(), name
    run = json.loads((run_dir / "run.json").read_text())
    member_run = json.loads((members["lstm_a"] / "run.json").read_text())
    assert run["status"] == "completed" and run["estimator"] == "ensemble"
    assert run["split_fingerprint"] == member_run["split_fingerprint"]
    assert run["data_fingerprint"] == member_run["data_fingerprint"]
    metrics = result.metrics
    assert 0 < metrics["threshold"] < 1 and metrics["threshold_rule"] == "max_f1 on validation"
    assert {m["run"] for m in metrics["members"]} == {p.name for p in same_split(members)}
    weights = [m["weight"] for m in metrics["members"]]
    assert min(weights) >= 0 and sum(weights) == pytest.approx(1.0)

    # What evaluate/predict will do with new data: member scores in, ensemble scores out.
    predictions = scores(run_dir)
    given = {str(p.resolve()): scores(p)["score"].to_numpy() for p in same_split(members)}
    again = ensemble_scores(run_dir, given)
    assert np.allclose(again, predictions["score"], atol=2e-6)
    assert ((predictions["score"] >= metrics["threshold"]).astype(int) == predictions["y_pred"]).all()
    assert list(scores(run_dir, "val_predictions.csv")["id"]) == list(
        scores(members["lstm_a"], "val_predictions.csv")["id"]
    )


def test_mean_is_the_average_of_member_scores(members: dict[str, Path], tmp_path: Path) -> None:
    run_dir = build_ensemble(same_split(members), method="mean", runs_dir=tmp_path).run_dir
    expected = np.mean([scores(p)["score"] for p in same_split(members)], axis=0)
    assert np.allclose(scores(run_dir)["score"], expected, atol=2e-6)


def test_an_ensemble_folder_draws_the_figures_of_a_train_run(
    members: dict[str, Path], tmp_path: Path, monkeypatch
) -> None:
    """The figure files of a binary train run folder, less those that need a training (history, model
    diagram), drawn from the ensemble's combined probabilities, classes named as the members name them."""
    from seqexp.reporting import figures

    drawn: dict = {}
    real = figures.plot_roc

    def plot_roc(parts, path, title=None):
        drawn.update(parts)
        real(parts, path, title)

    monkeypatch.setattr(figures, "plot_roc", plot_roc)
    result = build_ensemble(same_split(members), method="mean", runs_dir=tmp_path)
    trained = {p.name for p in members["lstm_a"].glob("*.png")} - {"history.png", "model.png"}
    assert trained >= {"roc_curve.png", "pr_curve.png", "calibration.png", "threshold_curve.png",
                       "gains_lift.png", "confusion_matrix.png"}  # fmt: skip
    assert {p.name for p in result.run_dir.glob("*.png")} == trained
    assert np.allclose(drawn["test"][1], scores(result.run_dir)["score"], atol=2e-6)
    member = json.loads((members["lstm_a"] / "metrics.json").read_text())
    assert result.metrics["class_names"] == member["class_names"]


def test_members_with_costs_give_the_ensemble_their_profit_rule_and_figure(
    tiny: Tiny, tmp_path: Path
) -> None:
    costs = ["evaluate.costs={tp: 50, fp: -5}", "evaluate.threshold=max_profit"]
    folders = [
        train_experiment(load_config(tiny.path, [m, *costs]), runs_dir=tmp_path / "runs").run_dir
        for m in ("model={name: logistic_regression}", "model={name: logistic_regression, C: 0.1}")
    ]
    result = build_ensemble(folders, method="mean", runs_dir=tmp_path / "ens")
    assert result.metrics["threshold_rule"] == "max_profit on validation"
    assert (result.run_dir / "profit_curve.png").is_file()
    import yaml

    saved = yaml.safe_load((result.run_dir / "config.yaml").read_text())["evaluate"]
    assert saved["threshold"] == "max_profit" and saved["costs"]["tp"] == 50  # evaluate can reuse them


def test_calibrated_members_are_combined_as_probabilities(tiny: Tiny, tmp_path: Path) -> None:
    from seqexp.tasks.calibration import Calibrator

    runs = tmp_path / "runs"
    models = ["model={name: logistic_regression}", "model={name: gradient_boosting, max_iter: 20}"]
    folders = [
        train_experiment(load_config(tiny.path, [m, "evaluate.calibration=sigmoid"]), runs_dir=runs).run_dir
        for m in models
    ]
    result = build_ensemble(folders, method="mean", runs_dir=tmp_path / "ens")
    expected = np.mean(
        [
            Calibrator.from_json(json.loads((f / "calibration.json").read_text())).apply(scores(f)["score"])
            for f in folders
        ],
        axis=0,
    )
    assert np.allclose(scores(result.run_dir)["score"], expected, atol=2e-6)
    state = json.loads((result.run_dir / "ensemble.json").read_text())
    assert state["calibrated_members"] == [True, True]
    paired = result.metrics["vs_best_member"]  # the member chosen on validation, on the same test rows
    assert paired["verdict"] in ("yes", "no", "unclear") and paired["member"] in {f.name for f in folders}
    low, high = paired["interval"]
    assert low <= high
    assert "combined calibrated probabilities of 2 of 2 members" in (result.run_dir / "run.log").read_text()


def test_given_weights_are_used_and_normalised(members: dict[str, Path], tmp_path: Path) -> None:
    pair = [members["lstm_a"], members["logistic"]]
    result = build_ensemble(pair, method="weighted", weights=[7, 3], runs_dir=tmp_path)
    assert [m["weight"] for m in result.metrics["members"]] == pytest.approx([0.7, 0.3])
    expected = 0.7 * scores(pair[0])["score"] + 0.3 * scores(pair[1])["score"]
    assert np.allclose(scores(result.run_dir)["score"], expected, atol=2e-6)


def test_fitted_weights_beat_or_match_every_member_on_validation(members: dict[str, Path]) -> None:
    val = [scores(p, "val_predictions.csv") for p in same_split(members)]
    matrix, y = np.column_stack([v["score"] for v in val]), val[0]["y_true"].to_numpy()
    weights = fit_weights(matrix, y, "pr_auc")
    assert min(weights) >= 0 and sum(weights) == pytest.approx(1.0)
    best_single = max(average_precision_score(y, v["score"]) for v in val)
    assert average_precision_score(y, matrix @ weights) >= best_single - 1e-12  # the grid has the corners
    grid = simplex_grid(3)
    assert np.allclose(grid.sum(axis=1), 1) and (grid >= 0).all() and len(grid) <= 1000


def test_rank_scores_lie_in_unit_interval(members: dict[str, Path], tmp_path: Path) -> None:
    run_dir = build_ensemble(same_split(members), method="rank", runs_dir=tmp_path).run_dir
    values = scores(run_dir, "val_predictions.csv")["score"]
    assert values.min() >= 0 and values.max() <= 1


def test_stack_saves_its_meta_model_and_scores_validation_out_of_fold(
    members: dict[str, Path], tmp_path: Path
) -> None:
    run_dir = build_ensemble(same_split(members), method="stack", runs_dir=tmp_path).run_dir
    state = json.loads((run_dir / "ensemble.json").read_text())
    assert len(state["meta"]["coef"]) == 3 and isinstance(state["meta"]["intercept"], float)
    assert any("out-of-fold" in note for note in state["notes"])


def test_search_tries_every_subset_and_keeps_the_best(members: dict[str, Path], tmp_path: Path) -> None:
    result = build_ensemble(same_split(members), method="mean", search=True, max_members=3, runs_dir=tmp_path)
    tried = json.loads((result.run_dir / "ensemble.json").read_text())["search"]
    assert len(tried) == 7  # 3 singles, 3 pairs, 1 triple
    best = max(entry["pr_auc"] for entry in tried)
    assert result.metrics["val"]["pr_auc"] == pytest.approx(best, abs=1e-9)


def test_members_on_another_split_are_refused_by_name(members: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        build_ensemble([members["lstm_a"], members["other_split"]], runs_dir=tmp_path)
    message = str(caught.value)
    assert members["other_split"].name in message and members["lstm_a"].name in message
    assert "split" in message
    assert not list(tmp_path.iterdir()), "no run folder for a refused ensemble"


def test_members_scoring_different_customers_are_refused(members: dict[str, Path], tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    shutil.copytree(members["logistic"], clone)
    predictions = pd.read_csv(clone / "predictions.csv")
    predictions.iloc[1:].to_csv(clone / "predictions.csv", index=False)
    with pytest.raises(UserError, match="different customers"):
        build_ensemble([members["lstm_a"], clone], runs_dir=tmp_path / "out")


def test_a_group_of_runs_is_not_a_member(members: dict[str, Path], tmp_path: Path) -> None:
    group = tmp_path / "group"
    group.mkdir()
    (group / "run.json").write_text(json.dumps({"status": "completed", "kind": "repeats", "children": ["a"]}))
    with pytest.raises(UserError, match="child runs"):
        build_ensemble([members["lstm_a"], group], runs_dir=tmp_path / "out")


def test_from_tune_takes_the_best_runs_of_a_tune_folder(members: dict[str, Path], tmp_path: Path) -> None:
    tune = tmp_path / "tune"
    for i, key in enumerate(("lstm_a", "lstm_b", "logistic")):
        shutil.copytree(members[key], tune / "trials" / f"trial_{i}")
    (tune / "run.json").write_text(json.dumps({"status": "completed"}))  # the tune run itself is skipped
    ranked = tune_members(tune, top=2)
    val_pr_auc = {
        p: json.loads((p / "metrics.json").read_text())["val"]["pr_auc"] for p in (tune / "trials").iterdir()
    }
    assert ranked == sorted(val_pr_auc, key=lambda p: -val_pr_auc[p])[:2]

    out = tmp_path / "out"
    result = run_cli(
        "ensemble", "--from-tune", str(tune), "--top", "2", "--runs-dir", str(out), "--name", "best2"
    )
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    assert run_dir.parent == out and run_dir.name.endswith("-best2")
    assert json.loads((run_dir / "ensemble.json").read_text())["members"] == [str(p) for p in ranked]


def test_cli_refusal_is_one_line_and_exit_code_2(members: dict[str, Path], tmp_path: Path) -> None:
    result = run_cli(
        "ensemble", str(members["lstm_a"]), str(members["other_split"]), "--runs-dir", str(tmp_path)
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert members["other_split"].name in result.stderr
    result = run_cli("ensemble", str(members["lstm_a"]), str(members["logistic"]), "--weights", "0.7,x")
    assert result.returncode == 2 and "--weights" in result.stderr


def test_evaluate_and_predict_reopen_an_ensemble_through_its_members(
    tiny: Tiny, members: dict[str, Path], tmp_path: Path
) -> None:
    from seqexp.commands.evaluate import evaluate_run
    from seqexp.commands.predict import predict_run

    run_dir = build_ensemble(same_split(members), method="rank", runs_dir=tmp_path).run_dir
    result = evaluate_run(run_dir)
    saved = json.loads((run_dir / "metrics.json").read_text())
    again = json.loads((result.folder / "metrics.json").read_text())
    assert again["test"]["pr_auc"] == pytest.approx(saved["test"]["pr_auc"], abs=1e-12)
    predict_run(run_dir, tiny.path, tmp_path / "scores.csv")
    scored = pd.read_csv(tmp_path / "scores.csv")
    assert len(scored) == 400 and scored["score"].between(0, 1).all()
