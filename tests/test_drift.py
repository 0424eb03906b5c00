"""Drift said out loud: PSI on hand-made distributions, the warning rules, drift.json at training,
and evaluate / predict comparing new data with the run's saved reference."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqexp.pipeline import drift
from seqexp.pipeline.drift_check import (
    NO_REFERENCE,
    SCORED_TRAIN_ROWS,
    chance_psi,
    moved,
    scored_training_rows,
    summary_lines,
    warnings,
)
from tests.conftest import Tiny, run_cli

# --------------------------------------------------------------------------- PSI by hand


def test_psi_of_identical_shares_is_zero_and_a_shift_has_its_hand_computed_value() -> None:
    assert drift.psi([0.1] * 10, [0.1] * 10) == 0.0
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5)
    assert drift.psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.25 * np.log(2) + 0.25 * np.log(1.5))
    assert drift.psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.27465, abs=1e-5)
    # symmetric in the two distributions
    assert drift.psi([0.25, 0.75], [0.5, 0.5]) == pytest.approx(drift.psi([0.5, 0.5], [0.25, 0.75]))
    # an empty bin is floored at epsilon = 1e-4: (0.9 - 1) ln 0.9 + (0.1 - 1e-4) ln(0.1 / 1e-4)
    expected = -0.1 * np.log(0.9) + (0.1 - 1e-4) * np.log(0.1 / 1e-4)
    assert drift.psi([1.0, 0.0], [0.9, 0.1]) == pytest.approx(expected)


def test_decile_bins_of_the_reference_and_a_shift_by_one_decile() -> None:
    values = np.arange(1000, dtype=float)
    edges = drift.quantile_edges(values)
    assert len(edges) == 9 and edges == sorted(edges)
    reference = drift.shares(drift.numeric_counts(values, edges))
    assert reference[:10] == pytest.approx([0.1] * 10) and reference[10] == 0.0  # the last bin: missing
    assert drift.psi(reference, drift.shares(drift.numeric_counts(values, edges))) == 0.0
    # 100 ... 1099: the first decile empties (floored at 1e-4), the top bin holds 0.2, the rest 0.1
    shifted = drift.shares(drift.numeric_counts(values + 100, edges))
    assert shifted[0] == 0.0 and shifted[9] == pytest.approx(0.2)
    by_hand = (0.1 - 1e-4) * np.log(0.1 / 1e-4) + 0.1 * np.log(2)
    assert drift.psi(reference, shifted) == pytest.approx(by_hand)


def test_ties_constant_columns_and_missing_values() -> None:
    mostly_zero = np.r_[np.zeros(750), np.arange(1, 251, dtype=float)]
    edges = drift.quantile_edges(mostly_zero)
    assert edges[0] == 0.0 and len(edges) == len(set(edges)) == 3  # ties merged: "0 or less" is one bin
    assert drift.shares(drift.numeric_counts(mostly_zero, edges))[0] == pytest.approx(0.75)
    constant = np.full(500, 3.0)
    assert drift.quantile_edges(constant) == [3.0]  # two bins: at or below 3, above 3
    ref = drift.shares(drift.numeric_counts(constant, [3.0]))
    assert drift.psi(ref, drift.shares(drift.numeric_counts(np.full(80, 3.0), [3.0]))) == 0.0
    assert (
        drift.psi(ref, drift.shares(drift.numeric_counts(np.r_[np.full(40, 3.0), np.full(40, 9.0)], [3.0])))
        > 1
    )
    # 10% missing where training had none: the missing bin (floored) carries most of the PSI
    values = np.arange(1000, dtype=float)
    edges = drift.quantile_edges(values)
    with_nan = np.r_[np.arange(0, 1000, 1000 / 900), np.full(100, np.nan)]
    by_hand = (0.1 - 1e-4) * np.log(0.1 / 1e-4) + 10 * (0.09 - 0.1) * np.log(0.09 / 0.1)
    got = drift.psi(
        drift.shares(drift.numeric_counts(values, edges)), drift.shares(drift.numeric_counts(with_nan, edges))
    )
    assert got == pytest.approx(by_hand, rel=1e-3)


def test_one_hot_blocks_are_one_variable_and_sequences_count_real_steps_only() -> None:
    rng = np.random.default_rng(0)
    n, steps = 400, 5
    level = rng.integers(0, 3, size=(n, steps))
    X = np.zeros((n, steps, 4), dtype=np.float32)
    X[..., 0] = rng.normal(size=(n, steps))
    X[np.arange(n)[:, None], np.arange(steps)[None, :], 1 + level] = 1.0
    mask = np.ones((n, steps), dtype=bool)
    mask[: n // 2, :2] = False  # half the customers have 3 real steps
    X[~mask] = 0.0  # padding: all zeros, which must not count as "no level"
    names = ["amount", "type=a", "type=b", "type=c"]
    ref = drift.reference(
        X, mask, names, [[1, 2, 3]], train_rates={"rows": n}, score=rng.random(n), score_rates={"rows": n},
        classes=["0", "1"], threshold=0.5,
    )  # fmt: skip
    by_name = {v["name"]: v for v in ref["features"]}
    assert set(by_name) == {"amount", "type", drift.STEPS}
    assert by_name["type"]["levels"] == ["a", "b", "c"] and by_name["type"]["shares"][-1] == 0.0
    assert ref["feature_rows"] == int(mask.sum())
    # the same real steps with other padding: no drift at all
    other = X.copy()
    other[~mask] = 7.0
    same = drift.compare(ref, other, mask, score=rng.random(n), part_rates={"rows": n})
    assert same["feature_psi"]["amount"] == 0.0 and same["feature_psi"]["type"] == 0.0
    # every real step of type c: the level block moves, the numeric feature does not
    moved_level = X.copy()
    moved_level[..., 1:] = 0.0
    moved_level[..., 3] = 1.0
    moved_level[~mask] = 0.0
    shifted = drift.compare(ref, moved_level, mask, score=rng.random(n), part_rates={"rows": n})
    assert shifted["feature_psi"]["type"] > 1 and shifted["feature_psi"]["amount"] == 0.0
    assert next(iter(shifted["feature_psi"])) == "type"  # largest first
    # longer histories than in training: only the history length moves
    longer = drift.compare(ref, X, np.ones_like(mask), score=rng.random(n), part_rates={"rows": n})
    assert longer["feature_psi"][drift.STEPS] > 1


# --------------------------------------------------------------------------- the rules


def test_a_rate_moves_when_it_changes_by_more_than_half() -> None:
    assert moved(0.518, 0.113)  # the user's case: 4.6 times the training rate
    assert moved(0.151, 0.1) and moved(0.04, 0.1)
    assert not moved(0.14, 0.1) and not moved(0.06, 0.1) and not moved(0.1, 0.1)
    assert moved(0.01, 0.0) and not moved(0.0, 0.0)
    assert not moved(None, 0.1) and not moved(0.2, None)  # unlabelled data: no base rate


def _ref(**rates) -> dict:
    return {
        "classes": ["0", "1"], "threshold": 0.42, "bins": 10, "feature_rows": 50_000,
        "train": {"rows": 50_000, "positive_rate": 0.113},
        "val": {"rows": 5_000, "predicted_positive_rate": 0.12},
        "score": {"rows": 5_000, "edges": list(np.linspace(0.1, 0.9, 9)), "shares": [0.1] * 10 + [0.0]},
        **rates,
    }  # fmt: skip


def _part(**changes) -> dict:
    part = {"rows": 5_000, "feature_rows": 5_000, "positive_rate": 0.12, "predicted_positive_rate": 0.13,
            "score_psi": 0.02, "feature_psi": {"amount": 0.05, "type": 0.01}}  # fmt: skip
    return {**part, **changes}


def test_training_rows_are_scored_on_a_seeded_sample_while_the_true_rate_counts_every_row() -> None:
    """Scoring every training row was the drift stage's largest cost; its scores only feed the train
    part's score PSI and predicted-positive rate, so a seeded sample of them is scored."""
    assert scored_training_rows(100, seed=1).tolist() == list(range(100))  # small: every row
    rows = scored_training_rows(30_000, seed=1)
    assert len(rows) == len(np.unique(rows)) == SCORED_TRAIN_ROWS and (np.diff(rows) > 0).all()
    assert (rows == scored_training_rows(30_000, seed=1)).all()  # the run's seed decides it
    assert not (rows == scored_training_rows(30_000, seed=2)).all()
    y = np.r_[np.ones(3_000, int), np.zeros(27_000, int)]
    train = drift.rates(y, (np.arange(len(rows)) % 4 == 0).astype(int), ["0", "1"])
    assert train["rows"] == 30_000 and train["scored_rows"] == SCORED_TRAIN_ROWS
    assert train["positive_rate"] == pytest.approx(0.1)  # every row's label, not the sample's
    assert train["predicted_positive_rate"] == pytest.approx(0.25)
    assert "scored_rows" not in drift.rates(y, y, ["0", "1"])  # a part scored in full


