"""Speed-ups that must not change anything: light commands stay free of pandas, and the scaler's
no-NaN fast path gives exactly the statistics of the NaN-aware one."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from seqexp.pipeline.scaling import Standardizer
from tests.conftest import ROOT


def test_light_command_imports_leave_pandas_sklearn_and_tensorflow_out() -> None:
    code = (
        "import sys, seqexp.cli, seqexp.components; heavy = ('pandas', 'sklearn', 'tensorflow', 'lightgbm', "
        "'jinja2'); print(sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_scaler_fast_path_equals_the_nan_aware_statistics() -> None:
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(500, 6, 4)) * [1, 10, 100, 0.1] + 3).astype(np.float32)
    mask = rng.random((500, 6)) < 0.7
    scaler = Standardizer.fit(X, mask, ["a", "b", "c", "d"], passthrough=[])
    rows = X[mask].astype(np.float64)
    assert scaler.mean == np.nanmean(rows, axis=0).tolist()  # bitwise, not approximately
    assert scaler.std == np.nanstd(rows, axis=0).tolist()
    X[0, 0, 0] = np.nan  # a NaN takes the NaN-aware path, which ignores it
    mask[0, 0] = True
    with_nan = Standardizer.fit(X, mask, ["a", "b", "c", "d"], passthrough=[])
    assert np.isfinite(with_nan.mean).all() and with_nan.fill == with_nan.mean
    out = with_nan.transform(X, mask)
    assert out.dtype == np.float32 and not np.isnan(out).any() and (out[~mask] == 0).all()
