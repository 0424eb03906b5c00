"""Probabilities and decisions: calibration after resampling, lift and profit, bootstrap intervals,
the paired verdict against the baseline, and risk levels that agree with the decision."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as m

from seqexp.tasks import bootstrap, business, calibration
from tests.conftest import Tiny, run_cli


def _population(n: int, seed: int, rate: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from a known probability: y ~ Bernoulli(p)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n) * 1.5 + np.log(rate / (1 - rate))
    p = 1 / (1 + np.exp(-z))
    return (rng.random(n) < p).astype(int), p


def test_the_prior_correction_undoes_random_undersampling_exactly() -> None:
    """A model fitted on rows whose positive rate was moved from 10% to 50% scores the posterior
    under that rate; rescaling its odds by the rates gives back the natural posterior."""
    _, p_true = _population(5000, seed=0)
    natural, fitted = 0.10, 0.50
    odds_fitted = p_true / (1 - p_true) * (fitted / (1 - fitted)) / (natural / (1 - natural))
    scores = odds_fitted / (1 + odds_fitted)  # what a perfect model fitted on the resampled rows says
    corrected = calibration.fit("prior", np.zeros(5000), scores, prior=(natural, fitted)).apply(scores)
    np.testing.assert_allclose(corrected, p_true, rtol=1e-5, atol=1e-6)


def test_sigmoid_calibration_keeps_every_ranking_metric_and_improves_probabilities() -> None:
    y, p = _population(4000, seed=1)
    scores = p**0.3  # monotone, badly calibrated (too high)
    fitted = calibration.fit("sigmoid", y[:2000], scores[:2000])
    after = fitted.apply(scores[2000:])
    assert m.average_precision_score(y[2000:], after) == pytest.approx(
        m.average_precision_score(y[2000:], scores[2000:]), abs=1e-12
    )
    assert m.roc_auc_score(y[2000:], after) == pytest.approx(
        m.roc_auc_score(y[2000:], scores[2000:]), abs=1e-12
    )
    before_q, after_q = calibration.quality(y[2000:], scores[2000:]), calibration.quality(y[2000:], after)
    assert after_q["ece"] < before_q["ece"] / 3 and after_q["brier"] < before_q["brier"]
    state = json.loads(json.dumps(fitted.to_json()))  # stored as JSON, applied the same after reading
    np.testing.assert_array_equal(calibration.Calibrator.from_json(state).apply(scores), fitted.apply(scores))


def test_out_of_fold_validation_probabilities_are_not_fitted_on_their_own_rows() -> None:
    """On scores that carry no signal, isotonic regression fitted on the same rows 'explains' their
    labels (its Brier score beats the base rate's); out of fold it cannot, on every draw."""
    for seed in range(5):
        y, _ = _population(1000, seed=seed)
        noise = np.random.default_rng(seed + 50).random(1000)
        base = m.brier_score_loss(y, np.full(1000, y.mean()))
        in_sample = m.brier_score_loss(y, calibration.fit("isotonic", y, noise).apply(noise))
        oof = m.brier_score_loss(y, calibration.out_of_fold("isotonic", y, noise, seed=seed))
        assert in_sample < base < oof, (seed, in_sample, base, oof)


def test_lift_capture_and_ks_on_a_hand_made_ranking() -> None:
    y = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0] * 10)  # 30 positives in 100; ranked in this order
    scores = -np.arange(100, dtype=float)
    figures = business.ranking_figures(y, scores)
    assert figures["capture_top_1"] == pytest.approx(1 / 30)  # the top 1 customer is a positive
    assert figures["lift_top_1"] == pytest.approx(1 / 0.3)
    assert figures["capture_top_10"] == pytest.approx(3 / 30)  # top 10: 1, 1, 0, 1, 0...
    assert figures["lift_top_10"] == pytest.approx(0.3 / 0.3)
    assert figures["ks"] == pytest.approx(
        np.max(np.abs(np.cumsum(y) / 30 - np.cumsum(1 - y) / 70)), abs=1e-12
    )


def test_profit_and_the_max_profit_threshold() -> None:
    from types import SimpleNamespace

    y = np.array([1, 0, 1, 0, 0, 0])
    s = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    costs = SimpleNamespace(tp=10.0, fp=-3.0, fn=0.0, tn=0.0)
    assert business.profit(y, s, 0.7, costs) == pytest.approx(2 * 10 - 3)
    assert business.max_profit_threshold(y, s, costs) == pytest.approx(0.7)  # reach both responders


def test_vectorized_bootstrap_metrics_equal_scikit_learn_on_weighted_rows() -> None:
    rng = np.random.default_rng(4)
    y = (rng.random(300) < 0.2).astype(float)
    s = np.round(np.clip(y * 0.3 + rng.random(300) * 0.7, 0, 1), 2)  # with ties
    w = rng.poisson(1.0, size=(1, 300)).astype(float)
    rows = np.repeat(np.arange(300), w[0].astype(int))
    got = bootstrap._metrics(w, y, s, 0.5)
    assert got["pr_auc"][0] == pytest.approx(m.average_precision_score(y[rows], s[rows]), abs=1e-12)
    assert got["roc_auc"][0] == pytest.approx(m.roc_auc_score(y[rows], s[rows]), abs=1e-12)
    assert got["mcc"][0] == pytest.approx(m.matthews_corrcoef(y[rows], s[rows] >= 0.5), abs=1e-12)
    assert got["f1"][0] == pytest.approx(m.f1_score(y[rows], s[rows] >= 0.5), abs=1e-12)