def test_each_warning_fires_when_it_should_and_not_otherwise() -> None:
    ref = _ref()
    assert warnings(ref, _part(), "on test") == []
    (line,) = warnings(ref, _part(positive_rate=0.518), "in the data")
    assert "positive rate moved by more than half: 0.518 in the data against 0.113" in line
    (line,) = warnings(ref, _part(predicted_positive_rate=0.987), "in the data")
    assert "98.7% predicted positive in the data against 12.0% on validation (threshold 0.420)" in line
    (line,) = warnings(ref, _part(score_psi=0.31), "on test")
    assert "score's distribution moved on test: PSI 0.31 > 0.25" in line and "1 time in 20" not in line
    assert warnings(ref, _part(score_psi=0.25), "on test") == []  # "exceeds": 0.25 itself is not
    (line,) = warnings(ref, _part(feature_psi={"amount": 0.6, "type": 0.3, "x": 0.1}), "on test")
    assert "2 feature(s) moved on test" in line and "amount 0.60, type 0.30" in line and "x" not in line
    everything = _part(positive_rate=0.3, predicted_positive_rate=0.5, score_psi=1.0, feature_psi={"a": 1.0})
    assert len(warnings(ref, everything, "on test")) == 4
    unlabelled = _part(positive_rate=None)
    assert warnings(ref, unlabelled, "in the data") == []


