"""What a search shows and writes: a resumed search counts on from the earlier trials, keras-tuner's
own lines go to run.log (never the terminal), floats keep the precision they were sampled at, and
the figures' axes stay readable."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from seqexp.config.loading import load_config, validate_config
from seqexp.tuning import space as space_mod
from seqexp.tuning.config import Distribution
from tests.conftest import run_cli
from tests.test_tune import LIGHTGBM_TUNE, _read_csv

# --------------------------------------------------------------------------- resume counts on


def _lightgbm_search(**tune: Any) -> dict:
    raw = yaml.safe_load(LIGHTGBM_TUNE)
    raw["tune"].update(tune)
    raw["tune"]["space"]["model.feature_fraction"] = {"float": [0.5, 1.0], "step": 0.1}
    return raw


def test_a_search_resumed_to_more_trials_counts_on_and_keeps_the_best(tmp_path: Path, capfd) -> None:
    """2 trials, then resumed to 3: the count goes on at 3, the best is the best of all 3, and
    keras-tuner's own lines are in run.log, not on the terminal."""
    from seqexp.tuning.search import run_tune

    said: list[str] = []
    first = run_tune(validate_config(_lightgbm_search(max_trials=2, top_k=0)), runs_dir=tmp_path,
                     say=said.append)  # fmt: skip
    folder = first.folder
    assert any(line.startswith("trial 1 (2/2): ") for line in said), said
    said.clear()
    run_tune(validate_config(_lightgbm_search(max_trials=3, top_k=1)), runs_dir=tmp_path, resume=folder,
             say=said.append)  # fmt: skip
    rows = _read_csv(folder / "trials.csv")
    assert [r["trial_id"] for r in rows] == ["0", "1", "2"]
    scores = [float(r["objective"]) for r in rows]
    assert f"resuming after 2 trials, best so far {max(scores[:2]):.4f}" in "\n".join(said)
    assert f"trial 2 (3/3): val_pr_auc {scores[2]:.4f}; best so far {max(scores):.4f}" in said
    run = json.loads((folder / "run.json").read_text())
    assert run["status"] == "completed" and run["trials"] == 3 and len(run["resumed"]) == 1
    assert f"{run['best']['score']:.6g}" == f"{max(scores):.6g}"
    assert load_config(folder / "config.yaml").tune.max_trials == 3  # a later resume keeps the budget

    log = (folder / "run.log").read_text()
    shown = capfd.readouterr()  # this process's terminal, and its trial processes'
    for line in ("Reloading Tuner from", "Search space summary", "Search: Running Trial #3"):
        assert f"keras-tuner: {line}" in log, line
        assert line not in shown.out + shown.err, line
    assert "\x1b[" not in log  # keras-tuner's terminal control is stripped

    # Floats as sampled: a step of 0.1 gives one decimal, a log range 4 significant digits.
    for text in ((folder / "best_config.yaml").read_text(),
                 *(p.read_text() for p in (folder / "top").glob("*/config.yaml"))):  # fmt: skip
        model = yaml.safe_load(text)["model"]
        assert re.fullmatch(r"0\.\d|1\.0", repr(model["feature_fraction"])), model
        assert len(f"{model['learning_rate']:e}".split("e")[0].rstrip("0").replace(".", "")) <= 4, model


@pytest.mark.slow
def test_resume_with_a_new_budget_from_the_command_line(write_config, tmp_path: Path) -> None:
    """seqexp tune --resume FOLDER --set tune.max_trials=N extends a completed search; without a new
    budget it is refused with the command to run; stdout is the folder's path alone."""
    config = write_config(yaml.safe_dump(_lightgbm_search(max_trials=2, top_k=0)))
    first = run_cli("tune", str(config), "--runs-dir", str(tmp_path / "runs"))
    assert first.returncode == 0, first.stderr
    folder = Path(first.stdout.strip())
    again = run_cli("tune", "--resume", str(folder))
    assert again.returncode == 2 and "completed its 2 trials" in again.stderr
    assert f"seqexp tune --resume {folder} --set tune.max_trials=12" in again.stderr
    other = run_cli(
        "tune", "--resume", str(folder), "--set", "tune.max_trials=3", "--set", "model.num_leaves=5"
    )
    assert other.returncode == 2 and "cannot resume with a different search: model changed" in other.stderr
    resumed = run_cli("tune", "--resume", str(folder), "--set", "tune.max_trials=3")
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == str(folder)
    assert "trial 2 (3/3)" in resumed.stderr and "Reloading Tuner" not in resumed.stderr
    assert len(_read_csv(folder / "trials.csv")) == 3


