"""``seqexp export --format mlflow``: a run as an MLflow pyfunc model (the ``mlflow`` extra).

The model folder holds, under ``artifacts/run/``, the run files scoring reads (config, schema,
scaling, model, calibration, threshold in ``metrics.json``: ``files.SCORING_FILES``), and under
``code/`` the ``seqexp`` package itself, so ``mlflow.pyfunc.load_model`` needs no seqexp install.
``predict`` takes a DataFrame of raw rows (a table run) or events (an events run, with the id column
on every event), and ``params={"as_of": "2025-02-01"}`` for event logs; it returns predict's columns
(``id, score, probability, y_pred, risk`` for a binary run), computed by the same scorer as
``seqexp serve`` and ``seqexp predict``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd
from mlflow.pyfunc import PythonModel

from seqexp.errors import UserError
from seqexp.runfolder import files
from seqexp.runfolder.reader import SavedRun
from seqexp.serving.about import describe
from seqexp.serving.scorer import Scorer

RUN_ARTIFACT = "run"
TENSORFLOW_PACKAGES = ("tensorflow", "keras", "keras-tuner", "tensorboard")
NOT_FOR_SCORING = ("typer", "rich", "matplotlib", "jinja2", "imbalanced-learn", "keras-tuner", "tensorboard")


class SeqexpModel(PythonModel):
    """A seqexp run behind MLflow's pyfunc face."""

    def __init__(self, trust: bool = False):
        self.trust = trust  # the exporter vouched for a pickled model (--trust-run)
        self._scorer: Scorer | None = None

    def load_context(self, context: Any) -> None:
        self._scorer = Scorer.open(Path(context.artifacts[RUN_ARTIFACT]), trust=self.trust)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Score the customers of ``model_input`` (raw rows, or events); ``params``: ``as_of``."""
        if self._scorer is None:
            self.load_context(context)
        assert self._scorer is not None
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        as_of = (params or {}).get("as_of") or None
        batch = self._scorer.score_frame(frame, as_of=as_of, where="model input")
        return pd.DataFrame(batch.rows, columns=self._scorer.header)


def export_mlflow(run: SavedRun, out: Path, *, trust: bool = False) -> Path:
    """Write ``run`` as an MLflow pyfunc model folder at ``out`` (which must not exist yet)."""
    if run.record.get("estimator") == "ensemble":
        raise UserError(
            f"{run.folder}: an ensemble's members live in their own run folders; export a member, or "
            "serve the ensemble with seqexp serve"
        )
    if out.exists():
        raise UserError(f"--output: {out} already exists; give a new folder")
    scorer = Scorer(run)  # the run loads and can score in-memory data, or one line says why not
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="seqexp-export-") as tmp:
        copy = Path(tmp) / RUN_ARTIFACT  # the model folder's artifacts/run/
        copy.mkdir()
        for name in files.SCORING_FILES:
            if (run.folder / name).is_file():
                shutil.copy2(run.folder / name, copy / name)
        logger = logging.getLogger("mlflow")  # quiet its notes on pickling and on input examples
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                _save(out, scorer, copy, trust)
        finally:
            logger.setLevel(level)
    return out


def _save(out: Path, scorer: Scorer, copy: Path, trust: bool) -> None:
    mlflow.pyfunc.save_model(
        str(out),
        python_model=SeqexpModel(trust=trust),
        artifacts={RUN_ARTIFACT: str(copy)},
        code_paths=[str(Path(__file__).resolve().parents[1])],  # the seqexp package
        pip_requirements=requirements(scorer),
        signature=_signature(scorer),
        metadata={"seqexp": _light(describe(scorer))},
    )


def requirements(scorer: Scorer) -> list[str]:
    """seqexp's own dependencies at the installed versions, less what scoring does not import
    (TensorFlow too, for a model that does not need it)."""
    from seqexp.models import loader_of

    entry = loader_of(str(scorer.run.record.get("estimator", "keras")))
    needs_tf = entry is None or bool(entry.extras.get("tensorflow"))
    left_out = set(NOT_FOR_SCORING) | (set() if needs_tf else set(TENSORFLOW_PACKAGES))
    pinned = []
    for requirement in ["numpy", *(metadata.requires("seqexp") or [])]:
        if ";" in requirement:  # an extra's (dev, mlflow, serve)
            continue
        name = requirement.split(">")[0].split("=")[0].split("<")[0].strip()
        if name in left_out:
            continue
        try:
            pinned.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pinned.append(requirement)
    return pinned


def _signature(scorer: Scorer) -> Any:
    """Outputs and the ``as_of`` parameter; inputs are the run's raw columns, described in the
    model's metadata rather than enforced (their types are whatever the data file held)."""
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

    kinds = {"score": "double", "probability": "double", "p_pred": "double", "risk": "string"}
    outputs = Schema([ColSpec(kinds[name], name) for name in scorer.header if name in kinds])
    if scorer.columns.kind != "events":
        return ModelSignature(inputs=None, outputs=outputs)
    return ModelSignature(
        inputs=None, outputs=outputs, params=ParamSchema([ParamSpec("as_of", "string", None)])
    )


def _light(about: dict[str, Any]) -> dict[str, Any]:
    """The metadata MLmodel keeps: everything but the fitted calibrator's numbers; the versions at
    training and at export."""
    calibration = dict(about.get("calibration") or {})
    calibration.pop("fitted", None)
    versions = about.get("versions", {})
    versions = {"training": versions.get("training"), "export": versions.get("serving")}
    return {**about, "calibration": calibration, "versions": versions}
