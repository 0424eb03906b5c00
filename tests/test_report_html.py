"""The HTML report of ``seqexp compare`` as someone receiving it sees it: a summary first, readable
headers, the runs' curves overlaid, how their configs differ, failed runs' errors on the page, every
figure embedded (and loading) in a real browser (headless Chromium), no sideways scrolling at 1400
or at A4 width, and an A4 PDF when printed. And the figures themselves: titles, legends outside the
data, 150 dpi, whole-number ticks. CI fails, not skips, without Chromium (tests.conftest.require)."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import TINY, require, run_cli

LOGREG = ["--set", "model={name: logistic_regression}"]
PROBE = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  document.body.setAttribute("data-probe", JSON.stringify({
    scroll: document.documentElement.scrollWidth, viewport: window.innerWidth, images: images.length,
    hidden: [...document.querySelectorAll(".scroll")].filter((d) => d.scrollWidth > d.clientWidth).length,
    loaded: images.filter((i) => i.complete && i.naturalWidth > 0).length}));
});
</script>"""


def _train(runs: Path, *extra: str) -> Path:
    result = run_cli("train", str(TINY), "--runs-dir", str(runs), "-q", *extra)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip())


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A report on tiny runs: two logistic regressions that differ in C, gradient boosting (with a
    baseline beside it), seeds, an ensemble, a failed run and a run on other data."""
    runs = tmp_path_factory.mktemp("runs")
    a = _train(runs, *LOGREG, "--set", "name=logreg")
    b = _train(runs, *LOGREG, "--set", "name=logreg_c01", "--set", "model.C=0.1")
    _train(runs, "--set", "model={name: gradient_boosting}", "--set", "name=gbm")
    _train(runs, *LOGREG, "--set", "name=seeds", "--seeds", "2")
    _train(runs, *LOGREG, "--set", "name=other", "--set", "data.positive_rate=0.3")
    assert run_cli("ensemble", str(a), str(b), "--runs-dir", str(runs), "-q").returncode == 0
    assert (
        run_cli("train", str(TINY), "--runs-dir", str(runs), "--set", "balance.k_neighbors=500").returncode
        == 2
    )
    out = tmp_path_factory.mktemp("report")
    result = run_cli("compare", "--all", "--runs-dir", str(runs), "-o", str(out))
    assert result.returncode == 0, result.stderr
    return out / "report.html"


def test_the_page_reads_top_down_for_someone_who_was_not_there(report: Path) -> None:
    page = report.read_text()
    summary, first_board = page.index('id="summary"'), page.index('class="leaderboard"')
    assert summary < first_board  # the summary first
    card = page[summary:first_board]
    assert "synthetic_transactions" in card and "Positive rate" in card and "holdout 80/10/10" in card
    assert "Best run" in card and "baseline logistic_regression" in card  # gbm's baseline, judged
    assert "Different data." in page[:summary]  # the warning before any ranking
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", page)
    assert "PR-AUC" in headers and "ROC-AUC" in headers
    assert not [h for h in headers if re.fullmatch(r"[a-z]+(_[a-z]+)+", h)], headers  # no snake_case
    errors = re.findall(r'<pre class="error">(.*?)</pre>', page, re.S)
    assert len(errors) == 1 and "k_neighbors" in errors[0]  # the failure in plain sight, not a tooltip
    assert "model.C: 0.1" in page and "ensemble (mean) of 2 runs" in page  # how configs differ
    assert "±" in page  # the seeds' spread
    assert "data" not in headers  # each section's header names its data: no column repeats it
    assert not re.search(r'(src|href)="(https?:)?//', page)  # self-contained


def test_every_figure_is_embedded_and_readable(report: Path) -> None:
    from PIL import Image

    images = re.findall(r'src="data:image/png;base64,([^"]+)"', report.read_text())
    assert len(images) == 4  # ROC and PR curves for each of the two data sets
    for data in images:
        image = Image.open(io.BytesIO(base64.b64decode(data)))
        assert image.size[0] >= 900 and round(image.info["dpi"][0]) == 150


def _group(**values) -> dict:
    row = {"name": "g", "kind": "seeds", "pr_auc": 0.483, "baseline_pr_auc": 0.476, "pr_auc_std": 0.003,
           "baseline_pr_auc_std": 0.001, "baseline_model": "gradient_boosting"}  # fmt: skip
    return {**row, **values}


def test_seeds_on_one_split_beat_a_baseline_only_when_their_paired_intervals_agree() -> None:
    """Seeds share one test split: a gap over twice their spread is not enough when every seed's
    paired bootstrap on that split says unclear (bank marketing LightGBM, 3 seeds: +0.008)."""
    from seqexp.reporting.html_report import baseline_verdict

    text, tone = baseline_verdict(_group(beats_baseline="unclear"))
    assert tone == "unclear" and text.startswith("not clearly better") and "share one test split" in text
    assert baseline_verdict(_group())[1] == "unclear"  # the seeds disagree, or recorded no interval
    assert baseline_verdict(_group(beats_baseline="yes"))[1] == "good"
    assert baseline_verdict(_group(kind="folds"))[1] == "good"  # folds test on different rows


def test_config_differences_name_members_readably_and_skip_unread_train_settings() -> None:
    from seqexp.reporting.html_report import differences

    train = {"epochs": 30, "early_stopping": {"monitor": "val_loss"}}
    rows = [
        {"name": "lgbm", "kind": "seeds", "model": "lightgbm",
         "_config": {"model": {"name": "lightgbm"}, "train": train}},
        {"name": "dense", "kind": "run", "model": "dense",
         "_config": {"model": {"name": "dense"}, "train": {**train, "epochs": 3}}},
        {"name": "ens", "kind": "ensemble", "model": "ensemble (mean)", "_config": {"ensemble": {
            "members": ["/r/20261202-133958-bank_marketing_lightgbm", "/r/20261202-134125-dense"]}}},
    ]  # fmt: skip
    shown = {d["name"]: d["values"] for d in differences(rows)["runs"]}
    assert shown["lgbm"] == ["model.name: lightgbm"]  # LightGBM never reads train.epochs
    members = "12-02 13:39 bank_marketing_lightgbm, 12-02 13:41 dense"  # as the leaderboard names them
    assert shown["ens"] == [f"ensemble (mean) of 2 runs: {members}"]


def test_an_out_of_time_protocol_names_its_cutoffs() -> None:
    from seqexp.reporting.data_card import data_info

    split = {"method": "time", "customers": "shared", "val_cutoff": "2001-01-04T00:00:00",
             "train_cutoffs": ["2000-11-16T00:00:00", "2000-12-07T00:00:00"],
             "test_cutoff": "2001-02-01T00:00:00"}  # fmt: skip
    info = data_info({"split": {"method": "time", "customers": "shared"}}, {"split": split})
    assert info["protocol"] == ("out of time: trained on cutoffs 2000-11-16 to 2000-12-07, validated on "
                                "2001-01-04, tested on 2001-02-01 (customers shared)")  # fmt: skip
    assert info["family"] == "out of time"


def _browser() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    require("chromium", browser is not None, "apt-get install chromium")
    assert browser is not None
    return browser


FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--allow-file-access-from-files"]


def _probe(report: Path, width: int, tmp_path: Path, printed: bool = False) -> dict:
    """What Chromium shows at ``width`` px; ``printed``: with the print style applied on screen."""
    probed = tmp_path / f"probe-{width}.html"
    page = report.read_text().replace("</body>", PROBE + "</body>")
    probed.write_text(page.replace("@media print", "@media all") if printed else page)
    dom = subprocess.run(
        [_browser(), *FLAGS, f"--window-size={width},900", "--virtual-time-budget=5000", "--dump-dom",
         probed.as_uri()], capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    found = re.search(r'data-probe="([^"]+)"', dom)
    assert found, f"the page did not load in Chromium: {dom[:500]}"
    return json.loads(found.group(1).replace("&quot;", '"'))


@pytest.mark.parametrize("width", [1400, 800])  # a 1400 px window, and about A4's width (794 px)
def test_chromium_loads_every_image_and_never_scrolls_sideways(
    report: Path, width: int, tmp_path: Path
) -> None:
    seen = _probe(report, width, tmp_path)
    assert seen["images"] == 4 and seen["loaded"] == 4, seen
    assert seen["scroll"] <= seen["viewport"] == width, seen
    if width == 1400:  # and no table hides columns behind a scroll bar
        assert seen["hidden"] == 0, seen


def test_it_prints_on_a4(report: Path, tmp_path: Path) -> None:
    seen = _probe(report, 703, tmp_path, printed=True)  # A4 less 12 mm margins: 186 mm = 703 px
    assert seen["scroll"] <= 703 and seen["hidden"] == 0 and seen["loaded"] == 4, seen
    pdf = tmp_path / "report.pdf"
    subprocess.run([_browser(), *FLAGS, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.as_uri()],
                   capture_output=True, timeout=120)  # fmt: skip
    data = pdf.read_bytes()
    boxes = {
        tuple(round(float(v)) for v in box)
        for box in re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", data)
    }
    assert boxes == {(596, 842)} or boxes == {(595, 842)}, boxes  # A4 in points, every page
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 2


def test_a_screenshot_shows_the_figures(report: Path, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / "shot.png"
    subprocess.run([_browser(), *FLAGS, f"--screenshot={shot}", "--window-size=1400,2400", report.as_uri()],
                   capture_output=True, timeout=120)  # fmt: skip
    pixels = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3).astype(int)
    blue = np.abs(pixels - [31, 119, 180]).max(axis=1) < 12  # the first curve's colour (matplotlib C0)
    assert blue.sum() > 300, "no curve visible in the rendered report"


# --------------------------------------------------------------------------- the figures


def _drawn(monkeypatch, draw) -> list:
    """Draw with ``draw()`` and keep the figures instead of saving them."""
    from seqexp.reporting import figures

    kept: list = []
    monkeypatch.setattr(
        figures, "save", lambda fig, path, tight=True: (figures.tidy_ticks(fig.axes[0]), kept.append(fig))
    )
    import seqexp.reporting.curves as curves

    monkeypatch.setattr(curves, "save", figures.save)
    draw()
    return kept


def _scores(rng: np.random.Generator, n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    y = (rng.random(n) < 0.12).astype(int)
    return y, np.clip(rng.normal(0.3 + 0.25 * y, 0.2), 0, 1)


def test_figures_are_titled_and_keep_legends_off_the_data(monkeypatch, tmp_path: Path) -> None:
    from seqexp.reporting import curves, figures

    rng = np.random.default_rng(0)
    parts = {"val": _scores(rng), "test": _scores(rng)}
    title = figures.figure_title("tiny_logreg", "logistic_regression", "synthetic_transactions")
    history = [{"epoch": i, "loss": 1 / i, "val_loss": 1.1 / i} for i in range(1, 6)]
    runs = [
        curves.Curves("#1 a", [parts["test"]]),
        curves.Curves("#2 b, 2 seeds", [parts["val"], parts["test"]]),
    ]
    kept = _drawn(monkeypatch, lambda: (
        figures.plot_roc(parts, tmp_path / "r.png", title), figures.plot_pr(parts, tmp_path / "p.png", title),
        figures.plot_calibration(parts, tmp_path / "c.png", title=title),
        figures.plot_threshold(*parts["val"], 0.4, tmp_path / "t.png", "val", title),
        figures.plot_history(history, tmp_path / "h.png", "val_loss", "min", title),
        curves.plot_overlay(runs, tmp_path / "o.png", "roc", "synthetic_transactions"),
    ))  # fmt: skip
    assert len(kept) == 6
    for fig in kept:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            legend = ax.get_legend()
            assert legend is not None
            box, inner = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
            assert not box.overlaps(inner), "a legend over the data"
            assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.width + 1  # and on the page
        titles = " ".join([fig.get_suptitle(), *(ax.get_title() for ax in fig.axes)])
        assert "synthetic_transactions" in titles
    assert all("tiny_logreg · logistic_regression" in " ".join([f.get_suptitle(), f.axes[0].get_title()])
               for f in kept[:5])  # fmt: skip


@pytest.mark.parametrize("kind", ["roc", "pr"])
def test_long_run_names_keep_the_whole_legend_on_the_figure(monkeypatch, tmp_path: Path, kind: str) -> None:
    """Real run names (``bank_marketing_lightgbm``, a group's size, an area with its spread) and the
    most curves drawn: no legend text cut off at the figure's edge."""
    from seqexp.reporting import curves

    rng = np.random.default_rng(2)
    runs = [curves.Curves(f"#{i} {curves._short('tafeng_target_oot_lstm_aggregates_v2')}",
                          [_scores(rng, 500) for _ in range(3)], "3 seeds")
            for i in range(1, curves.MAX_RUNS + 1)]  # fmt: skip
    (fig,) = _drawn(monkeypatch, lambda: curves.plot_overlay(runs, tmp_path / "o.png", kind, "table (x.csv)"))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.axes[0].get_legend().get_window_extent(renderer)
    assert box.x0 >= 0 and box.y0 >= 0, box
    assert box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height, (box, fig.bbox)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts[0].startswith("#1 tafeng_target_oot_lstm_aggr") and "\n3 seeds: " in texts[0], texts[0]


def test_figures_are_150_dpi_and_whole_numbers_get_whole_ticks(tmp_path: Path) -> None:
    from PIL import Image

    from seqexp.reporting import figures

    rng = np.random.default_rng(1)
    written = figures.write_score_plots(tmp_path, {"val": _scores(rng), "test": _scores(rng)}, 0.5, "val",
                                        title="run · model · data")  # fmt: skip
    assert written == ["roc_curve.png", "pr_curve.png", "calibration.png", "threshold_curve.png"]
    for name in written:
        image = Image.open(tmp_path / name)
        assert round(image.info["dpi"][0]) == 150 and image.size == (840, 720)
    plt = figures.pyplot()
    fig, ax = plt.subplots()
    ax.scatter([1, 2, 3], [0.2, 0.5, 0.4])  # three trials
    ax.set_xlim(0.8, 3.2)
    figures.tidy_ticks(ax)
    ticks = [t for t in ax.get_xticks() if 0.8 <= t <= 3.2]
    assert ticks and all(float(t).is_integer() for t in ticks)
    plt.close(fig)