def test_trial_events_start_from_the_trials_a_resumed_search_finished(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from seqexp.tuning.trials import TrialEvents

    ended = [("COMPLETED", 0.2350), ("COMPLETED", 0.6553), ("FAILED", None), ("RUNNING", None)]
    trials = {str(i): SimpleNamespace(status=s, score=v) for i, (s, v) in enumerate(ended)}
    said: list[str] = []
    events = TrialEvents(tmp_path, "val_pr_auc", "max", 5, said.append)
    events.resume_from(SimpleNamespace(trials=trials))
    assert (events.done, events.best) == (3, 0.6553)
    events.trial_ended(SimpleNamespace(trial_id="4", status="COMPLETED"), "tuner0", {"val_pr_auc": 0.5})
    assert said == ["trial 4 (4/5): val_pr_auc 0.5000; best so far 0.6553"]


# --------------------------------------------------------------------------- output into run.log


def _prints_everywhere() -> int:
    """Run in a trial process: Python's stdout and stderr, and raw writes to descriptors 1 and 2
    (as TensorFlow's and LightGBM's C++ code write)."""
    import sys

    print("python stdout line")
    print("python stderr line", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(1, b"fd 1 line\n")
    os.write(2, b"fd 2 line\n")
    return os.getpid()


def test_a_trial_process_writes_into_run_log_not_the_terminal(tmp_path: Path, capfd) -> None:
    from seqexp.tuning.trials import TrialPool

    cfg = validate_config(yaml.safe_load(LIGHTGBM_TUNE))
    log = tmp_path / "run.log"
    pool = TrialPool(cfg, None, log)
    try:
        assert pool.run(_prints_everywhere) != os.getpid()
    finally:
        pool.close()
    text = log.read_text()
    for line in ("python stdout line", "python stderr line", "fd 1 line", "fd 2 line"):
        assert line in text, line
    shown = capfd.readouterr()  # the child shares this process's descriptors unless redirected
    assert "line" not in shown.out + shown.err


def test_keras_tuner_prints_and_warnings_go_into_the_log(tmp_path: Path, capsys) -> None:
    import warnings

    from seqexp.tuning.chatter import into_log

    log = tmp_path / "run.log"
    with into_log(log):
        print("Reloading Tuner from x/tuner0.json")
        print("\x1b[2K\x1b[2KTrial 1 Complete [00h 00m 01s]\n\n", end="")
        print("no newline at the end", end="")
        warnings.warn("an old argument", UserWarning, stacklevel=1)
    assert capsys.readouterr().out == ""
    lines = [line.split(" ", 1)[1] for line in log.read_text().splitlines()]
    assert lines[:3] == ["keras-tuner: Reloading Tuner from x/tuner0.json",
                         "keras-tuner: Trial 1 Complete [00h 00m 01s]",
                         "keras-tuner: no newline at the end"]  # fmt: skip
    assert lines[3].startswith("keras-tuner: UserWarning: an old argument")


# --------------------------------------------------------------------------- floats as sampled


@pytest.mark.parametrize(
    ("dist", "raw", "expected"),
    [
        ({"float": [0.0, 0.5], "step": 0.1}, 0.30000000000000004, 0.3),
        ({"float": [0.05, 0.45], "step": 0.1}, 0.15000000000000002, 0.15),
        ({"float": [0.0, 0.5], "step": 0.05}, 0.35000000000000003, 0.35),
        ({"float": [1.0e-4, 1.0e-2], "log": True}, 0.0012345678, 0.001235),
        ({"float": [0.01, 10.0], "log": True}, 3.14159265, 3.142),
        ({"float": [0.0, 0.5]}, 0.123456789, 0.1235),
        ({"float": [100.0, 100.1]}, 100.0123456, 100.0123),
        ({"float": [0.001, 10.0]}, 0.0012345, 0.001),  # never below the places of lo
        ({"float": [0.5, 1.0]}, 0.99999, 1.0),
    ],
)
def test_floats_are_rounded_to_the_precision_they_were_sampled_at(
    dist: dict, raw: float, expected: float
) -> None:
    assert space_mod.decode(Distribution.model_validate(dist), raw) == expected


def test_keras_tuner_samples_decode_to_short_floats() -> None:
    import keras_tuner as kt

    grid = Distribution.model_validate({"float": [0.0, 0.5], "step": 0.1})
    log = Distribution.model_validate({"float": [1.0e-4, 1.0e-2], "log": True})
    hp = kt.HyperParameters()
    hp.Float("a", 0.0, 0.5, step=0.1)
    hp.Float("b", 1.0e-4, 1.0e-2, sampling="log")
    a, b = hp.space
    raw = [a.prob_to_value(p) for p in np.linspace(0, 1, 51)]
    assert any(len(repr(v)) > 5 for v in raw)  # keras-tuner's own values carry float noise
    decoded = {space_mod.decode(grid, v) for v in raw}
    assert 0.3 in decoded and decoded == {round(v, 1) for v in raw}
    assert all(len(repr(v)) == 3 for v in decoded)
    for p in np.linspace(0.01, 0.99, 25):
        value = space_mod.decode(log, b.prob_to_value(p))
        assert value == float(f"{value:.4g}") and 1.0e-4 <= value <= 1.0e-2


# --------------------------------------------------------------------------- readable figures

SPACE = {
    "train.learning_rate": {"float": [1.0e-4, 1.0e-2], "log": True},
    "model.learning_rate": {"float": [0.01, 0.2], "log": True},
    "model.lambda_l2": {"float": [0.001, 10.0], "log": True},
    "model.min_child_samples": {"int": [10, 200], "log": True},
    "model.subsample": {"float": [0.6, 0.9], "log": True},
    "model.tiny": {"float": [1.0e-7, 1.0], "log": True},
    "model.num_leaves": {"int": [4, 9]},
    "model.dropout": {"float": [0.0, 0.5], "step": 0.05},
    "balance.name": {"choice": ["smote", "class_weight", "none"]},
}


def _search(trials: int) -> tuple[list[dict[str, Any]], Any]:
    tune = _tune_of(SPACE)
    rng = np.random.default_rng(0)
    rows = []
    for i in range(trials):
        values = {}
        for key, dist in tune.space.items():
            if dist.kind == "choice":
                values[key] = dist.choice[i % len(dist.choice)]
            else:
                lo, hi = dist.int_range or dist.float_range
                u = rng.uniform()
                x = math.exp(math.log(lo) + u * math.log(hi / lo)) if dist.log else lo + u * (hi - lo)
                values[key] = round(x) if dist.kind == "int" else x
        rows.append(
            {"trial_id": str(i), "status": "completed", "objective": float(rng.uniform()), "_values": values}
        )
    return rows, tune


def _tune_of(space: dict) -> Any:
    from seqexp.tuning.config import TuneConfig

    return TuneConfig.model_validate({"tuner": "random", "space": space})


def _drawn(fig: Any) -> Any:
    """The figure as ``save`` writes it (its tick tidying and layout), drawn."""
    from seqexp.reporting.figures import tidy_ticks

    for ax in fig.axes:
        tidy_ticks(ax)
    fig.tight_layout()
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _labels(ax: Any, renderer: Any) -> list[tuple[str, Any]]:
    """The x tick labels shown (major and minor, inside the view) and where they are drawn."""
    lo, hi = sorted(ax.get_xlim())
    shown = []
    for tick in [*ax.xaxis.get_major_ticks(), *ax.xaxis.get_minor_ticks()]:
        label = tick.label1
        if label.get_visible() and label.get_text() and lo <= tick.get_loc() <= hi:
            shown.append((label.get_text(), label.get_window_extent(renderer)))
    return shown


def test_searched_value_axes_have_labels_that_never_overlap() -> None:
    from seqexp.reporting.figures import pyplot
    from seqexp.tuning.plots import space_figure

    rows, tune = _search(12)
    fig = space_figure(rows, tune)
    try:
        renderer = _drawn(fig)
        for ax in fig.axes[: len(SPACE)]:
            labels = _labels(ax, renderer)
            key = ax.get_title()
            assert len(labels) >= 2, (key, [t for t, _ in labels])
            boxes = sorted((box for _, box in labels), key=lambda b: b.x0)
            for left, right in zip(boxes, boxes[1:], strict=False):
                assert left.x1 <= right.x0 + 0.5, (key, [t for t, _ in labels])
            if SPACE[key].get("int"):
                assert all(float(t).is_integer() for t, _ in labels), (key, [t for t, _ in labels])
    finally:
        pyplot().close(fig)


def test_the_trial_axis_counts_whole_trials() -> None:
    from seqexp.reporting.figures import pyplot
    from seqexp.tuning.plots import objective_figure

    for trials in (2, 3, 7, 40):
        rows, tune = _search(trials)
        fig = objective_figure(rows, tune)
        try:
            (ax,) = fig.axes
            labels = [text for text, _ in _labels(ax, _drawn(fig))]
            assert labels and all(re.fullmatch(r"\d+", t) for t in labels), (trials, labels)
            assert int(labels[0]) >= 1 and int(labels[-1]) <= trials
        finally:
            pyplot().close(fig)
