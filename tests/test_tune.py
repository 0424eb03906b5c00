"""`seqexp tune`: the tune section's checks, each keras-tuner tuner on a tiny space, resume after a
killed process, refusal of a changed search, and a chief with two workers on 127.0.0.1."""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from seqexp.config.loading import load_config, validate_config
from seqexp.errors import ConfigError, UserError
from seqexp.tuning import space as space_mod
from tests.conftest import CONFIGS, ROOT, run_cli

TINY_TUNE = """
name: tt
seed: 7
data: {name: synthetic_transactions, customers: 300, sequence_length: 5, positive_rate: 0.15}
balance: {name: smote, k_neighbors: 3}
model: {name: lstm, units: [4], dropout: 0.0, dense: []}
train: {epochs: 1, batch_size: 64, tensorboard: false, early_stopping: null}
evaluate: {threshold: max_f1, baseline: none}
tune:
  tuner: random
  objective: {metric: val_pr_auc}
  max_trials: 2
  top_k: 0
  space:
    model.dropout: {float: [0.0, 0.4], step: 0.1}
    train.learning_rate: {float: [0.001, 0.01], log: true}
    balance.name: {choice: [smote, class_weight]}
    balance.k_neighbors: {int: [2, 3]}
"""


def _tune_cfg(**tune: object) -> dict:
    raw = yaml.safe_load(TINY_TUNE)
    raw["tune"].update(tune)
    return raw


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


# --------------------------------------------------------------------------- the tune section


def test_a_space_key_that_is_not_a_config_path_is_named() -> None:
    raw = _tune_cfg(space={"model.unitz": {"int": [4, 8]}, "data.customers": {"int": [100, 200]}})
    with pytest.raises(ConfigError) as caught:
        validate_config(raw, source="t.yaml")
    message = str(caught.value)
    assert "t.yaml: tune.space.model.unitz: not a config path; did you mean 'model.units'?" in message
    assert "tune.space.data.customers: cannot be searched (the data is prepared once per search)" in message


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        ({"model.dropout": {"float": [0.0, 1.5]}}, "tune.space.model.dropout: value 1.5 is refused"),
        ({"model.dropout": {"float": [0.5, 0.1]}}, "tune.space.model.dropout: the range needs lo < hi"),
        ({"balance.name": {"choice": ["smote", "smot"]}}, "'smot' is not one of"),
        ({"train.learning_rate": {"float": [0.0, 0.1], "log": True}}, "log: true needs lo > 0"),
        ({"model.units": {"int": [4, 8], "choice": [1]}}, "give exactly one of"),
    ],
)
def test_bad_distributions_are_refused_with_the_key(space: dict, expected: str) -> None:
    with pytest.raises(ConfigError, match="tune.space") as caught:
        validate_config(_tune_cfg(space=space), source="t.yaml")
    assert expected in str(caught.value)


def test_objective_direction_must_fit_the_metric() -> None:
    with pytest.raises(ConfigError, match="val_loss is better when lower; use direction: min"):
        validate_config(_tune_cfg(objective={"metric": "val_loss", "direction": "max"}))
    assert validate_config(_tune_cfg(objective={"metric": "val_loss"})).tune.objective.best == "min"


def test_trial_values_go_into_a_copy_of_the_config_and_switch_components() -> None:
    cfg = validate_config(yaml.safe_load(TINY_TUNE))
    base = space_mod.base_raw(cfg)
    trial = space_mod.trial_config(base, {"balance.name": "class_weight", "model.units": [8, 4]}, "t")
    assert trial.balance.name == "class_weight" and trial.model.units == [8, 4]
    assert base["balance"] == {"name": "smote", "sampling_strategy": "auto", "k_neighbors": 3}  # untouched
    # k_neighbors only exists for smote: a conditional hyperparameter under balance.name.
    assert space_mod.conditions("balance.k_neighbors", cfg.tune.space, base) == ["smote"]


def test_list_choices_round_trip_through_keras_tuner() -> None:
    import keras_tuner as kt

    raw = _tune_cfg(space={"model.units": {"choice": [[8], [16, 8]]}, "balance.name": {"choice": ["smote"]}})
    cfg = validate_config(raw)
    hp = kt.HyperParameters()
    values = space_mod.declare(hp, cfg.tune.space, space_mod.base_raw(cfg))
    assert values["model.units"] == [8]
    assert hp.values["model.units"] == "[8]"  # keras-tuner holds scalars; seqexp decodes
    assert space_mod.values_from({"model.units": "[16, 8]"}, cfg.tune.space) == {"model.units": [16, 8]}


