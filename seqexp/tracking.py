"""Optional MLflow tracking: a run folder, once it has ended, copied into an MLflow tracking store.

The run folder stays the record of truth; MLflow gets a searchable copy of it: params (the resolved
config, flattened), metrics (validation and test, model and baseline; per-epoch history with its
step), tags (run folder, data and split fingerprints, status) and the folder's files as artifacts.
A group of runs (repeated seeds, k folds) becomes a parent MLflow run with one nested run per child.

The store is ``MLFLOW_TRACKING_URI`` when set, else a local ``mlruns/`` folder next to the runs
folder (MLflow's file store: no server, no database). MLflow is imported only here, inside
functions, and only when tracking is asked for: it is the optional ``mlflow`` extra.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from seqexp.errors import UserError
from seqexp.runfolder import files, lifecycle

DEFAULT_DIR = "mlruns"
DEFAULT_EXPERIMENT = "seqexp"
INSTALL_HINT = "pip install 'seqexp[mlflow]' (or: pip install mlflow-skinny)"
# seqexp's run status -> MLflow's run status.
STATUS = {"completed": "FINISHED", "failed": "FAILED", "interrupted": "KILLED", "running": "RUNNING"}
MAX_PARAM_CHARS = 500  # MLflow's oldest servers accept 500 characters per param value
SKIPPED_METRICS = ("classification_report",)  # per-class tables: in the artifacts, not metrics

Say = Callable[[str], None]


def require_mlflow() -> None:
    """Fail before any training when tracking is asked for but MLflow is not installed."""
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise UserError(
            f"tracking: MLflow tracking was asked for (--mlflow or 'tracking: mlflow') but MLflow is not "
            f"installed; install the extra: {INSTALL_HINT}, or leave tracking off"
        ) from None


def tracking_uri(runs_dir: Path) -> str:
    """``MLFLOW_TRACKING_URI`` when set, else ``mlruns/`` beside the runs folder, as a file URI."""
    return os.environ.get("MLFLOW_TRACKING_URI") or (Path(runs_dir).resolve().parent / DEFAULT_DIR).as_uri()


@dataclass(frozen=True)
class Tracker:
    """Called with a run folder once the run has ended (completed, failed or interrupted).

    A tracking failure is a warning, never an error: the run folder is already written and is what
    every other command reads, so losing its MLflow copy must not lose (or fail) the run.
    """

    uri: str
    experiment: str
    say: Say
    warn: Say

    def __call__(self, run_dir: Path) -> None:
        try:
            run_id = log_run_folder(Path(run_dir), uri=self.uri, experiment=self.experiment)
        except Exception as exc:  # MLflow raises many kinds (network, permissions, store format)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            self.warn(
                f"MLflow tracking of {run_dir} to {self.uri} failed ({type(exc).__name__}: {first[:300]}); "
                "the run folder is unaffected"
            )
            return
        self.say(f"mlflow: run {run_id} in experiment '{self.experiment}' at {self.uri}")


def make_tracker(runs_dir: Path, *, say: Say = lambda _: None, warn: Say = lambda _: None) -> Tracker:
    """A tracker for runs under ``runs_dir``; a ``UserError`` now if MLflow is missing."""
    require_mlflow()
    experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT
    return Tracker(tracking_uri(runs_dir), experiment, say, warn)


def tracker_for(
    enabled: bool, runs_dir: Path, *, say: Say = lambda _: None, warn: Say = lambda _: None
) -> Tracker | None:
    """``make_tracker`` when tracking is on (``--mlflow`` or ``tracking: mlflow``), else ``None``."""
    return make_tracker(runs_dir, say=say, warn=warn) if enabled else None


# --------------------------------------------------------------------------- logging one folder


def log_run_folder(run_dir: Path, *, uri: str, experiment: str, parent_id: str | None = None) -> str:
    """Log one ended run folder (and, for a group, its children as nested runs); return the run id."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    if uri.startswith("file:"):
        # MLflow 3 keeps its file store in "maintenance mode" behind this switch; mlflow-skinny has no
        # database backend, so the file store is the only server-less one. An explicit user value wins.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=uri)
    record = lifecycle.read_run(run_dir)
    tags = run_tags(run_dir, record)
    if parent_id is not None:
        tags["mlflow.parentRunId"] = parent_id
    run = client.create_run(
        _experiment_id(client, experiment),
        start_time=_millis(record.get("started")),
        tags=tags,
        run_name=run_dir.name,
    )
    run_id = run.info.run_id
    config = _read_yaml(run_dir / files.CONFIG)
    metrics = _read_json(run_dir / files.METRICS)
    now = _millis(record.get("finished")) or int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(k, v, now, 0) for k, v in flat_metrics(metrics).items()]
        + [Metric(k, v, now, step) for k, v, step in history_metrics(run_dir / files.HISTORY)],
        params=[Param(k, v) for k, v in flat_params(config).items()],
    )
    children = [str(c) for c in record.get("children", [])]
    _log_artifacts(client, run_id, run_dir, skip=set(children))
    for child in children:
        if (run_dir / child / files.RUN).is_file():
            log_run_folder(run_dir / child, uri=uri, experiment=experiment, parent_id=run_id)
    client.set_terminated(
        run_id,
        status=STATUS.get(str(record.get("status")), "FAILED"),
        end_time=_millis(record.get("finished")),
    )
    return run_id