def test_multiclass_share_warnings() -> None:
    ref = {**_ref(), "classes": ["a", "b", "c"]}
    part = _part(
        positive_rate=None, predicted_positive_rate=None, class_shares_psi=0.3, predicted_shares_psi=0.1
    )
    (line,) = warnings(ref, part, "in the data")
    assert line.startswith("the class shares moved in the data: PSI 0.30")


def test_a_psi_warning_on_few_rows_says_chance_alone_gets_there() -> None:
    # chi-square(9) 95th percentile is 16.92: on 40 rows against 40 that is 0.85
    assert chance_psi(40, 40, 10) == pytest.approx(16.919 * (1 / 40 + 1 / 40), rel=1e-3)
    ref = _ref()
    ref["score"]["rows"] = 40
    (line,) = warnings(ref, _part(rows=40, score_psi=0.5), "on test")
    assert "on 40 rows against 40, PSI reaches 0.85 1 time in 20 with no drift at all" in line


def test_the_summary_shows_rates_per_part_and_the_largest_features() -> None:
    ref = _ref()
    features = {f"f{i}": 0.3 - i / 100 for i in range(12)}
    lines = summary_lines(ref, {"data": _part(feature_psi=features)})
    assert lines[0] == "drift: positive rate data 0.120 (train 0.113)"
    assert lines[1] == "drift: predicted positive at threshold 0.420: data 0.130 (validation 0.120)"
    assert lines[2] == "drift: score PSI against validation: data 0.020"
    assert "largest 10" in lines[3] and "f9 " in lines[3] and "f10" not in lines[3]
    unlabelled = summary_lines(ref, {"data": _part(positive_rate=None)})
    assert not any("positive rate" in line for line in unlabelled)


# --------------------------------------------------------------------------- a run, new data, old runs

ROWS = 2000


def _table(n: int, seed: int, *, positive_rate: float | None = None) -> pd.DataFrame:
    """Customers whose chance to respond grows with x; ``positive_rate`` picks rows to that rate."""
    rng = np.random.default_rng(seed)
    pool = n * 6 if positive_rate else n
    x = rng.normal(size=pool)
    y = (rng.random(pool) < 1 / (1 + np.exp(-(-2.6 + 1.5 * x)))).astype(int)
    frame = pd.DataFrame(
        {"x": x, "amount": rng.gamma(2.0, 50.0, pool), "region": rng.choice(list("abc"), pool), "y": y}
    )
    if positive_rate:
        k = int(round(n * positive_rate))
        frame = pd.concat([frame[frame.y == 1].head(k), frame[frame.y == 0].head(n - k)])
    return frame.reset_index(drop=True).assign(id=lambda f: np.arange(len(f)))


