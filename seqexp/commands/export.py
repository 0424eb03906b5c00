"""``seqexp export``: a completed run as a model another tool loads and serves.

``--format mlflow`` writes an MLflow pyfunc model (the ``mlflow`` extra): the encoding, scaling, model,
calibration and threshold of the run, scored by seqexp's own code carried in the model folder, so
``mlflow.pyfunc.load_model``, the MLflow model registry and ``mlflow models serve`` take it
(docs/serve.md). The default folder is ``RUN/exports/mlflow-<time>``; the last line printed is it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from seqexp.errors import UserError

FORMATS = ("mlflow",)


def run(run_dir: Path, *, fmt: str, output: Path | None, trust: bool, quiet: bool) -> None:
    from rich.markup import escape

    from seqexp.reporting.console import err, result
    from seqexp.runfolder import files
    from seqexp.runfolder.reader import open_run

    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise UserError(
            "--format mlflow: needs MLflow; install the extra: pip install 'seqexp[mlflow]' "
            "(or: pip install mlflow-skinny)"
        ) from None
    from seqexp.serving.mlflow_model import export_mlflow

    saved = open_run(run_dir, trust=trust)
    out = output or Path(run_dir) / files.EXPORTS / f"{fmt}-{datetime.now():%Y%m%d-%H%M%S}"
    export_mlflow(saved, Path(out), trust=trust)
    if not quiet:
        for line in (f"exported {Path(run_dir).name} as an MLflow pyfunc model (encoding, scaling, model, "
                     "calibration, threshold; seqexp's code inside)",
                     f"load it: mlflow.pyfunc.load_model('{out}')",
                     f"serve it: mlflow models serve -m {out} --env-manager local"):  # fmt: skip
            err.print(f"[dim]{escape(line)}[/dim]", soft_wrap=True, highlight=False)
    result(out)
