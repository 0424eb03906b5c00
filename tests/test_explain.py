"""``seqexp explain`` and ``predict --explain``: permutation importance, exact contributions for
LightGBM and logistic regression, integrated gradients for Keras, readable reasons; and the known
signal of the synthetic data (rising deposits shortly before buying) found again by the reasons."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqexp.explain.layout import Layout, describe_ages
from tests.conftest import Tiny, run_cli

# The tiny config, long enough (10 steps) to tell recent events from old ones, trained long enough
# to learn the signal (about 20 s).
SIGNAL = ["--set", "data.customers=1500", "--set", "data.sequence_length=10", "--set", "train.epochs=10",
          "--set", "model.units=[16]", "--set", "balance={name: class_weight}"]  # fmt: skip
NEW_CUSTOMERS = "data: {name: synthetic_transactions, customers: 250, sequence_length: 10, seed: 5}\n"


@pytest.fixture(scope="module")
def signal_run(tiny: Tiny, tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    result = run_cli("train", str(tiny.path), "--runs-dir", str(runs), "--quiet", *SIGNAL)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def explained(signal_run: Path) -> Path:
    result = run_cli("explain", str(signal_run), "--top", "3")
    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert folder.parent == signal_run / "explanations" and "importance on validation" in result.stderr
    return folder


@pytest.mark.slow
def test_explain_writes_importance_figures_and_reasons(explained: Path) -> None:
    names = {p.name for p in explained.iterdir()}
    assert names == {"importance.csv", "importance_by_feature.png", "importance_by_step.png",
                     "reasons.csv", "explanation.json"}  # fmt: skip
    record = json.loads((explained / "explanation.json").read_text())
    assert record["part"] == "test" and record["top"] == 3 and record["model"] == "keras"
    assert record["completeness_gap_max"] < 0.1  # integrated gradients add up to the log-odds
    importance = pd.read_csv(explained / "importance.csv")
    assert set(importance["kind"]) == {"feature", "step"}
    features = set(importance.loc[importance.kind == "feature", "name"])
    assert features == {
        "amount",
        "log1p_days_since_previous",
        "log1p_days_before_reference",
        "type",
    }  # one-hot: one
    assert sorted(importance.loc[importance.kind == "step", "age"]) == list(range(1, 11))
    reasons = pd.read_csv(explained / "reasons.csv", keep_default_na=False)
    assert len(reasons) == 3 * reasons["id"].nunique() == 3 * record["rows"]
    assert set(reasons["rank"]) == {1, 2, 3}
    assert reasons["reason"].str.endswith(("raises the score", "lowers the score")).all()
    assert ((reasons["contribution"] > 0) == reasons["reason"].str.endswith("raises the score")).all()


@pytest.mark.slow
def test_true_positives_are_explained_by_the_recent_deposits(signal_run: Path, explained: Path) -> None:
    """The synthetic buyers top up savings three times, rising, within their last 5 events: the top
    3 reasons of the customers the model rightly flags name the deposits and those recent events."""
    threshold = json.loads((signal_run / "metrics.json").read_text())["threshold"]
    reasons = pd.read_csv(explained / "reasons.csv", keep_default_na=False, dtype={"ages": str})
    tp = reasons[(reasons.y_true == 1) & (reasons.score >= threshold)]
    assert tp["id"].nunique() >= 8

    def names_recent_deposits(rows: pd.DataFrame) -> bool:
        for row in rows.itertuples():
            ages = [int(a) for a in row.ages.split()]
            about_deposits = row.level == "deposit" or (
                row.feature == "amount" and "deposit" in row.reason  # log1p of the amount
            )
            if about_deposits and ages and max(ages) <= 5 and row.contribution > 0:
                return True
        return False

    share = tp.groupby("id")[list(tp.columns)].apply(names_recent_deposits).mean()
    assert share >= 0.75, share
    importance = pd.read_csv(explained / "importance.csv")
    features = importance[importance.kind == "feature"].sort_values("pr_auc_drop", ascending=False)
    assert "type" in list(features["name"][:2])  # which events (deposits) matters most
    steps = importance[importance.kind == "step"].set_index("age")["pr_auc_drop"]
    assert steps.loc[1:5].sum() > 3 * max(steps.loc[6:10].sum(), 0.01)  # the recent events matter


@pytest.mark.slow
def test_predict_explain_adds_reason_columns(signal_run: Path, write_config, tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    result = run_cli(
        "predict", str(signal_run), str(write_config(NEW_CUSTOMERS)), "-o", str(out), "--explain", "2"
    )
    assert result.returncode == 0, result.stderr
    scores = pd.read_csv(out, keep_default_na=False)
    assert list(scores.columns) == ["id", "score", "probability", "y_pred", "risk", "reason_1", "reason_2"]
    assert len(scores) == 250 and (scores["reason_1"] != "").all()
    assert scores["reason_2"].str.contains(": (?:raises|lowers) the score").all()
    assert not list(tmp_path.glob(".*tmp*"))


def _refused(run: Path, tmp_path: Path, estimator: str) -> Path:
    """A copy of ``run`` whose run.json names another model kind (refused before any model loads)."""
    copy = tmp_path / estimator
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("explanations", "*.keras"))
    record = json.loads((copy / "run.json").read_text())
    (copy / "run.json").write_text(json.dumps({**record, "estimator": estimator}))
    return copy


@pytest.mark.slow
def test_a_run_that_cannot_be_explained_is_one_line_and_exit_2(signal_run: Path, tmp_path: Path) -> None:
    run = _refused(signal_run, tmp_path, "gradient_boosting")
    for args in (["explain", str(run)], ["predict", str(run), str(Tiny.path), "-o", str(tmp_path / "s.csv"),
                                         "--explain", "2"]):  # fmt: skip
        result = run_cli(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert "cannot be explained" in line and "lightgbm" in line
    assert not (tmp_path / "s.csv").exists()  # refused before scoring
    assert not (run / "explanations").exists()


# --------------------------------------------------------------------------- in-process, seconds


def _sequences(
    n: int = 600, steps: int = 5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Layout]:
    """Scaled-looking sequences: 2 numeric features and a 3-level one-hot block, pre-padded; the
    label depends on feature 0 at the latest step and on level 'b' anywhere."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, steps + 1, n)
    mask = np.arange(steps)[None, :] >= steps - lengths[:, None]
    X = np.zeros((n, steps, 5), np.float32)
    X[..., :2] = rng.normal(size=(n, steps, 2))
    X[..., 2:] = np.eye(3, dtype=np.float32)[rng.integers(0, 3, (n, steps))]
    X[~mask] = 0.0
    logit = 2 * X[:, -1, 0] + 1.5 * X[..., 3].sum(axis=1) - 2
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    layout = Layout.build(
        ["x", "noise", "kind=a", "kind=b", "kind=c"], [False, False, True, True, True], steps
    )
    return X, y, mask, layout