TABLE_CONFIG = """
name: drift_table
seed: 1
data: {name: table, path: train.csv, id: id, target: y, numeric: [x, amount], categorical: [region],
       cache: false}
balance: {name: none}
model: {name: logistic_regression}
evaluate: {threshold: max_f1, baseline: none, bootstrap: 0, calibration: none}
"""


@pytest.fixture(scope="module")
def table_run(tmp_path_factory) -> Path:
    """A logistic regression trained on a table with positive rate ~0.11 (in-process: ~2 s)."""
    from seqexp import components  # noqa: F401
    from seqexp.config.loading import load_config
    from seqexp.pipeline.train import train_experiment

    folder = tmp_path_factory.mktemp("drift")
    _table(ROWS, 0).to_csv(folder / "train.csv", index=False)
    (folder / "config.yaml").write_text(TABLE_CONFIG)
    return train_experiment(load_config(folder / "config.yaml"), runs_dir=folder / "runs").run_dir


def test_train_writes_drift_json_with_the_reference(table_run: Path) -> None:
    document = json.loads((table_run / "drift.json").read_text())
    ref, parts = document["reference"], document["parts"]
    counts = json.loads((table_run / "class_counts.json").read_text())
    assert set(parts) == {"train", "val", "test"}
    before = counts["train"]["before"]  # the training rows as they were, not balanced
    assert parts["train"]["rows"] == ref["train"]["rows"] == before["0"] + before["1"]
    assert ref["train"]["positive_rate"] == pytest.approx(before["1"] / (before["0"] + before["1"]))
    assert parts["test"]["positive_rate"] == pytest.approx(counts["test"]["1"] / parts["test"]["rows"])
    assert ref["train"]["positive_rate"] == pytest.approx(parts["train"]["positive_rate"])
    assert 0.07 < ref["train"]["positive_rate"] < 0.16
    assert ref["val"]["predicted_positive_rate"] == parts["val"]["predicted_positive_rate"]
    metrics = json.loads((table_run / "metrics.json").read_text())
    assert ref["threshold"] == metrics["threshold"]
    assert {v["name"] for v in ref["features"]} == {"x", "amount", "region"}
    for variable in [*ref["features"], ref["score"]]:
        assert sum(variable["shares"]) == pytest.approx(1.0)
        assert variable.get("edges", []) == sorted(variable.get("edges", []))
    assert ref["score"]["part"] == "val" and len(ref["score"]["edges"]) >= 5
    assert parts["train"]["feature_psi"]["x"] == 0.0  # train against itself
    assert parts["val"]["score_psi"] == 0.0  # the score's reference is validation
    assert 0 < parts["test"]["score_psi"] < 0.25 and max(parts["test"]["feature_psi"].values()) < 0.25
    assert document["warnings"] == []
    log = (table_run / "run.log").read_text()
    assert "drift: positive rate train " in log and "drift: feature PSI against train (test" in log


def test_the_saved_reference_reproduces_the_test_part_without_the_training_data(table_run: Path) -> None:
    from seqexp.pipeline.drift_check import against_run
    from seqexp.pipeline.prepare import load_dataset, make_split
    from seqexp.runfolder.reader import open_run

    run = open_run(table_run)
    data = load_dataset(run.cfg)
    test = data.subset(make_split(run.cfg, data).test)
    scores = run.estimator.predict(run.scaler.transform(test.X, test.mask))
    again = against_run(run, test, scores, "test")
    saved = json.loads((table_run / "drift.json").read_text())["parts"]["test"]
    part = again["parts"]["test"]
    assert again["measured"] and part.pop("feature_psi") == pytest.approx(saved.pop("feature_psi"))
    assert part == pytest.approx(saved)


