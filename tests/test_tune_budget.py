"""What limits a search: hyperband's plan from its public parameters (against keras-tuner's own
Hyperband), ``tune.max_trials`` capping every tuner, ``tune.max_minutes``, what ``seqexp validate``
says, and the keras-tuner interfaces seqexp relies on (a clear failure if an upgrade moves them)."""

from __future__ import annotations

import collections
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from seqexp.config.loading import validate_config
from seqexp.errors import UserError
from seqexp.tuning import budget
from tests.conftest import CONFIGS, ROOT, run_cli
from tests.test_tune import LIGHTGBM_TUNE, TINY_TUNE, _read_csv


def _tune(text: str = TINY_TUNE, **changes: Any) -> Any:
    raw = yaml.safe_load(text)
    raw["tune"].update(changes)
    return validate_config(raw)


def _keras_tuner() -> Any:
    import keras_tuner as kt

    return kt


def _declares_x(hp: Any) -> None:
    hp.Float("x", 0.0, 1.0)  # a continuous space never runs out of new values


def _drive(oracle: Any, metric: str = "score") -> list[Any]:
    """Run an oracle to its end through its public methods, scoring each trial at random."""
    oracle.verbose = 0
    rng, trials = random.Random(0), []
    while True:
        trial = oracle.create_trial("tuner0")
        if trial.status == "STOPPED":
            return trials
        trials.append(trial)
        oracle.update_trial(trial.trial_id, {metric: rng.random()})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)


# --------------------------------------------------------------------------- hyperband's plan


def test_hyperband_plan_of_the_shipped_config_is_thirty_trials() -> None:
    plan = budget.hyperband_plan(15, 3)
    assert plan.trials == 30
    assert plan.brackets == (((12, 2), (4, 5), (2, 15)), ((6, 5), (2, 15)), ((4, 15),))
    assert plan.first_round == (12, 2)
    assert [plan.bracket_at(n) for n in (1, 18, 19, 26, 27, 30)] == [1, 1, 2, 2, 3, 3]
    assert budget.hyperband_plan(15, 3, iterations=2).trials == 60


@pytest.mark.parametrize(
    ("max_epochs", "factor", "iterations"), [(2, 2, 1), (15, 3, 1), (9, 3, 2), (2, 3, 1), (30, 4, 1)]
)
def test_hyperband_plan_is_what_keras_tuner_runs(
    max_epochs: int, factor: int, iterations: int, tmp_path: Path
) -> None:
    """keras-tuner's own Hyperband, driven to its end: the trials of each (bracket, round, epochs)
    are those the formula plans."""
    kt = _keras_tuner()
    tuner = kt.Hyperband(
        hypermodel=_declares_x, objective=kt.Objective("score", "max"), max_epochs=max_epochs,
        factor=factor, hyperband_iterations=iterations, directory=str(tmp_path), project_name="p", seed=1,
    )  # fmt: skip
    seen = collections.Counter(
        (t.hyperparameters.values["tuner/bracket"], t.hyperparameters.values["tuner/round"],
         t.hyperparameters.values["tuner/epochs"]) for t in _drive(tuner.oracle)
    )  # fmt: skip
    plan = budget.hyperband_plan(max_epochs, factor, iterations)
    top = len(plan.brackets) - 1
    planned = collections.Counter()
    for i, bracket in enumerate(plan.brackets):
        for r, (size, epochs) in enumerate(bracket):
            planned[(top - i, r, epochs)] += size * iterations
    assert seen == planned, (
        f"keras-tuner {kt.__version__}'s Hyperband(max_epochs={max_epochs}, factor={factor}, "
        f"hyperband_iterations={iterations}) ran {sum(seen.values())} trials {dict(seen)}; "
        f"seqexp.tuning.budget.hyperband_plan says {plan.trials} {dict(planned)}: update the formula"
    )


# --------------------------------------------------------------------------- every tuner's cap


