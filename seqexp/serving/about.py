"""What ``GET /metadata`` says about the served run (and the exported MLflow model keeps in its
``metadata``): the model, its threshold and the rule that chose it, the calibration, the data and
split fingerprints, the test metrics, the raw columns it reads, and package versions at training and
now."""

from __future__ import annotations

import json
from importlib import metadata
from typing import Any

from seqexp.runfolder import files
from seqexp.runfolder.lifecycle import package_versions
from seqexp.serving.scorer import Scorer

SERVING_PACKAGES = ("fastapi", "uvicorn", "pydantic", "mlflow-skinny", "mlflow")


def describe(scorer: Scorer, limits: dict[str, Any] | None = None) -> dict[str, Any]:
    run, record, metrics = scorer.run, scorer.run.record, scorer.run.metrics
    calibration_path = run.folder / files.CALIBRATION
    state = json.loads(calibration_path.read_text()) if calibration_path.is_file() else {"method": "none"}
    out: dict[str, Any] = {
        "run": run.folder.name,
        "model": run.cfg.model.name if record.get("estimator") != "ensemble" else "ensemble",
        "estimator": record.get("estimator"),
        "task": scorer.task.name,
        "decision": {
            "threshold": metrics.get("threshold"),
            "threshold_rule": metrics.get("threshold_rule", scorer.decision.rule),
            "threshold_probability": metrics.get("threshold_probability"),
        },
        "risk_levels": {"cuts": list(scorer.bands.cuts), "levels": list(scorer.bands.levels)}
        if scorer.task.name == "binary"
        else None,  # fmt: skip
        "calibration": {
            "method": state.get("method", "none"),
            "fitted": state,
            "quality": metrics.get("calibration"),
        },  # fmt: skip
        "data": {
            "source": run.cfg.data.name,
            "fingerprint": record.get("data_fingerprint"),
            "split_fingerprint": record.get("split_fingerprint"),
            "features": len(run.scaler.feature_names),
            "input_shape": record.get("input_shape"),
        },  # fmt: skip
        "input": scorer.columns.describe(),
        "test_metrics": metrics.get("test", {}),
        "trained": {"started": record.get("started"), "finished": record.get("finished")},
        "versions": {"training": record.get("versions", {}), "serving": _versions()},
    }
    if limits is not None:
        out["limits"] = limits
    return out


def _versions() -> dict[str, str]:
    versions = package_versions()
    for package in SERVING_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions
