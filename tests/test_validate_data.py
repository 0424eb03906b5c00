"""``seqexp validate`` opens the data (a sample, never the whole file): the file, the columns each key
names, the time format and the expressions; ``train`` runs the same check before it makes a run
folder, so these mistakes leave none behind. Neither imports TensorFlow for it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

LOG = "customer,day,amount,kind\n" + "".join(
    f"c{i % 7},2024-01-{1 + i % 28:02d},{i % 5}.5,a\n" for i in range(60)
)
CONFIG = """
data:
  name: events
  path: log.csv
  id: customer
  time: day
  time_format: "%Y-%m-%d"
  numeric: [amount]
  where: "amount > 0"
  labels: {cutoff: 2024-01-20, horizon_days: 10}
model: {name: logistic_regression}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "log.csv").write_text(LOG)
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG)
    return path


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.path=missing.csv", "data.path: no such file"),
        ("data.time=dya", "column 'dya' is not in log.csv"),
        ("data.numeric=[amout]", "data.numeric: column 'amout' is not in log.csv"),
        ("data.time_format=%d-%b-%y", "data.time 'day': cannot parse timestamp"),
        ("data.where=amout > 0", "data.where: cannot evaluate 'amout > 0': column 'amout'"),
        ("data.labels.where=kin == 'a'", "data.labels.where: cannot evaluate"),
        ("data.output=aggregates", None),  # fine with logistic regression
    ],
)
def test_validate_finds_data_mistakes_and_train_leaves_no_folder(
    config: Path, tmp_path: Path, override: str, message: str | None
) -> None:
    checked = run_cli("validate", str(config), "--set", override)
    if message is None:
        assert checked.returncode == 0, checked.stderr
        assert "sample rows of log.csv read" in checked.stdout
        return
    assert checked.returncode == 2 and message in checked.stderr and "Traceback" not in checked.stderr
    trained = run_cli("train", str(config), "--set", override, "--runs-dir", str(tmp_path / "runs"), "-q")
    assert trained.returncode == 2 and message in trained.stderr
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


def test_a_sequence_model_on_one_row_per_customer_is_refused(config: Path) -> None:
    checked = run_cli(
        "validate", str(config), "--set", "data.output=aggregates", "--set", "model={name: lstm}"
    )
    assert checked.returncode == 2
    assert "model.name: lstm reads sequences of events" in checked.stderr and "data.output" in checked.stderr


def test_validate_with_data_imports_no_tensorflow(config: Path) -> None:
    code = (
        "import sys, atexit; atexit.register(lambda: print('tensorflow' in sys.modules, file=sys.stderr)); "
        f"sys.argv = ['seqexp', 'validate', {str(config)!r}]; from seqexp.cli import main; main()"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "False"
