"""``seqexp explain``'s work: why a run's model scores as it does, globally and per customer.

1. The run's validation split is rebuilt exactly as at training (its config, data and split) and
   scaled with the saved scaling; permutation importance is measured on it (``importance``).
2. The customers to explain (the run's test split, or new data encoded with the run's schema) get
   their top reasons (``rows``, ``reasons``), chunk by chunk.
3. Everything goes to ``RUN/explanations/<timestamp>-<test|input name>/``: ``importance.csv``, the
   two figures, ``reasons.csv``, and ``explanation.json`` written last (its presence: complete).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.data.dataset import Dataset
from seqexp.errors import UserError
from seqexp.explain.contributions import require_explainable
from seqexp.explain.importance import Importance, permutation_importance
from seqexp.explain.layout import Layout
from seqexp.explain.reasons import Reason
from seqexp.explain.rows import completeness_gap, explain_chunks, method_of
from seqexp.runfolder import atomic, files, lifecycle
from seqexp.runfolder.reader import SavedRun, open_run

SHOWN = 6  # importances and example reasons on the terminal


@dataclass
class Explanation:
    folder: Path
    part: str
    rows: int
    top: int
    method: str
    base_pr_auc: float
    importance: list[Importance]
    examples: list[tuple[str, float, list[Reason]]] = field(default_factory=list)  # highest scores
    notes: list[str] = field(default_factory=list)
    gap: float = 0.0  # the largest |sum of contributions - (output - bias)|, log-odds

    def lines(self) -> list[str]:
        """The summary for the terminal (the folder is printed after it)."""
        features = [r for r in self.importance if r.kind == "feature"]
        steps = sorted((r for r in self.importance if r.kind == "step"), key=lambda r: r.age or 0)
        out = [f"explained {self.rows} {self.part} customer(s), top {self.top} reasons each: {self.method}"]
        if self.gap > 1e-6:  # integrated gradients: how far the contributions are from adding up
            out[0] += f" (they add up to the score's log-odds within {self.gap:.3f})"
        shown = ", ".join(f"{r.name} {r.drop:+.3f}" for r in features[:SHOWN])
        out.append(f"importance on validation (PR-AUC {self.base_pr_auc:.3f}, drop when shuffled): {shown}")
        if steps:
            shown = ", ".join(f"{r.age}: {r.drop:+.3f}" for r in steps[:SHOWN])
            out.append(f"importance by event (1 = the latest): {shown}")
        for who, score, reasons in self.examples:
            out.append(f"{who} (score {score:.3f}):")
            out += [f"  {rank}. {r.text}" for rank, r in enumerate(reasons, start=1)]
        return out


def explain_run(
    run_dir: Path,
    source: Path | None = None,
    *,
    top: int = 3,
    trust: bool = False,
    as_of: str | None = None,
    repeats: int = 5,
    alpha_steps: int = 32,
) -> Explanation:
    """Explain a completed run: importance on its validation split, reasons for its test split
    (``source`` None) or for the customers in ``source`` (a data config or file, as for predict)."""
    if top < 1:
        raise UserError(f"--top: give at least 1 reason per customer (got {top})")
    run = open_run(run_dir, trust=trust)
    kind = require_explainable(run)
    layout = Layout.of_run(run)
    notes: list[str] = []
    data, split = _own_split(run, notes)
    if source is None:
        if as_of is not None:
            raise UserError("--as-of: goes with INPUT (new customers); the run's test split is as trained")
        part, target = "test", data.subset(split.test)
    else:
        from seqexp.pipeline.encode import build_input, data_config_for

        part, target = "data", build_input(run, data_config_for(run, source, as_of), labelled=False)
    val = data.subset(split.val)
    try:
        base, importance = permutation_importance(
            run.scorer, run.scaler.transform(val.X, val.mask), val.y, layout,
            mask=val.mask, repeats=repeats, seed=run.cfg.seed,
        )  # fmt: skip
    except ValueError as exc:
        raise UserError(f"{run.folder}: {exc}") from None
    importance.sort(key=lambda r: (r.kind != "feature", -r.drop if r.kind == "feature" else r.age or 0))
    folder = lifecycle.create_run_dir(
        run.folder / files.EXPLANATIONS, part if source is None else Path(source).stem
    )
    method = method_of(kind, layout, alpha_steps)
    explanation = Explanation(folder, part, len(target.y), top, method, base, importance, notes=notes)
    _write_reasons(run, target, layout, explanation, labelled=source is None, alpha_steps=alpha_steps)
    _write_importance(run, explanation, repeats)
    atomic.write_json(folder / files.EXPLANATION_JSON, {  # written last: the folder is complete
        "run": str(run.folder), "finished": lifecycle.now_iso(), "part": part,
        "source": str(source) if source is not None else "the run's own test split",
        "rows": explanation.rows, "top": top, "method": method, "model": kind,
        "completeness_gap_max": explanation.gap, "notes": notes,
        "importance": {"split": "val", "rows": len(val.y), "pr_auc": base, "repeats": repeats,
                       "seed": run.cfg.seed, "metric": "drop in PR-AUC (average precision)"},
        "features": layout.names,
    })  # fmt: skip
    return explanation


def _own_split(run: SavedRun, notes: list[str]) -> tuple[Dataset, Any]:
    """The run's data and split rebuilt from its config (a note when the data changed)."""
    from seqexp.pipeline.encode import with_graph
    from seqexp.pipeline.prepare import load_dataset, make_split

    data = with_graph(run, load_dataset(run.cfg))  # data.graph: its columns from the saved factors
    fingerprint = data.fingerprint()
    if run.record.get("data_fingerprint") not in (None, fingerprint):
        notes.append(
            f"the data changed since training (fingerprint {fingerprint}, run has "
            f"{run.record['data_fingerprint']}); importance is measured on today's validation rows"
        )
    return data, make_split(run.cfg, data)


