"""A completed run folder reopened for later commands (evaluate, predict), and new data encoded the
way that run's training data was encoded.

New data comes from a data config (YAML: a whole experiment config with a ``data`` section, or just
the data section) or from a data file: the run's own data section with its ``path`` replaced. Either
way it goes through the source registry's builder contract
``build(cfg, *, seed, schema=run's data_schema.json, labelled=...)``, so any source works.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.data.dataset import Dataset
from seqexp.errors import DataError, UserError
from seqexp.pipeline.scaling import Standardizer
from seqexp.runfolder import files, lifecycle

NEEDED = (files.CONFIG, files.METRICS, files.PREPROCESS)
CONFIG_SUFFIXES = (".yaml", ".yml")


@dataclass
class SavedRun:
    """What a later command needs from a completed run folder."""

    folder: Path
    cfg: Any  # ExperimentConfig
    record: dict[str, Any]
    metrics: dict[str, Any]
    scaler: Standardizer
    schema: dict[str, Any]
    trust: bool = False  # the user vouched for this folder: pickled models may load
    _estimator: Any = field(default=None, repr=False)
    _scorer: Any = field(default=None, repr=False)

    @property
    def threshold(self) -> float:
        return float(self.metrics["threshold"])

    @property
    def estimator(self) -> Any:
        """The trained model, loaded on first use (TensorFlow is imported only then)."""
        if self._estimator is None:
            from seqexp.models import load_estimator

            self._estimator = load_estimator(
                self.record.get("estimator", "keras"), self.folder, trust=self.trust
            )
        return self._estimator

    @property
    def scorer(self) -> Any:
        """A fast batch scoring function (``seqexp.commands.predict.scorer``), traced once per run."""
        if self._scorer is None:
            from seqexp.commands.predict import scorer

            self._scorer = scorer(self.estimator)
        return self._scorer


def open_run(folder: Path, *, trust: bool = False) -> SavedRun:
    """Reopen a completed run; a folder that is not a run, or a run that did not complete, is a
    ``UserError`` saying so."""
    from seqexp.config import load_config

    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: no such run folder")
    record = lifecycle.read_run(folder)
    status = record.get("status")
    if status != "completed":
        why = f": {record['error']}" if record.get("error") else ""
        raise UserError(f"{folder}: the run is '{status}', not completed{why}; train it again")
    if record.get("estimator") == "ensemble":
        return _open_ensemble(folder, record, trust)
    missing = [name for name in NEEDED if not (folder / name).is_file()]
    if missing:
        raise UserError(f"{folder}: incomplete run folder, missing {', '.join(missing)}")
    schema_path = folder / files.DATA_SCHEMA
    return SavedRun(
        folder=folder,
        cfg=load_config(folder / files.CONFIG),
        record=record,
        metrics=json.loads((folder / files.METRICS).read_text()),
        scaler=Standardizer.load(folder / files.PREPROCESS),
        schema=json.loads(schema_path.read_text()) if schema_path.is_file() else {},
        trust=trust,
    )


class CombinedEstimator:
    """An ensemble run's members, each scoring the same encoded rows, combined as the run says."""

    kind = "ensemble"

    def __init__(self, members: list[Any], combiner: Any):
        self.members = members
        self.combiner = combiner

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.combiner.combine(np.column_stack([member.predict(X) for member in self.members]))


def _open_ensemble(folder: Path, record: dict[str, Any], trust: bool) -> SavedRun:
    """An ensemble run reopened through its members. They share the data and split fingerprints,
    so the first member's config, encoding and train-fitted scaling are every member's."""
    from seqexp.commands.ensemble import load_combiner

    paths, combiner = load_combiner(folder)
    members = [open_run(Path(path), trust=trust) for path in paths]
    first = members[0]
    run = SavedRun(
        folder=folder,
        cfg=first.cfg,
        record=record,
        metrics=json.loads((folder / files.METRICS).read_text()),
        scaler=first.scaler,
        schema=first.schema,
        trust=trust,
    )
    run._estimator = CombinedEstimator([member.estimator for member in members], combiner)
    return run