def test_train_configs_carry_no_tune_section() -> None:
    from seqexp.config.yaml_io import to_yaml

    assert "tune" not in yaml.safe_load(to_yaml(load_config(CONFIGS / "tiny.yaml")))
    shipped = load_config(CONFIGS / "tune_lstm.yaml")
    assert shipped.tune is not None and yaml.safe_load(to_yaml(shipped))["tune"]["space"]


# --------------------------------------------------------------------------- each tuner


@pytest.mark.slow
@pytest.mark.parametrize("tuner", ["random", "bayesian", "hyperband"])
def test_each_tuner_runs_a_tiny_search(tuner: str, tmp_path: Path) -> None:
    from seqexp.tuning.search import run_tune

    # Hyperband's plan for max_epochs=2, factor=2 is 5 trials; tune.max_trials=3 stops it after 3,
    # one of them a promoted trial (round 1).
    extra = {"max_epochs": 2, "factor": 2, "max_trials": 3} if tuner == "hyperband" else {}
    objective = {"hyperband": "val_mcc", "bayesian": "val_f1", "random": "val_pr_auc"}[tuner]
    raw = _tune_cfg(
        tuner=tuner, objective={"metric": objective}, top_k=1 if tuner == "random" else 0, **extra
    )
    result = run_tune(validate_config(raw), runs_dir=tmp_path)
    folder = result.folder
    assert folder.name.endswith("-tt-tune")
    rows = _read_csv(folder / "trials.csv")
    assert len(rows) == (3 if tuner == "hyperband" else 2) and {r["status"] for r in rows} == {"completed"}
    for row in rows:
        assert row["objective"] == row[objective]  # the objective is the best epoch's validation metric
        assert float(row["epochs"]) >= 1 and float(row["seconds"]) > 0
        assert {"val_loss", "val_pr_auc", "val_auc", "val_f1", "val_mcc", "balance.name"} <= set(row)
    if tuner == "hyperband":
        assert any(r["tuner/round"] == "1" for r in rows)  # successive halving continued a trial
    for name in ("best_config.yaml", "objective_by_trial.png", "hyperparameters_vs_objective.png"):
        assert (folder / name).is_file(), name
    assert (folder / "keras_tuner" / "oracle.json").is_file()
    best = load_config(folder / "best_config.yaml")  # a config `seqexp train` runs as it is
    assert best.tune is None and best.name == "tt-best"
    run = json.loads((folder / "run.json").read_text())
    assert run["status"] == "completed" and run["best"]["objective"] == objective
    top = sorted((folder / "top").glob("*")) if (folder / "top").exists() else []
    assert len(top) == (1 if tuner == "random" else 0)
    if top:  # an ordinary run folder: evaluate / predict / ensemble read it like any other
        assert json.loads((top[0] / "run.json").read_text())["status"] == "completed"
        assert (top[0] / "model.keras").is_file() and (top[0] / "metrics.json").is_file()


# --------------------------------------------------------------------------- resume


