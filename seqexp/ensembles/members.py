"""The members of an ensemble: completed run folders' saved validation and test scores, aligned by
customer id, and the checks that they can be combined (same data, same split, same customers).

Where a member has a ``calibration.json`` its calibrated probabilities are read instead of its
scores, so that resampling or class weights do not weigh one member over another.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.errors import UserError
from seqexp.runfolder import files, lifecycle
from seqexp.tasks import task_of


@dataclass(frozen=True)
class Member:
    """A completed run's saved scores, rows sorted by id."""

    path: Path
    run: dict[str, Any]
    metrics: dict[str, Any]
    val_ids: np.ndarray
    val_y: np.ndarray
    val_scores: np.ndarray
    test_ids: np.ndarray
    test_y: np.ndarray
    test_scores: np.ndarray
    calibrated: bool = False  # the scores above are the member's calibrated probabilities

    @property
    def name(self) -> str:
        return self.path.name


def _read_scores(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import pandas as pd

    if not path.is_file():
        raise UserError(f"{path.parent}: no {path.name}; retrain it with this version of seqexp")
    frame = pd.read_csv(path, dtype={"id": str})
    if not {"id", "y_true", "score"} <= set(frame.columns):
        raise UserError(f"{path}: expected columns id, y_true, score")
    if not frame["id"].is_unique:
        raise UserError(f"{path}: customer ids are not unique")
    frame = frame.sort_values("id", kind="stable")
    return frame["id"].to_numpy(), frame["y_true"].to_numpy(int), frame["score"].to_numpy(float)


def load_member(path: Path) -> Member:
    """Read one member run; a folder that is not a completed single run is refused."""
    path = Path(path)
    run = lifecycle.read_run(path)
    if "children" in run:
        raise UserError(
            f"{path}: a group of {len(run['children'])} runs ({run.get('kind')}); name its child runs instead"
        )
    if run.get("status") != "completed":
        raise UserError(f"{path}: the run is {run.get('status')!r}, not completed")
    if not run.get("split_fingerprint"):
        raise UserError(f"{path}: run.json has no split_fingerprint; retrain it with this version of seqexp")
    metrics = json.loads((path / files.METRICS).read_text()) if (path / files.METRICS).is_file() else {}
    try:
        task_of(metrics).refuse("ensemble")
    except UserError as exc:
        raise UserError(f"{path}: {exc}") from None
    val_ids, val_y, val_scores = _read_scores(path / files.VAL_PREDICTIONS)
    test_ids, test_y, test_scores = _read_scores(path / files.PREDICTIONS)
    calibrated = (path / files.CALIBRATION).is_file()
    if calibrated:  # combine probabilities, not scores that resampling moved
        from seqexp.tasks.calibration import Calibrator

        to_p = Calibrator.from_json(json.loads((path / files.CALIBRATION).read_text())).apply
        val_scores, test_scores = to_p(val_scores), to_p(test_scores)
    return Member(path, run, metrics, val_ids, val_y, val_scores, test_ids, test_y, test_scores, calibrated)


def check_compatible(members: list[Member]) -> None:
    """Members must share data and split (fingerprints) and score the same customers."""
    if len(members) < 2:
        raise UserError("an ensemble needs at least two member runs")
    paths = [m.path.resolve() for m in members]
    if len(set(paths)) != len(paths):
        raise UserError("the same run is named twice among the members")
    groups: dict[tuple[str, str], list[str]] = {}
    for m in members:
        key = (str(m.run.get("data_fingerprint")), str(m.run.get("split_fingerprint")))
        groups.setdefault(key, []).append(str(m.path))
    if len(groups) > 1:
        parts = [
            f"data {data} / split {split}: {', '.join(names)}" for (data, split), names in groups.items()
        ]
        raise UserError(
            "members must be trained on the same data and split, but their fingerprints differ ("
            + "; ".join(parts)
            + "). Ensemble runs of one config family, or fix split.seed and retrain."
        )
    first = members[0]
    for m in members[1:]:
        for part in ("val", "test"):
            same_ids = np.array_equal(getattr(m, f"{part}_ids"), getattr(first, f"{part}_ids"))
            if not same_ids or not np.array_equal(getattr(m, f"{part}_y"), getattr(first, f"{part}_y")):
                raise UserError(
                    f"{m.path} and {first.path}: their {part} predictions cover different customers or labels"
                )