def test_layout_groups_one_hot_blocks_and_names_ages() -> None:
    layout = Layout.build(["amount", "type=a", "type=b", "flag", "region=n"], [False, True, True, True, True])
    assert [(u.name, u.columns, u.levels) for u in layout.units] == [
        ("amount", (0,), None), ("type", (1, 2), ("a", "b")), ("flag", (3,), None), ("region", (4,), ("n",)),
    ]  # fmt: skip
    assert describe_ages([1]) == "the latest event"
    assert describe_ages([3, 1, 2]) == "events 1-3 before the cutoff"
    assert describe_ages([1, 4, 5]) == "events 1, 4-5 before the cutoff"
    assert describe_ages([]) == "over the history"


def test_lightgbm_contributions_sum_to_the_raw_score_exactly() -> None:
    from seqexp.config.sections import TrainConfig
    from seqexp.explain.contributions import attributor
    from seqexp.explain.reasons import split_into_candidates
    from seqexp.models.base import FitData, InputSpec
    from seqexp.models.lgbm import LightGBMConfig, build_lightgbm

    X, y, mask, layout = _sequences()
    cfg = LightGBMConfig(n_estimators=60, early_stopping_rounds=None, last_steps=2)
    estimator = build_lightgbm(cfg, TrainConfig(), InputSpec(shape=X.shape[1:], masked=True), seed=1)
    estimator.fit(FitData(X, y), FitData(X, y), train_cfg=TrainConfig(), callbacks=[])
    attr = attributor(estimator, layout)(X)
    raw = estimator.booster.predict(estimator.features(X), raw_score=True)
    np.testing.assert_allclose(attr.output, raw, rtol=0, atol=1e-12)
    np.testing.assert_allclose(attr.bias + attr.total(), raw, rtol=0, atol=1e-9)
    np.testing.assert_allclose(1 / (1 + np.exp(-raw)), estimator.predict(X), atol=1e-9)
    parts = split_into_candidates(attr, layout, X, mask)  # the reasons hold every contribution
    np.testing.assert_allclose(parts.totals.sum(axis=1), attr.total(), atol=1e-9)