def _wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process ended (code {proc.returncode}) before {what}")
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_resume_after_a_killed_process_skips_finished_trials(write_config, tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    config = write_config(yaml.safe_dump(_tune_cfg(max_trials=3)))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "seqexp", "tune", str(config), "--runs-dir", str(runs_dir), "-q"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        folder = _wait_for(lambda: next(runs_dir.glob("*-tune"), None), 120, "the tune folder", proc)
        ran = folder / "trials_ran_here.csv"
        _wait_for(lambda: ran.exists() and len(_read_csv(ran)) >= 1, 300, "the first trial", proc)
        proc.send_signal(signal.SIGKILL)  # as hard as an interruption gets: no clean-up runs
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    finished_before = {r["trial_id"] for r in _read_csv(ran)}
    assert json.loads((folder / "run.json").read_text())["status"] == "running"
    assert not (folder / "trials.csv").exists()

    # A changed search space is refused, before any work, with the reason.
    changed = _tune_cfg(max_trials=3)
    changed["tune"]["space"]["model.dropout"] = {"float": [0.0, 0.2]}
    changed_path = write_config(yaml.safe_dump(changed), name="changed.yaml")
    refused = run_cli("tune", str(changed_path), "--resume", str(folder), "--runs-dir", str(runs_dir))
    assert refused.returncode == 2, refused.stderr
    assert "cannot resume with a different search: tune.space changed" in refused.stderr
    assert "Traceback" not in refused.stderr

    resumed = run_cli("tune", "--resume", str(folder), "-q", timeout=400)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip().splitlines()[-1] == str(folder)
    rows = _read_csv(folder / "trials.csv")
    assert [r["trial_id"] for r in rows] == ["0", "1", "2"] and {r["status"] for r in rows} == {"completed"}
    ran_ids = [r["trial_id"] for r in _read_csv(ran)]
    assert sorted(ran_ids) == ["0", "1", "2"]  # each trial ran to the end exactly once
    assert finished_before <= set(ran_ids[: len(finished_before)])  # finished trials were not rerun
    run = json.loads((folder / "run.json").read_text())
    assert run["status"] == "completed" and len(run["resumed"]) == 1
    assert list(runs_dir.iterdir()) == [folder]  # resuming does not start another folder


def test_a_new_search_never_reuses_a_folder_and_resume_needs_a_tune_folder(tmp_path: Path) -> None:
    from seqexp.runfolder import lifecycle
    from seqexp.tuning.search import run_tune

    plain = lifecycle.create_run_dir(tmp_path, "plain")
    lifecycle.RunRecord(plain, command="train")
    with pytest.raises(UserError, match="not a tune folder"):
        run_tune(None, runs_dir=tmp_path, resume=plain)
    with pytest.raises(UserError, match="has no 'tune' section"):
        run_tune(load_config(CONFIGS / "tiny.yaml"), runs_dir=tmp_path)


# --------------------------------------------------------------------------- distributed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_a_chief_and_two_workers_share_one_search(write_config, tmp_path: Path) -> None:
    config = write_config(yaml.safe_dump(_tune_cfg(max_trials=4, top_k=1)))
    port = str(_free_port())
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
    env["PYTHONUNBUFFERED"] = "1"
    base = [sys.executable, "-m", "seqexp", "tune", str(config), "-q", "--port", port]
    roles = {
        "chief": [*base, "--chief", "--chief-host", "127.0.0.1", "--runs-dir", str(tmp_path / "chief")],
        "w1": [*base, "--worker", "1", "--chief-host", "127.0.0.1", "--runs-dir", str(tmp_path / "w1")],
        "w2": [*base, "--worker", "2", "--chief-host", "127.0.0.1", "--runs-dir", str(tmp_path / "w2")],
    }
    procs = {
        name: subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for name, cmd in roles.items()
    }
    outputs = {}
    try:
        for name, proc in procs.items():  # every process must end by itself; a hang fails here
            outputs[name] = proc.communicate(timeout=540)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    for name, proc in procs.items():
        assert proc.returncode == 0, f"{name}: {outputs[name][1][-3000:]}"
    chief = Path(outputs["chief"][0].strip().splitlines()[-1])
    rows = _read_csv(chief / "trials.csv")
    assert [r["trial_id"] for r in rows] == ["0", "1", "2", "3"]
    assert {r["status"] for r in rows} == {"completed"}
    ran = {}
    for name in ("w1", "w2"):
        folder = Path(outputs[name][0].strip().splitlines()[-1])
        assert folder.name.endswith(f"-tune-worker-{name[1]}")
        ran[name] = [r["trial_id"] for r in _read_csv(folder / "trials_ran_here.csv")]
    assert ran["w1"] and ran["w2"], ran  # both workers ran some
    assert sorted(ran["w1"] + ran["w2"]) == ["0", "1", "2", "3"]  # every trial exactly once
    # The chief's folder holds what a single-machine search leaves.
    for name in ("best_config.yaml", "objective_by_trial.png", "hyperparameters_vs_objective.png"):
        assert (chief / name).is_file(), name
    assert len(list((chief / "top").iterdir())) == 1
    assert json.loads((chief / "run.json").read_text())["role"] == "chief"


def test_distributed_flags_are_checked() -> None:
    result = run_cli("tune", str(CONFIGS / "tune_lstm.yaml"), "--worker", "1")
    assert result.returncode == 2 and "--worker needs --chief-host HOST" in result.stderr
    result = run_cli("tune", str(CONFIGS / "tune_lstm.yaml"), "--chief", "--worker", "1")
    assert result.returncode == 2 and "exclude each other" in result.stderr


def test_trials_that_keep_failing_stop_the_search_with_the_reason(tmp_path: Path) -> None:
    from seqexp.tuning.search import run_tune

    raw = _tune_cfg(max_trials=4, space={"balance.k_neighbors": {"int": [200, 300]}})
    with pytest.raises(UserError, match="trials kept failing; the last error: .*k_neighbors"):
        run_tune(validate_config(raw), runs_dir=tmp_path)
    folder = next(tmp_path.glob("*-tune"))
    assert json.loads((folder / "run.json").read_text())["status"] == "failed"
    rows = _read_csv(folder / "trials.csv")
    assert len(rows) == 3 and {r["status"] for r in rows} == {"failed"}  # keras-tuner stops after 3
    assert all("smote needs more minority rows" in r["error"] for r in rows)


# --------------------------------------------------------------------------- models that are not Keras

LIGHTGBM_TUNE = """
name: tl
seed: 7
data: {name: synthetic_transactions, customers: 400, sequence_length: 5, positive_rate: 0.15}
balance: {name: class_weight}
model: {name: lightgbm, n_estimators: 200, early_stopping_rounds: 10}
evaluate: {threshold: max_f1, baseline: none}
tune:
  tuner: random
  objective: {metric: val_pr_auc}
  max_trials: 3
  top_k: 1
  space:
    model.num_leaves: {int: [4, 16]}
    model.learning_rate: {float: [0.02, 0.3], log: true}
"""


def test_a_random_search_over_lightgbm_fits_each_trial_like_train(tmp_path: Path) -> None:
    """Trials of a non-Keras model run through build_estimator(...).fit in the trial process; the
    objective is the validation score, and the best trial retrained as a run scores the same."""
    from seqexp.tuning.search import run_tune

    result = run_tune(validate_config(yaml.safe_load(LIGHTGBM_TUNE)), runs_dir=tmp_path)
    rows = _read_csv(result.folder / "trials.csv")
    assert len(rows) == 3 and {r["status"] for r in rows} == {"completed"}
    for row in rows:
        assert 4 <= int(row["model.num_leaves"]) <= 16 and 0.02 <= float(row["model.learning_rate"]) <= 0.3
        assert row["objective"] == row["val_pr_auc"]
        assert {"val_loss", "val_auc", "val_f1", "val_mcc"} <= set(row)
        assert 1 <= float(row["epochs"]) <= 200  # boosting rounds grown, early stopping included
    assert len({(r["model.num_leaves"], r["model.learning_rate"]) for r in rows}) == 3
    best = max(rows, key=lambda r: float(r["objective"]))
    assert load_config(result.folder / "best_config.yaml").model.name == "lightgbm"
    (top,) = sorted((result.folder / "top").iterdir())
    assert (top / "model_lightgbm.txt").is_file()
    retrained = json.loads((top / "metrics.json").read_text())["val"]["pr_auc"]
    assert f"{retrained:.6g}" == best["objective"]  # same rows, same seed: the same model


def test_scikit_learn_spaces_validate_and_hyperband_needs_keras_models() -> None:
    raw = yaml.safe_load(LIGHTGBM_TUNE)
    raw["tune"]["space"] = {"model.name": {"choice": ["lightgbm", "logistic_regression", "lstm"]},
                            "model.C": {"float": [0.01, 10.0], "log": True},
                            "model.num_leaves": {"int": [4, 16]}}  # fmt: skip
    cfg = validate_config(raw)  # one space over three families, each key under the models that have it
    base = space_mod.base_raw(cfg)
    assert space_mod.conditions("model.C", cfg.tune.space, base) == ["logistic_regression"]
    raw["tune"].update(tuner="hyperband", max_epochs=2)
    with pytest.raises(ConfigError, match="tune.tuner: hyperband .* lightgbm, logistic_regression are not"):
        validate_config(raw)
