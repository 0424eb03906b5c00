"""A run's figures as their reader sees them: classes by the names the config gives them (bank
marketing's "no"/"yes", not 0/1), the run, model and data in every title, legends off the data; and
as the run pays for them: each figure drawn once, no pyplot figure left behind, no layout pass."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seqexp.config.loading import load_config
from seqexp.reporting import confusion, decision_figures, figures
from seqexp.tasks import BinaryTask, MulticlassTask, task_for, task_of
from seqexp.tasks.base import Decision
from seqexp.tasks.calibration import fit as fit_calibrator
from seqexp.tasks.class_names import ClassNames, binary_names


def _scores(rng: np.random.Generator, n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    y = (rng.random(n) < 0.15).astype(int)
    return y, np.clip(rng.normal(0.3 + 0.25 * y, 0.2), 0, 1)


@pytest.fixture
def kept(monkeypatch) -> list:
    """Every figure the run code saves, kept (and still written) for the test to read."""
    figures_kept: list = []
    real = figures.save

    def save(fig, path, tight=True):
        figures_kept.append(fig)
        real(fig, path, tight=tight)

    for module in (figures, confusion, decision_figures):
        monkeypatch.setattr(module, "save", save)
    return figures_kept


def _ticks(ax, axis: str = "x") -> list[str]:
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [label.get_text() for label in labels]


def _confusion_of(kept: list) -> object:
    (fig,) = [f for f in kept if f.get_suptitle().startswith("confusion matrix")]
    return fig


# --------------------------------------------------------------------------- names from the config


def _data(tmp_path: Path, data: dict) -> object:
    files = {"t.csv": "y\n1\n", "log.csv": "id,t\n1,2024-01-01\n", "l.csv": "id,label\n1,1\n"}
    for name, text in files.items():
        if not (tmp_path / name).exists():  # a test's own file stays
            (tmp_path / name).write_text(text)
    text = f"name: x\ndata: {json.dumps(data)}\nmodel: {{name: logistic_regression}}\n"  # JSON is YAML
    (tmp_path / "c.yaml").write_text(text)
    return load_config(tmp_path / "c.yaml").data


def test_binary_class_names_come_from_the_data_config(tmp_path: Path) -> None:
    table = _data(tmp_path, {"name": "table", "path": "t.csv", "target": "y", "positive": "yes"})
    assert binary_names(table, {"positive": "yes", "negative": "no"}) == ClassNames(("no", "yes"), "y")
    assert binary_names(table, {"positive": "yes"}).names == ("not yes", "yes")  # more than two values
    plain = _data(tmp_path, {"name": "table", "path": "t.csv", "target": "y"})
    assert binary_names(plain, {"positive": 1}).names == ("0", "1")  # a 0/1 column: its own values
    events = {"name": "events", "path": "log.csv", "id": "id", "time": "t"}
    window = _data(tmp_path, {**events, "labels": {"cutoff": "2024-02-01", "horizon_days": 28,
                                                   "where": "t > '2024-01-01'"}})  # fmt: skip
    assert binary_names(window) == ClassNames(("no", "yes"), "t > '2024-01-01' within 28 days of the cutoff")
    to_end = _data(tmp_path, {**events, "labels": {"cutoff": "2024-02-01", "horizon_days": None}})
    assert binary_names(to_end).target == "any event from the cutoff to the end of the log"
    labelled = _data(tmp_path, {**events, "labels": {"path": "l.csv", "column": "response", "positive": 1}})
    assert binary_names(labelled) == ClassNames(("0", "1"), "response")
    synthetic = _data(tmp_path, {"name": "synthetic_transactions", "customers": 100})
    assert binary_names(synthetic) == ClassNames(("negative", "positive"), None)


def test_a_table_records_its_other_target_value(tmp_path: Path) -> None:
    from seqexp.data.table import build_table

    (tmp_path / "t.csv").write_text("a,y\n1,yes\n2, no\n3,no\n4,yes\n")
    (tmp_path / "u.csv").write_text("a,y\n1,gold\n2,silver\n3,bronze\n4,gold\n")
    two = _data(tmp_path, {"name": "table", "path": "t.csv", "target": "y", "positive": "yes"})
    assert build_table(two, seed=0).schema["negative"] == "no"
    three = _data(tmp_path, {"name": "table", "path": "u.csv", "target": "y", "positive": "gold",
                             "target_type": "binary"})  # fmt: skip
    assert "negative" not in build_table(three, seed=0).schema  # silver and bronze: "not gold"


def test_metrics_json_carries_the_names_to_every_later_verb() -> None:
    task = task_for(None, ClassNames(("no", "yes"), "y"))
    header = task.header(Decision(0.4, "max_f1 on validation"))
    assert header["class_names"] == ["no", "yes"] and header["target"] == "y"
    again = task_of(header)
    assert isinstance(again, BinaryTask) and again.names == ("no", "yes") and again.target == "y"
    old = task_of({"threshold": 0.5, "threshold_rule": "fixed 0.5"})  # a run from before names
    assert isinstance(old, BinaryTask) and old.names == ("negative", "positive")


# --------------------------------------------------------------------------- the confusion matrix


def test_the_binary_confusion_matrix_names_the_classes(kept: list, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    parts = {"val": _scores(rng), "test": _scores(rng)}
    title = figures.figure_title("bank_run", "lightgbm", "table")
    task = BinaryTask(("no", "yes"), "y")
    task.write_figures(tmp_path, parts, Decision(0.45, "max_f1"), "val", title=title)
    fig = _confusion_of(kept)
    counts, shares = fig.axes
    assert _ticks(counts) == _ticks(shares) == ["no", "yes"] and _ticks(counts, "y") == ["no", "yes"]
    assert "test, threshold 0.450 · target y" in fig.get_suptitle() and "bank_run" in fig.get_suptitle()
    y, s = parts["test"]
    cells = [float(t.get_text()) for t in counts.texts]
    assert cells == [((y == a) & ((s >= 0.45) == b)).sum() for a in (0, 1) for b in (0, 1)]
    # Classes nobody named: the words, and the 0/1 that predictions.csv uses
    kept.clear()
    BinaryTask().write_figures(tmp_path, parts, Decision(0.45, "max_f1"), "val", title=title)
    assert _ticks(_confusion_of(kept).axes[0]) == ["negative (0)", "positive (1)"]


def test_the_multiclass_confusion_matrix_names_the_classes(kept: list, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    names = ["gold", "silver", "a much longer class name", "(other)"]
    y = rng.integers(0, 4, 300)
    proba = rng.dirichlet(np.ones(4), 300)
    task = MulticlassTask(names)
    task.write_figures(tmp_path, {"test": (y, proba)}, task.decide(0.5, y, proba), "val", title="r · m · d")
    fig = _confusion_of(kept)
    assert _ticks(fig.axes[0]) == [confusion.tick_text(n) for n in names]
    assert _ticks(fig.axes[0], "y") == [confusion.tick_text(n) for n in names]
    assert "a much longer\nclass name" in _ticks(fig.axes[0])  # wrapped, never cut
    fig.canvas.draw()  # every tick label inside the figure
    for label in [*fig.axes[0].get_xticklabels(), *fig.axes[0].get_yticklabels()]:
        box = label.get_window_extent()
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.width, label.get_text()
    many = [f"shop_{i}" for i in range(20)]  # past 15 classes: a heat map, still named
    kept.clear()
    y, proba = rng.integers(0, 20, 400), rng.dirichlet(np.ones(20), 400)
    MulticlassTask(many).write_figures(tmp_path, {"test": (y, proba)}, task.decide(0.5, y, proba), "val")
    assert _ticks(_confusion_of(kept).axes[0]) == many


def test_a_table_run_shows_its_target_values(tmp_path: Path, monkeypatch) -> None:
    """End to end: a table with "yes"/"no" trained as a user would; its confusion figure and
    metrics.json say no and yes."""
    from seqexp.pipeline.train import train_experiment

    rng = np.random.default_rng(2)
    x = rng.normal(size=400)
    label = np.where(x + rng.normal(scale=0.8, size=400) > 1.0, "yes", "no")
    rows = "".join(f"{a:.4f},{b}\n" for a, b in zip(x, label, strict=True))
    (tmp_path / "bank.csv").write_text("x,y\n" + rows)
    (tmp_path / "c.yaml").write_text(
        "name: bank\ndata: {name: table, path: bank.csv, target: y, positive: 'yes'}\n"
        "model: {name: logistic_regression}\nevaluate: {threshold: max_f1, baseline: none}\n"
    )
    saved: list = []
    real = figures.save
    monkeypatch.setattr(confusion, "save", lambda fig, path, tight=True: (saved.append(fig), real(fig, path)))
    run = train_experiment(load_config(tmp_path / "c.yaml"), runs_dir=tmp_path / "runs")
    assert run.metrics["class_names"] == ["no", "yes"] and run.metrics["target"] == "y"
    (fig,) = saved
    assert _ticks(fig.axes[0]) == ["no", "yes"] and run.run_dir.name in fig.get_suptitle()
    assert (run.run_dir / "confusion_matrix.png").is_file()


# --------------------------------------------------------------------------- what the run pays


def _run_figures(folder: Path) -> None:
    rng = np.random.default_rng(3)
    parts = {"val": _scores(rng), "test": _scores(rng)}
    calibrator = fit_calibrator("sigmoid", *parts["val"], prior=(0.15, 0.15))
    costs = load_config_costs()
    title = figures.figure_title("run", "model", "data")
    BinaryTask(("no", "yes"), "y").write_figures(
        folder, parts, Decision(0.4, "max_f1"), "val", calibrator=calibrator, costs=costs, title=title
    )
    history = [{"epoch": i, "loss": 1 / i, "val_loss": 1.2 / i} for i in range(1, 9)]
    figures.plot_history(history, folder / "history.png", "val_loss", "min", title=title)


def load_config_costs():
    from seqexp.config.sections import EvaluateConfig

    return EvaluateConfig(costs={"tp": 50, "fp": -5}).costs


def test_each_figure_is_drawn_once_without_pyplot_or_layout_passes(monkeypatch, tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    drawn: list[int] = []
    real_draw = Figure.draw

    def draw(self, renderer):
        drawn.append(id(self))
        return real_draw(self, renderer)

    monkeypatch.setattr(Figure, "draw", draw)
    monkeypatch.setattr(Figure, "tight_layout", lambda self, *a, **k: pytest.fail("a layout pass"))
    plt = figures.pyplot()
    open_before = plt.get_fignums()
    _run_figures(tmp_path)
    written = sorted(p.name for p in tmp_path.glob("*.png"))
    assert written == ["calibration.png", "confusion_matrix.png", "gains_lift.png", "history.png",
                       "pr_curve.png", "profit_curve.png", "roc_curve.png",
                       "threshold_curve.png"]  # fmt: skip
    assert len(drawn) == len(set(drawn)) == len(written)  # one draw per file: calibration not twice
    assert plt.get_fignums() == open_before  # no figure left in pyplot's keeping


def test_every_run_figure_is_titled_with_its_legend_off_the_data(kept: list, tmp_path: Path) -> None:
    from PIL import Image

    _run_figures(tmp_path)
    assert len(kept) == 8
    for fig in kept:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        texts = " ".join([fig.get_suptitle(), *(ax.get_title() for ax in fig.axes)])
        assert "run · model · data" in texts, texts
        legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
        is_confusion = fig.get_suptitle().startswith("confusion matrix")
        assert legends or is_confusion  # a confusion matrix has no legend
        for legend in legends:
            box = legend.get_window_extent(renderer)
            assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.width + 1  # on the page
            for ax in fig.axes:
                assert not box.overlaps(ax.get_window_extent(renderer)), "a legend over the data"
    for path in tmp_path.glob("*.png"):
        assert round(Image.open(path).info["dpi"][0]) == 150, path.name


def test_history_names_its_steps_and_drops_markers_on_long_runs(kept: list, tmp_path: Path) -> None:
    rounds = [{"epoch": i, "loss": 1 / i, "val_loss": 1 / i + i / 4000} for i in range(1, 301)]
    figures.plot_history(rounds, tmp_path / "h.png", "val_loss", "min", title="t", step="boosting round")
    (fig,) = kept
    ax = fig.axes[0]
    assert ax.get_xlabel() == "boosting round"
    assert all(line.get_marker() in ("None", None, "") for line in ax.get_lines())
    assert "best boosting round 63" in [t.get_text() for t in ax.get_legend().get_texts()]
