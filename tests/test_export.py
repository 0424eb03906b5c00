"""``seqexp export --format mlflow``: an MLflow pyfunc model holding the run's encoding, scaling, model,
calibration and threshold. Loaded with MLflow's own loader (here and in a fresh process that finds
seqexp only in the model folder), it gives the same scores as ``seqexp predict``."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, require, run_cli
from tests.test_as_of import CONFIG as LOG_CONFIG
from tests.test_as_of import _log
from tests.test_serve import CONFIG as TABLE_CONFIG
from tests.test_serve import customers


@pytest.fixture(scope="module", autouse=True)
def _mlflow() -> None:
    require("MLflow", importlib.util.find_spec("mlflow") is not None, "pip install -e '.[mlflow]'")


def _train(folder: Path, config: str) -> Path:
    from seqexp import components  # noqa: F401
    from seqexp.config.loading import load_config
    from seqexp.pipeline.train import train_experiment

    (folder / "config.yaml").write_text(config)
    return train_experiment(load_config(folder / "config.yaml"), runs_dir=folder / "runs").run_dir


@pytest.fixture(scope="module")
def table_export(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("export_table")
    customers(1200, 0).to_csv(folder / "customers.csv", index=False)
    run = _train(folder, TABLE_CONFIG)
    done = run_cli("export", str(run), "--format", "mlflow", "-o", str(folder / "model"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(folder / "model")
    return run, folder / "model"


def _predicted(run: Path, data: Path, out: Path, *extra: str) -> pd.DataFrame:
    done = run_cli("predict", str(run), str(data), "-o", str(out), "-q", *extra)
    assert done.returncode == 0, done.stderr
    return pd.read_csv(out)


def test_mlflow_loads_it_and_scores_as_predict(table_export: tuple[Path, Path], tmp_path: Path) -> None:
    import mlflow.pyfunc

    run, model = table_export
    new = customers(50, 9).drop(columns="y")
    new.loc[5, "region"] = "atlantis"
    new.to_csv(tmp_path / "new.csv", index=False)
    expected = _predicted(run, tmp_path / "new.csv", tmp_path / "p.csv")
    loaded = mlflow.pyfunc.load_model(str(model))
    got = loaded.predict(pd.read_csv(tmp_path / "new.csv"))
    assert list(got.columns) == ["id", "score", "probability", "y_pred", "risk"]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)
    about = loaded.metadata.metadata["seqexp"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert (
        about["decision"]["threshold"] == metrics["threshold"] and about["calibration"]["method"] == "sigmoid"
    )
    kept = {p.name for p in (model / "artifacts" / "run").iterdir()}
    assert {"config.yaml", "data_schema.json", "preprocess.json", "calibration.json", "metrics.json",
            "model_lightgbm.txt"} <= kept and "predictions.csv" not in kept  # fmt: skip
    requirements = (model / "requirements.txt").read_text()
    assert "lightgbm==" in requirements and "tensorflow" not in requirements


def test_a_fresh_process_needs_only_the_model_folder(table_export: tuple[Path, Path], tmp_path: Path) -> None:
    _, model = table_export
    rows = customers(5, 4).drop(columns="y")
    rows.to_csv(tmp_path / "rows.csv", index=False)
    code = (
        "import sys, pandas as pd, mlflow.pyfunc; m = mlflow.pyfunc.load_model(sys.argv[1]); "
        "import seqexp; print(seqexp.__file__); print(m.predict(pd.read_csv(sys.argv[2])).to_json())"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "MLFLOW_TRACKING_URI": (tmp_path / "mlruns").as_uri(),
    }
    done = subprocess.run([sys.executable, "-c", code, str(model), str(tmp_path / "rows.csv")], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    where, scores = done.stdout.strip().splitlines()[-2:]
    assert where.startswith(str(model / "code")), where  # seqexp's code travels with the model
    assert len(json.loads(scores)["score"]) == 5


def test_an_events_model_takes_as_of_as_a_parameter(tmp_path: Path) -> None:
    import mlflow.pyfunc

    _log(300, "2024-04-30", seed=0).to_csv(tmp_path / "log.csv", index=False)
    run = _train(tmp_path, LOG_CONFIG)
    done = run_cli("export", str(run), "-q")
    assert done.returncode == 0, done.stderr
    model = Path(done.stdout.strip())
    assert model.parent == run / "exports" and model.name.startswith("mlflow-")
    _log(60, "2024-07-31", seed=1).to_csv(tmp_path / "newer.csv", index=False)
    expected = _predicted(run, tmp_path / "newer.csv", tmp_path / "p.csv", "--as-of", "2024-06-15")
    loaded = mlflow.pyfunc.load_model(str(model))
    got = loaded.predict(pd.read_csv(tmp_path / "newer.csv"), params={"as_of": "2024-06-15"})
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)


def test_export_refusals_are_one_line(table_export: tuple[Path, Path]) -> None:
    run, model = table_export
    done = run_cli("export", str(run), "-o", str(model))
    assert done.returncode == 2 and "already exists" in done.stderr and "Traceback" not in done.stderr
    done = run_cli("export", str(run), "--format", "onnx")
    assert done.returncode == 2 and "'mlflow'" in done.stderr
    code = ("import sys; sys.modules['mlflow'] = None; sys.argv = ['seqexp', 'export', sys.argv[1]]; "
            "from seqexp.cli import main; main()")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code, str(run)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert (
        done.returncode == 2
        and "pip install 'seqexp[mlflow]'" in done.stderr
        and "Traceback" not in done.stderr
    )