def _write_reasons(
    run: SavedRun,
    data: Dataset,
    layout: Layout,
    explanation: Explanation,
    *,
    labelled: bool,
    alpha_steps: int,
) -> None:
    """``reasons.csv``: one row per customer and reason (rank 1 = the largest contribution)."""
    header = ["id", *(["y_true"] if labelled else []), "score", "probability", "rank", "reason",
              "feature", "level", "ages", "contribution"]  # fmt: skip
    best: list[tuple[float, str, list[Reason]]] = []
    gaps = [0.0]
    path = explanation.folder / files.REASONS_CSV
    with atomic.atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for chunk in explain_chunks(run, data, layout, explanation.top, alpha_steps=alpha_steps):
            probabilities = run.probabilities(chunk.scores)
            gaps.append(float(completeness_gap(chunk.attribution).max(initial=0.0)))
            for i, reasons in enumerate(chunk.reasons):
                first = [chunk.ids[i], *([int(chunk.y[i])] if labelled else [])]
                score = f"{chunk.scores[i]:.6f}"
                p = f"{probabilities[i]:.6f}"
                for rank, r in enumerate(reasons, start=1):
                    ages = " ".join(map(str, r.ages))
                    writer.writerow(
                        [*first, score, p, rank, r.text, r.feature, r.level, ages, f"{r.contribution:.6g}"]
                    )
            for i in np.argsort(-chunk.scores, kind="stable")[:3]:
                best.append((float(chunk.scores[i]), str(chunk.ids[i]), chunk.reasons[i]))
    best.sort(key=lambda b: -b[0])
    explanation.examples = [(who, score, reasons) for score, who, reasons in best[:3]]
    explanation.gap = max(gaps)


def _write_importance(run: SavedRun, explanation: Explanation, repeats: int) -> None:
    from seqexp.explain.figures import plot_feature_importance, plot_step_importance
    from seqexp.reporting.figures import figure_title

    folder = explanation.folder
    rows: list[list[Any]] = [["kind", "name", "age", "pr_auc_drop", "std", "repeats", "rows"]]
    for r in explanation.importance:
        age = "" if r.age is None else r.age
        rows.append([r.kind, r.name, age, f"{r.drop:.6f}", f"{r.std:.6f}", repeats, r.rows])
    with atomic.atomic_path(folder / files.IMPORTANCE_CSV) as tmp, tmp.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    title = figure_title(run.folder.name, run.metrics.get("model"), run.cfg.data.name)
    plot_feature_importance(explanation.importance, explanation.base_pr_auc,
                            folder / files.IMPORTANCE_FEATURES_PNG, title)  # fmt: skip
    if any(r.kind == "step" for r in explanation.importance):
        plot_step_importance(explanation.importance, explanation.base_pr_auc,
                             folder / files.IMPORTANCE_STEPS_PNG, title)  # fmt: skip