def data_config_for(run: SavedRun, source: Path) -> Any:
    """The data section that reads ``source``: a YAML data config, or a data file put in place of
    the path of the run's own data section."""
    from seqexp.config import read_yaml, validate_config

    source = Path(source)
    if not source.exists():
        raise UserError(f"{source}: no such file")
    if source.suffix.lower() in CONFIG_SUFFIXES:
        raw = read_yaml(source)
        if not isinstance(raw, dict):
            raise UserError(f"{source}: expected a config with a 'data' section (or a data section)")
        section = raw.get("data", raw if "name" in raw else None)
        if not isinstance(section, dict):
            raise UserError(f"{source}: no 'data' section; write data: {{name: ..., ...}}")
        whole = run.cfg.model_dump(mode="json")
        whole["data"] = section
        return validate_config(whole, source=str(source), config_dir=source.parent).data
    data_cfg = run.cfg.data
    if "path" not in type(data_cfg).model_fields:
        raise UserError(
            f"{source}: the run's data source '{data_cfg.name}' does not read files; give a data "
            f"config YAML instead (data: {{name: ..., ...}})"
        )
    labels = getattr(data_cfg, "labels", None)
    if labels is not None and getattr(labels, "path", None):
        raise UserError(
            f"{source}: the run's labels come from a separate file ({labels.path}); give a data config "
            "YAML naming both the data and its labels"
        )
    values = {**data_cfg.model_dump(mode="json"), "path": str(source.resolve())}
    try:
        return type(data_cfg).model_validate(values)
    except Exception as exc:  # pydantic ValidationError: a short first line is enough here
        raise UserError(f"{source}: cannot be read as '{data_cfg.name}' data ({exc})") from None


def build_input(run: SavedRun, data_cfg: Any, *, labelled: bool) -> Dataset:
    """Build data with the source's builder and the run's schema; check it fits the model."""
    from seqexp.registry import DATA_SOURCES

    data = DATA_SOURCES.get(data_cfg.name).builder(
        data_cfg, seed=run.cfg.seed, schema=run.schema or None, labelled=labelled
    )
    check_shape(run, data)
    return data


def check_shape(run: SavedRun, data: Dataset) -> None:
    expected = list(run.scaler.feature_names)
    if list(data.feature_names) != expected:
        missing = [name for name in expected if name not in data.feature_names]
        extra = [name for name in data.feature_names if name not in expected]
        parts = [f"missing {', '.join(missing[:8])}" if missing else "",
                 f"unexpected {', '.join(extra[:8])}" if extra else ""]  # fmt: skip
        detail = "; ".join(p for p in parts if p) or "columns in a different order"
        raise DataError(f"the data does not have the features the model was trained on ({detail})")
    shape = run.record.get("input_shape")
    if shape is not None and list(data.X.shape[1:]) != list(shape):
        raise DataError(
            f"the data has shape {list(data.X.shape[1:])} per customer, the model expects {shape} "
            "(same sequence length and features as in training)"
        )
    if len(data.y) == 0:
        raise DataError("the data holds no customers")


def unseen_levels(data: Dataset) -> dict[str, int]:
    """Per categorical column, how many values were outside the levels seen in training.

    Sources encode such a value as an all-zero one-hot block (never an error); here those blocks
    are counted on real (unmasked) steps, plus whatever the source itself reported.
    """
    counts: dict[str, int] = {}
    for group in data.onehot_groups:
        block = data.X[..., group].sum(axis=-1) == 0
        if data.mask is not None:
            block &= data.mask
        n = int(block.sum())
        if n:
            counts[data.feature_names[group[0]].split("=", 1)[0]] = n
    for column, n in (data.report.get("unseen_levels") or {}).items():
        counts[column] = max(counts.get(column, 0), int(n))
    return counts


def describe_unseen(counts: dict[str, int]) -> str:
    return ", ".join(f"{column}: {n}" for column, n in counts.items())


def scaled(run: SavedRun, data: Dataset) -> np.ndarray:
    return run.scaler.transform(data.X, data.mask)
