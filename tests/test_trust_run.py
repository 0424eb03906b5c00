"""A run whose model is a pickle (gradient boosting) reloads only when the user passes --trust-run."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Tiny, run_cli


def test_pickled_model_needs_trust_run(tiny: Tiny, tmp_path: Path) -> None:
    trained = run_cli(
        "train", str(tiny.path), "--runs-dir", str(tmp_path), "-q", "--set", "model={name: gradient_boosting}"
    )
    assert trained.returncode == 0, trained.stderr
    run_dir = Path(trained.stdout.strip().splitlines()[-1])

    refused = run_cli("evaluate", str(run_dir), "-q")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "--trust-run" in refused.stderr and "pickle" in refused.stderr
    assert not (run_dir / "evaluations").exists()

    trusted = run_cli("evaluate", str(run_dir), "-q", "--trust-run")
    assert trusted.returncode == 0, trusted.stderr
    again = json.loads((Path(trusted.stdout.strip().splitlines()[-1]) / "metrics.json").read_text())
    original = json.loads((run_dir / "metrics.json").read_text())
    assert again["test"]["pr_auc"] == original["test"]["pr_auc"]