def test_evaluate_on_data_with_a_shifted_base_rate_prints_the_warning(
    table_run: Path, tmp_path: Path
) -> None:
    shifted = tmp_path / "new.csv"
    _table(400, 5, positive_rate=0.5).to_csv(shifted, index=False)
    done = run_cli("evaluate", str(table_run), "--data", str(shifted), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert (
        "warning: drift: the positive rate moved by more than half: 0.500 in the data against" in done.stderr
    )
    assert "drift: positive rate data 0.500 (train" in done.stderr
    document = json.loads(done.stdout)  # stdout is the document alone
    assert document["drift"]["measured"] and document["drift"]["parts"]["data"]["positive_rate"] == 0.5
    assert any("positive rate moved" in line for line in document["drift"]["warnings"])
    folder = Path(document["folder"])
    assert json.loads((folder / "drift.json").read_text())["parts"]["data"]["rows"] == 400
    assert json.loads((folder / "evaluation.json").read_text())["drift_warnings"]


def test_evaluate_on_data_like_training_raises_no_drift_warning(table_run: Path, tmp_path: Path) -> None:
    from seqexp.commands.evaluate import evaluate_run

    same = tmp_path / "same.csv"
    _table(ROWS, 9).to_csv(same, index=False)
    result = evaluate_run(table_run, data=same)
    assert result.drift is not None and result.drift["measured"]
    assert result.drift["warnings"] == [], result.drift["warnings"]
    assert result.drift["parts"]["data"]["score_psi"] < 0.1


def test_predict_prints_the_predicted_positive_rate_and_the_score_psi(
    table_run: Path, tmp_path: Path
) -> None:
    new = tmp_path / "new.csv"
    frame = _table(400, 5, positive_rate=0.5)
    frame.assign(x=frame.x + 1.5).drop(columns="y").to_csv(new, index=False)  # no labels; x moved up
    scores = tmp_path / "scores.csv"
    done = run_cli("predict", str(table_run), str(new), "-o", str(scores))
    assert done.returncode == 0, done.stderr
    assert "drift: predicted positive at threshold " in done.stderr and " (validation " in done.stderr
    assert "drift: score PSI against validation: data " in done.stderr
    assert "drift: positive rate" not in done.stderr  # unlabelled: no base rate to show
    assert "warning: drift: the predicted-positive rate moved by more than half" in done.stderr
    assert "warning: drift: 1 feature(s) moved in the data: PSI > 0.25 against training: x " in done.stderr


def test_a_sequence_run_measures_drift_and_old_runs_say_it_cannot(tiny: Tiny, tmp_path: Path) -> None:
    from seqexp import components  # noqa: F401
    from seqexp.commands.evaluate import evaluate_run
    from seqexp.pipeline.train import train_experiment

    cfg = tiny.load(["model={name: logistic_regression}", "balance={name: none}", "evaluate.bootstrap=0",
                     "evaluate.baseline=none"])  # fmt: skip
    run = train_experiment(cfg, runs_dir=tmp_path / "runs").run_dir
    ref = json.loads((run / "drift.json").read_text())["reference"]
    assert {v["name"] for v in ref["features"]} >= {"type", "amount", drift.STEPS}
    old = Path(shutil.copytree(Path(__file__).parent / "fixtures" / "runs_v0_1", tmp_path / "old"))
    result = evaluate_run(old / "logistic")
    assert result.drift == {"measured": False, "parts": {}, "warnings": [], "lines": [NO_REFERENCE]}
    assert not (result.folder / "drift.json").exists()


def test_an_ensemble_keeps_its_members_feature_reference_and_its_own_score(
    table_run: Path, tmp_path: Path
) -> None:
    from seqexp import components  # noqa: F401
    from seqexp.commands.ensemble import build_ensemble
    from seqexp.commands.evaluate import evaluate_run
    from seqexp.config.loading import load_config
    from seqexp.pipeline.train import train_experiment

    cfg = load_config(table_run / "config.yaml", ["model.C=0.05"])
    other = train_experiment(cfg, runs_dir=tmp_path / "runs").run_dir
    ensemble = build_ensemble([table_run, other], method="mean", runs_dir=tmp_path / "runs").run_dir
    document = json.loads((ensemble / "drift.json").read_text())
    member = json.loads((table_run / "drift.json").read_text())
    assert document["reference"]["features"] == member["reference"]["features"]
    assert document["parts"]["test"]["feature_psi"] == member["parts"]["test"]["feature_psi"]
    assert document["parts"]["val"]["score_psi"] == 0.0 and set(document["parts"]) == {"val", "test"}
    metrics = json.loads((ensemble / "metrics.json").read_text())
    assert document["reference"]["threshold"] == metrics["threshold"]
    shifted = tmp_path / "new.csv"
    _table(400, 5, positive_rate=0.5).to_csv(shifted, index=False)
    result = evaluate_run(ensemble, data=shifted)
    assert result.drift is not None and result.drift["measured"]
    assert any("positive rate moved by more than half" in line for line in result.drift["warnings"])