@pytest.mark.parametrize(
    ("tuner", "max_trials", "ran"),
    [("random", 4, 4), ("random", None, 10), ("bayesian", 3, 3), ("hyperband", 3, 3), ("hyperband", None, 5)],
)
def test_max_trials_stops_every_tuner(tuner: str, max_trials: int | None, ran: int, tmp_path: Path) -> None:
    """The tuner seqexp builds (hyperband: max_epochs=2, factor=2 plans 5 trials) hands out exactly
    its budget; ``trial_cap`` says so before the search."""
    from seqexp.tuning.search import build_tuner

    cfg = _tune(tuner=tuner, max_trials=max_trials, max_epochs=2, factor=2)
    built = build_tuner(cfg, _declares_x, tmp_path, resume=False)
    assert len(_drive(built.oracle, "val_pr_auc")) == ran == budget.trial_cap(cfg.tune)


def test_the_time_budget_stops_handing_out_trials(tmp_path: Path) -> None:
    kt = _keras_tuner()
    tuner = kt.RandomSearch(
        hypermodel=_declares_x, objective=kt.Objective("score", "max"), max_trials=50,
        directory=str(tmp_path), project_name="p", seed=1,
    )  # fmt: skip
    now = [0.0]
    clock = budget.TimeBudget(1.0, clock=lambda: now[0])
    clock.install(tuner.oracle)
    oracle, score = tuner.oracle, iter(range(100))

    def one() -> str:
        """Ask for a trial and finish it; its status when it was handed out."""
        trial = oracle.create_trial("tuner0")
        handed = str(trial.status)
        if handed != "STOPPED":
            oracle.update_trial(trial.trial_id, {"score": float(next(score))})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
        return handed

    oracle.verbose = 0
    assert [one() for _ in range(3)] == ["RUNNING"] * 3
    now[0] = 59.0
    assert one() == "RUNNING" and clock.stopped_after is None
    now[0] = 60.0  # one minute: the trial asked for now is not started
    assert one() == "STOPPED" and clock.stopped_after == 4 and len(oracle.trials) == 4


def test_a_search_stops_at_its_time_budget_and_says_so(tmp_path: Path) -> None:
    from seqexp.tuning.search import run_tune

    cfg = _tune(LIGHTGBM_TUNE, max_trials=5, max_minutes=0.0001, top_k=0)
    folder = run_tune(cfg, runs_dir=tmp_path).folder
    assert len(_read_csv(folder / "trials.csv")) == 1  # the first trial ran past the budget: no other
    log = (folder / "run.log").read_text()
    assert "budget: tune.max_minutes=0.0001 reached; the search stopped after 1 trials" in log
    assert json.loads((folder / "run.json").read_text())["status"] == "completed"


# --------------------------------------------------------------------------- what validate says


def test_validate_explains_what_limits_hyperband_and_names_contradictions() -> None:
    result = run_cli("validate", str(CONFIGS / "tune_lstm.yaml"), "--set", "tune.max_trials=2")
    assert result.returncode == 0, result.stderr
    assert (
        "tune: hyperband: max_epochs=15 factor=3 hyperband_iterations=1 plans 30 trials (brackets of "
        "12->4->2, 6->2 and 4 trials, 2 to 15 epochs each); tune.max_trials=2 stops it after 2"
    ) in result.stdout
    assert "tune.max_trials=2 stops hyperband before it promotes any trial" in result.stderr
    assert "raise tune.max_trials to at least 13 (the whole plan: 30)" in result.stderr
    assert "tune.top_k=3 is more than the 2 trials the search can run" in result.stderr
    assert result.stdout.strip().splitlines()[-1].endswith("ok (lstm on synthetic_transactions, "
                                                           "balance smote, seed 42)")  # fmt: skip


