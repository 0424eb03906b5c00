"""The "Graph features" table: test metrics of runs with and without the graph, mean +- std over
seeds, and per seed the paired bootstrap difference against a reference config on the same split.

    python benchmarks/graph_results.py RUNS --reference tafeng_target_lightgbm \
        tafeng_target_graph tafeng_target_gnn

``RUNS`` holds one folder per config (``RUNS/<config name>/<run folder>``, as ``seqexp train
--runs-dir RUNS/<config name>`` makes them); each run's seed is read from its ``run.json``. A run is
paired with the reference's run of the same seed (the same split seed, so the same test customers:
checked), and the paired difference (``--metric``, PR-AUC by default) and its 95% interval come
from seqexp's own paired bootstrap (``seqexp.tasks.bootstrap.paired_difference``, 1000 resamples).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's seqexp

METRICS = ("pr_auc", "roc_auc", "f1")


def runs_of(folder: Path) -> dict[int, Path]:
    """Completed runs of one config by seed (the latest run of a seed wins)."""
    out: dict[int, Path] = {}
    for run in sorted(p for p in folder.iterdir() if (p / "metrics.json").is_file()):
        record = json.loads((run / "run.json").read_text())
        if record.get("status") == "completed":
            out[int(record["seed"])] = run
    return out


def predictions(run: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with (run / "predictions.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    ids = np.array([r["id"] for r in rows])
    order = np.argsort(ids, kind="stable")
    y = np.array([float(r["y_true"]) for r in rows])[order]
    return ids[order], y, np.array([float(r["score"]) for r in rows])[order]


def spread(values: list[float]) -> str:
    return (
        f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"
        if len(values) > 1
        else f"{values[0]:.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", type=Path)
    parser.add_argument("configs", nargs="+")
    parser.add_argument("--reference", required=True, help="The config the others are paired with.")
    parser.add_argument("--metric", default="pr_auc", choices=["pr_auc", "roc_auc"], help="Paired metric.")
    args = parser.parse_args(argv)
    from seqexp.tasks.bootstrap import paired_difference

    reference = runs_of(args.runs / args.reference)
    print(f"| config (test, seeds {sorted(reference)}) | PR-AUC | ROC-AUC | F1 | s a run | "
          f"{args.metric} - {args.reference}, per seed [95% paired interval] |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for name in [args.reference, *args.configs]:
        runs = runs_of(args.runs / name)
        metrics = {s: json.loads((r / "metrics.json").read_text()) for s, r in runs.items()}
        seconds = [json.loads((r / "run.json").read_text()).get("total_seconds", 0.0) for r in runs.values()]
        cells = [spread([m["test"][k] for m in metrics.values()]) for k in METRICS]
        paired = []
        for seed, run in sorted(runs.items()):
            if name == args.reference or seed not in reference:
                continue
            ids_a, y, a = predictions(run)
            ids_b, y_b, b = predictions(reference[seed])
            if not (np.array_equal(ids_a, ids_b) and np.array_equal(y, y_b)):
                raise SystemExit(f"{run} and {reference[seed]} scored different test customers")
            d = paired_difference(y, a, b, metric=args.metric, seed=seed, resamples=1000)
            low, high = d["interval"]
            paired.append(f"{d['difference']:+.3f} [{low:+.3f}, {high:+.3f}]")
        print(f"| {name} | {' | '.join(cells)} | {statistics.mean(seconds):.0f} | {'; '.join(paired)} |")
        baselines = [m["baseline"] for m in metrics.values() if "baseline" in m]
        if baselines and len(baselines) == len(metrics):
            cells = [spread([b["test"][k] for b in baselines]) for k in METRICS]
            print(f"| ... its baseline {baselines[0]['model']} (same rows) | {' | '.join(cells)} | | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