def test_bootstrap_intervals_cover_the_true_value_at_about_the_stated_rate() -> None:
    """100 test sets drawn from one population: the 95% interval of ROC-AUC holds the population's
    value in about 95 of them (88 to 100 allowed for the sampling noise of 100 trials)."""
    y_big, p_big = _population(200_000, seed=5, rate=0.2)
    truth = m.roc_auc_score(y_big, p_big)
    covered = 0
    for trial in range(100):
        y, p = _population(400, seed=100 + trial, rate=0.2)
        low, high = bootstrap.intervals(y, p, 0.5, seed=trial, resamples=400)["roc_auc"]
        covered += low <= truth <= high
    assert 88 <= covered <= 100, covered


def test_the_paired_verdict_says_yes_no_and_unclear() -> None:
    y, p = _population(3000, seed=6, rate=0.2)
    noise = np.random.default_rng(7).random(3000)
    assert bootstrap.paired_difference(y, p, noise, seed=0)["verdict"] == "yes"
    assert bootstrap.paired_difference(y, noise, p, seed=0)["verdict"] == "no"
    jitter = p + np.random.default_rng(8).normal(scale=1e-4, size=3000)
    assert bootstrap.paired_difference(y, p, jitter, seed=0)["verdict"] == "unclear"


@pytest.fixture(scope="module")
def calibrated_run(tiny: Tiny, tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    done = run_cli(
        "train", str(tiny.path), "--runs-dir", str(runs), "-q", "--set", "evaluate.calibration=sigmoid",
        "--set", "evaluate.costs={tp: 50, fp: -5}", "--set", "evaluate.bootstrap=200",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip().splitlines()[-1])


def test_a_binary_run_holds_calibration_intervals_verdict_profit_and_figures(calibrated_run: Path) -> None:
    metrics = json.loads((calibrated_run / "metrics.json").read_text())
    assert metrics["calibration"]["method"] == "sigmoid"
    for part in ("val", "test"):
        assert {"before", "after"} <= set(metrics["calibration"][part])
        assert {"lift_top_10", "capture_top_10", "ks"} <= set(metrics[part])
    low, high = metrics["intervals"]["test"]["pr_auc"]
    assert low <= metrics["test"]["pr_auc"] <= high
    assert metrics["vs_baseline"]["verdict"] in ("yes", "no", "unclear")
    assert metrics["vs_baseline"]["baseline"] == "logistic_regression"
    assert set(metrics["profit"]) == {"val", "test"}
    assert 0 < metrics["threshold_probability"] < 1
    for name in ("calibration.json", "gains_lift.png", "calibration.png", "profit_curve.png"):
        assert (calibrated_run / name).is_file(), name
    assert "beats baseline:" in (calibrated_run / "run.log").read_text()
    from rich.console import Console

    from seqexp.reporting.tables import metrics_table

    console = Console(width=200, record=True)
    console.print(metrics_table(metrics))
    shown = console.export_text()
    assert "95% interval" in shown and f"beats baseline: {metrics['vs_baseline']['verdict']}" in shown


def test_predict_gives_probabilities_and_risk_levels_that_agree_with_the_decision(
    tiny: Tiny, calibrated_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "scores.csv"
    done = run_cli("predict", str(calibrated_run), str(tiny.path), "-o", str(out))
    assert done.returncode == 0, done.stderr
    scores = pd.read_csv(out)
    assert list(scores.columns) == ["id", "score", "probability", "y_pred", "risk"]
    metrics = json.loads((calibrated_run / "metrics.json").read_text())
    state = json.loads((calibrated_run / "calibration.json").read_text())
    expected = calibration.Calibrator.from_json(state).apply(scores["score"].to_numpy())
    np.testing.assert_allclose(scores["probability"], expected, atol=1e-5)  # scores are written to 6 places
    high = scores[scores["risk"] == "high"]
    assert (high["y_pred"] == 1).all(), "a 'high' customer the decision leaves out"
    assert (high["probability"] >= min(metrics["threshold_probability"], 0.7) - 1e-6).all()
    assert "risk levels on calibrated probability" in done.stderr


def test_a_steep_sigmoid_calibrator_reaches_zero_without_an_overflow_warning() -> None:
    steep = calibration.Calibrator("sigmoid", {"a": 1000.0, "b": 0.0})  # exp(-z) overflows far below 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would fail here
        out = steep.apply(np.array([1e-6, 0.5, 0.999]))
    assert out[0] == 0.0 and out[1] == pytest.approx(0.5) and out[2] == 1.0