def test_budget_lines_for_each_kind_of_search() -> None:
    assert (
        budget.describe(_tune(max_trials=None).tune)
        == "random: 10 trials (tune.max_trials: null, the default)"
    )
    assert budget.describe(_tune(LIGHTGBM_TUNE, max_minutes=30).tune) == (
        "random: 3 trials (tune.max_trials=3); tune.max_minutes=30 starts no trial after 30 min"
    )
    whole = budget.describe(_tune(tuner="hyperband", max_trials=None, max_epochs=2, factor=2).tune)
    assert whole.endswith("plans 5 trials (brackets of 2->1 and 2 trials, 1 to 2 epochs each); "
                          "tune.max_trials: null runs the whole plan")  # fmt: skip
    more = _tune(tuner="hyperband", max_trials=50, max_epochs=2, factor=2).tune
    assert budget.describe(more).endswith("tune.max_trials=50 does not limit it")
    assert budget.warnings_for(more) == [
        "tune.max_trials=50 is more than hyperband plans (5 trials for max_epochs=2, factor=2, "
        "hyperband_iterations=1): it ends after 5; raise tune.hyperband_iterations to run more"
    ]
    (flat,) = budget.warnings_for(_tune(tuner="hyperband", max_trials=None, max_epochs=2, factor=3).tune)
    assert flat.startswith("tune.max_epochs=2 is below tune.factor=3: hyperband has one bracket of 2")
    assert budget.warnings_for(_tune(max_trials=4, top_k=2).tune) == []


def test_validate_of_a_tune_config_imports_neither_tensorflow_nor_keras_tuner() -> None:
    code = (
        "import sys; from pathlib import Path; from seqexp.commands.validate import run; "
        f"run(Path({str(CONFIGS / 'tune_lstm.yaml')!r}), ['tune.max_trials=2']); "
        "heavy = [m for m in ('tensorflow', 'keras', 'keras_tuner') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# --------------------------------------------------------------------------- resuming a finished search


def test_a_completed_search_resumes_only_with_room_in_its_budget(tmp_path: Path) -> None:
    from seqexp.tuning.search import _refuse_a_spent_budget

    with pytest.raises(UserError, match=r"completed its 2 trials; .* --set tune.max_trials=12"):
        _refuse_a_spent_budget(tmp_path, _tune(max_trials=2), 2)
    _refuse_a_spent_budget(tmp_path, _tune(max_trials=3), 2)  # room for one more: no error
    whole = _tune(tuner="hyperband", max_trials=None, max_epochs=2, factor=2)
    with pytest.raises(UserError, match=r"completed hyperband's whole plan \(5 trials"):
        _refuse_a_spent_budget(tmp_path, whole, 5)


# --------------------------------------------------------------------------- keras-tuner's interfaces


def test_the_keras_tuner_interfaces_seqexp_uses_are_there(tmp_path: Path) -> None:
    """The oracle's ``max_trials`` and ``create_trial`` (budgets), ``get_trial_dir`` (checkpoints) are
    public; two private names remain, each checked here so an upgrade that moves them fails with
    the version and the name instead of a search failing half-way."""
    kt = _keras_tuner()
    version = kt.__version__
    tuner = kt.RandomSearch(
        hypermodel=_declares_x, objective=kt.Objective("score", "max"), max_trials=3,
        directory=str(tmp_path), project_name="p",
    )  # fmt: skip
    assert tuner.oracle.max_trials == 3, f"keras-tuner {version}: Oracle.max_trials is gone"
    assert callable(tuner.oracle.create_trial), f"keras-tuner {version}: Oracle.create_trial is gone"
    from seqexp.tuning.trials import checkpoint_path

    fname = getattr(tuner, "_get_checkpoint_fname", None)
    assert fname is not None, (
        f"keras-tuner {version}: Tuner._get_checkpoint_fname is gone; check that seqexp's "
        "seqexp.tuning.trials.checkpoint_path still names the file Tuner.load_model reads"
    )
    assert checkpoint_path(tuner, "7") == fname("7"), (
        f"keras-tuner {version} keeps a trial's weights at {fname('7')}; seqexp writes "
        f"{checkpoint_path(tuner, '7')} (seqexp.tuning.trials.CHECKPOINT)"
    )
    try:
        from keras_tuner.src import protos
    except ImportError as exc:  # pragma: no cover - only after an upgrade
        pytest.fail(f"keras-tuner {version}: keras_tuner.src.protos (used by seqexp.tuning.roles "
                    f"to check gRPC before a distributed search) is gone: {exc}")  # fmt: skip
    assert callable(getattr(protos, "get_service_grpc", None)), (
        f"keras-tuner {version}: keras_tuner.src.protos.get_service_grpc (seqexp.tuning.roles) is gone"
    )
