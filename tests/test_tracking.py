"""MLflow tracking (the optional ``mlflow`` extra): runs land in the store, read back through MLflow's
own client; without the extra, asking for tracking is one clear error before any training."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import Tiny, require, run_cli

LOGISTIC = ["--set", "model={name: logistic_regression}", "--set", "evaluate.baseline=none"]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A client on the default store (``mlruns`` beside the runs folder), reading what train wrote."""
    import importlib.util

    require("mlflow", importlib.util.find_spec("mlflow") is not None, "pip install -e '.[mlflow]'")
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # for this reading client; train sets its own
    return MlflowClient(tracking_uri=(tmp_path / "mlruns").as_uri())


def runs_of(client) -> list:
    experiment = client.get_experiment_by_name("seqexp")
    assert experiment is not None, "no 'seqexp' experiment in the store"
    return client.search_runs([experiment.experiment_id])


def test_a_trained_run_is_in_mlflow_with_metrics_params_tags_and_artifacts(
    tiny: Tiny, store, tmp_path: Path
) -> None:
    runs_dir = tmp_path / "runs"
    result = run_cli("train", str(tiny.path), "--runs-dir", str(runs_dir), "--mlflow", "-q")
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    record = json.loads((run_dir / "run.json").read_text())

    (run,) = runs_of(store)
    assert run.info.status == "FINISHED" and run.info.run_name == run_dir.name
    logged = run.data.metrics
    assert logged["test_pr_auc"] == pytest.approx(metrics["test"]["pr_auc"])
    assert logged["val_f1"] == pytest.approx(metrics["val"]["f1"])
    assert logged["threshold"] == pytest.approx(metrics["threshold"])
    assert logged["baseline_test_pr_auc"] == pytest.approx(metrics["baseline"]["test"]["pr_auc"])
    curve = store.get_metric_history(run.info.run_id, "epoch_val_loss")
    assert [m.step for m in curve] == [1, 2]  # tiny trains two epochs
    params = run.data.params
    assert params["model.name"] == "lstm" and params["model.units"] == "[8]"
    assert params["train.epochs"] == "2" and params["tracking"] == "mlflow"  # the flag is recorded
    tags = run.data.tags
    assert tags["status"] == "completed" and tags["run_folder"] == str(run_dir.resolve())
    assert tags["data_fingerprint"] == record["data_fingerprint"]
    assert tags["split_fingerprint"] == record["split_fingerprint"]
    artifacts = {a.path for a in store.list_artifacts(run.info.run_id)}
    assert {"metrics.json", "run.json", "config.yaml", "predictions.csv", "model.keras"} <= artifacts


def test_groups_nest_their_children_and_failed_runs_are_logged_failed(
    tiny: Tiny, store, tmp_path: Path
) -> None:
    runs_dir = tmp_path / "runs"
    group = run_cli(
        "train", str(tiny.path), "--runs-dir", str(runs_dir), "--seeds", "2", "--mlflow", "-q", *LOGISTIC
    )
    assert group.returncode == 0, group.stderr
    parent_dir = Path(group.stdout.strip().splitlines()[-1])
    # A config asking for tracking itself, and a run that fails on its data.
    failed = run_cli("train", str(tiny.path), "--runs-dir", str(runs_dir), "-q", "--set", "tracking=mlflow",
                     "--set", "balance.k_neighbors=500")  # fmt: skip
    assert failed.returncode == 2 and "Traceback" not in failed.stderr

    found = {r.info.run_name: r for r in runs_of(store)}
    parent = found[parent_dir.name]
    summary = json.loads((parent_dir / "metrics.json").read_text())
    assert parent.data.metrics["mean_test_pr_auc"] == pytest.approx(summary["mean"]["test"]["pr_auc"])
    assert "std_test_pr_auc" in parent.data.metrics and parent.data.tags["seqexp.kind"] == "repeats"
    children = [r for r in found.values() if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted(r.info.run_name for r in children) == sorted(
        json.loads((parent_dir / "run.json").read_text())["children"]
    )
    assert all("test_pr_auc" in r.data.metrics for r in children)
    parent_files = {a.path for a in store.list_artifacts(parent.info.run_id)}
    assert "seeds.csv" in parent_files and not parent_files & {r.info.run_name for r in children}

    (bad,) = [r for r in found.values() if r.data.tags["status"] == "failed"]
    assert bad.info.status == "FAILED" and "k_neighbors" in bad.data.tags["error"]
    assert "test_pr_auc" not in bad.data.metrics


def test_tracking_without_the_extra_is_one_clear_error_before_training(
    tiny: Tiny, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from seqexp import cli

    monkeypatch.setitem(sys.modules, "mlflow", None)  # `import mlflow` now raises ImportError
    runs_dir = tmp_path / "runs"
    monkeypatch.setattr(
        sys, "argv", ["seqexp", "train", str(tiny.path), "--runs-dir", str(runs_dir), "--mlflow"]
    )
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == 2
    message = capsys.readouterr().err
    assert "MLflow is not installed" in message and "pip install 'seqexp[mlflow]'" in message
    assert "Traceback" not in message
    assert not runs_dir.exists()  # refused before any run folder or training


def test_a_bad_tracking_value_names_the_key() -> None:
    from seqexp.config.loading import validate_config
    from seqexp.errors import ConfigError

    with pytest.raises(ConfigError, match=r"tracking: .*'none' or 'mlflow'"):
        validate_config({"tracking": "wandb"})