def run_tags(run_dir: Path, record: dict[str, Any]) -> dict[str, str]:
    """What finds a run again: its folder, status, fingerprints, model, and the error if it failed."""
    tags = {
        "run_folder": str(run_dir.resolve()),
        "status": str(record.get("status")),
        "seqexp.name": str(record.get("name", "")),
        "seqexp.command": str(record.get("command", "")),
    }
    named = {
        "data_fingerprint": "data_fingerprint",
        "split_fingerprint": "split_fingerprint",
        "error": "error",
        "estimator": "seqexp.estimator",
        "kind": "seqexp.kind",
        "seed": "seqexp.seed",
    }
    for key, tag in named.items():
        if record.get(key) is not None:
            tags[tag] = str(record[key])[:5000]
    if record.get("members"):
        tags["seqexp.members"] = ", ".join(Path(m).name for m in record["members"])[:5000]
    return tags


def flat_params(config: Any, prefix: str = "") -> dict[str, str]:
    """The resolved config as ``section.key`` -> value text (lists and nulls as JSON)."""
    if not isinstance(config, dict):
        return {}
    out: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flat_params(value, f"{name}."))
        else:
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            out[name] = text if len(text) <= MAX_PARAM_CHARS else text[: MAX_PARAM_CHARS - 3] + "..."
    return out


def flat_metrics(metrics: Any, prefix: str = "") -> dict[str, float]:
    """Every finite number in ``metrics.json`` as ``val_pr_auc``, ``baseline_test_f1``,
    ``mean_test_pr_auc`` (groups)...; per-class reports and member lists are left to the artifacts."""
    if not isinstance(metrics, dict):
        return {}
    out: dict[str, float] = {}
    for key, value in metrics.items():
        if key in SKIPPED_METRICS:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_metrics(value, f"{name}_"))
        elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            out[name] = float(value)
    return out


def history_metrics(path: Path) -> list[tuple[str, float, int]]:
    """``history.csv`` as ``(epoch_<column>, value, epoch)``: MLflow draws them as curves."""
    if not path.is_file():
        return []
    import csv

    rows = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                step = int(float(row.get("epoch") or 0))
            except ValueError:
                continue
            for key, text in row.items():
                if key == "epoch" or not text:
                    continue
                try:
                    value = float(text)
                except ValueError:
                    continue
                if math.isfinite(value):
                    rows.append((f"epoch_{key}", value, step))
    return rows


def _log_artifacts(client: Any, run_id: str, folder: Path, *, skip: set[str]) -> None:
    """The folder's files (children of a group are logged as their own runs; temp files never)."""
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in skip:
            continue
        if entry.is_dir():
            client.log_artifacts(run_id, str(entry), artifact_path=entry.name)
        elif entry.is_file():
            client.log_artifact(run_id, str(entry))


def _experiment_id(client: Any, name: str) -> str:
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    try:
        return client.create_experiment(name)
    except MlflowException:  # created meanwhile by a parallel run
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


def _millis(stamp: Any) -> int | None:
    """An ISO time from ``run.json`` as epoch milliseconds (MLflow's clock); ``None`` if absent."""
    try:
        return int(datetime.fromisoformat(str(stamp)).timestamp() * 1000) if stamp else None
    except ValueError:
        return None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return {}