def test_logistic_coefficient_times_value_sums_to_the_logit() -> None:
    from seqexp.config.sections import TrainConfig
    from seqexp.explain.contributions import attributor
    from seqexp.explain.reasons import split_into_candidates, top_reasons
    from seqexp.models.base import FitData, InputSpec
    from seqexp.models.baselines import LogisticRegressionConfig, build_logistic_regression

    X, y, mask, layout = _sequences()
    spec = InputSpec(shape=X.shape[1:], masked=True)
    estimator = build_logistic_regression(LogisticRegressionConfig(last_steps=2), TrainConfig(), spec, seed=1)
    estimator.fit(FitData(X, y), FitData(X, y), train_cfg=TrainConfig(), callbacks=[])
    attr = attributor(estimator, layout)(X)
    p = estimator.predict(X)
    np.testing.assert_allclose(attr.bias + attr.total(), np.log(p / (1 - p)), atol=1e-9)
    parts = split_into_candidates(attr, layout, X, mask)
    np.testing.assert_allclose(parts.totals.sum(axis=1), attr.total(), atol=1e-9)
    reasons = top_reasons(attr, layout, X, mask, top=2)
    assert all(len(r) == 2 and abs(r[0].contribution) >= abs(r[1].contribution) for r in reasons)
    named = [r.feature for row in reasons for r in row]
    assert named.count("x") + named.count("kind") > 0.8 * len(named)  # the signal, not the noise


def test_logistic_reasons_on_a_table_show_the_value_and_the_level() -> None:
    from seqexp.config.sections import TrainConfig
    from seqexp.explain.contributions import attributor
    from seqexp.explain.reasons import top_reasons
    from seqexp.models.base import FitData, InputSpec
    from seqexp.models.baselines import LogisticRegressionConfig, build_logistic_regression

    rng = np.random.default_rng(3)
    X = np.column_stack([rng.normal(size=400), np.eye(2)[rng.integers(0, 2, 400)]]).astype(np.float32)
    y = (X[:, 0] + 2 * X[:, 1] + rng.normal(size=400) > 1).astype(int)
    layout = Layout.build(["age", "job=a", "job=b"], [False, True, True])
    estimator = build_logistic_regression(
        LogisticRegressionConfig(), TrainConfig(), InputSpec(shape=(3,)), seed=1
    )
    estimator.fit(FitData(X, y), FitData(X, y), train_cfg=TrainConfig(), callbacks=[])
    raw = X.copy()
    raw[:, 0] = 40 + 10 * X[:, 0]  # what the customer's file said, before scaling
    reasons = top_reasons(attributor(estimator, layout)(X), layout, raw, None, top=2)
    texts = {r.text.split(":")[0] for r in reasons[0]}
    assert texts == {f"age = {raw[0, 0]:.4g}", f"job={'a' if X[0, 1] else 'b'}"}


def test_permutation_importance_of_noise_is_about_zero() -> None:
    from seqexp.explain.importance import permutation_importance

    X, y, mask, layout = _sequences(n=3000, seed=2)
    true_logit = lambda A: 2 * A[:, -1, 0] + 1.5 * A[..., 3].sum(axis=1)  # noqa: E731  (reads no noise)
    base, rows = permutation_importance(true_logit, X, y, layout, mask=mask, repeats=3, seed=0)
    by = {(r.kind, r.name): r for r in rows}
    assert base > 0.5
    assert abs(by["feature", "noise"].drop) < 1e-12  # never read: exactly 0
    assert by["feature", "x"].drop > 0.05 and by["feature", "kind"].drop > 0.05
    steps = {r.age: r.drop for r in rows if r.kind == "step"}
    assert steps[1] > 0.05 and steps[1] == max(steps.values())  # x counts at the latest step only
    assert all(r.rows <= len(X) for r in rows)

    # A scorer that does read the noise through a model fitted on it: its importance stays small.
    from seqexp.config.sections import TrainConfig
    from seqexp.models.base import FitData, InputSpec
    from seqexp.models.baselines import LogisticRegressionConfig, build_logistic_regression

    spec = InputSpec(shape=X.shape[1:], masked=True)
    model = build_logistic_regression(LogisticRegressionConfig(last_steps=1), TrainConfig(), spec, seed=0)
    model.fit(FitData(X, y), FitData(X, y), train_cfg=TrainConfig(), callbacks=[])
    _, rows = permutation_importance(model.predict, X, y, layout, mask=mask, repeats=3, seed=0)
    by = {(r.kind, r.name): r for r in rows}
    assert abs(by["feature", "noise"].drop) < 0.01 < by["feature", "x"].drop


def test_which_runs_can_be_explained() -> None:
    from types import SimpleNamespace

    from seqexp.errors import UserError
    from seqexp.explain.contributions import require_explainable

    def run(estimator: str, task: str = "binary") -> SimpleNamespace:
        return SimpleNamespace(folder="runs/x", record={"estimator": estimator}, metrics={"task": task})

    for kind in ("keras", "lightgbm", "logistic_regression"):
        assert require_explainable(run(kind)) == kind
    for kind, says in (("gradient_boosting", "lightgbm"), ("lstm_autoencoder", "reconstruction error"),
                       ("ensemble", "one of its members"), ("someday", "explain supports")):  # fmt: skip
        with pytest.raises(UserError, match=says):
            require_explainable(run(kind))
    with pytest.raises(UserError, match="binary targets"):
        require_explainable(run("keras", "multiclass"))
