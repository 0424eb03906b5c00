"""Best single neural model vs a non-neural model vs their best ensemble, N seeds each.

    python benchmarks/bench_ensemble.py configs/lstm_smote.yaml --other logistic_regression \
        --seeds 5 --set data.customers=4000 --set train.epochs=8 --runs-dir runs/bench

Every config is trained with ``--seeds`` seeds on ONE split (``seqexp train --seeds``); the other
model is the first config with ``model`` replaced by ``--other`` (same data, split and balancing).
For seed i, the neural child i and the other model's child i are combined by each ensemble
method; the method with the best mean VALIDATION PR-AUC is "the best ensemble" (chosen without
looking at test). Prints a Markdown table of test mean +- std at the validation-chosen threshold.
Pass several neural configs to pick the best by mean validation PR-AUC; works on any data config.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seqexp.config import load_config  # noqa: E402
from seqexp.ensemble import METHODS, build_ensemble  # noqa: E402
from seqexp.repeats import train_repeats  # noqa: E402

SHOWN = ("pr_auc", "roc_auc", "f1", "mcc")


def spread(values: list[float]) -> str:
    return f"{np.mean(values):.4f} ± {np.std(values, ddof=1):.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("configs", nargs="+", type=Path, help="neural experiment configs")
    parser.add_argument("--other", default="logistic_regression", help="non-neural model name")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/bench"))
    args = parser.parse_args()

    started = time.perf_counter()
    neural = []
    for path in args.configs:
        group = train_repeats(load_config(path, args.overrides), args.seeds, runs_dir=args.runs_dir)
        neural.append((path, group))
        print(f"trained {path}: {group.run_dir}", file=sys.stderr)
    path, best = max(neural, key=lambda item: item[1].summary["mean"]["val"]["pr_auc"])
    other_cfg = load_config(path, [*args.overrides, f"model={{name: {args.other}}}"])
    other = train_repeats(other_cfg, args.seeds, runs_dir=args.runs_dir)
    print(f"trained {args.other}: {other.run_dir}", file=sys.stderr)

    ensembles = {}
    for method in METHODS:
        results = [
            build_ensemble(
                [a, b], method=method, runs_dir=args.runs_dir / "ensembles", name=f"bench-{method}"
            )
            for a, b in zip(best.children, other.children, strict=True)
        ]
        ensembles[method] = [r.metrics for r in results]
    chosen = max(ensembles, key=lambda m: np.mean([x["val"]["pr_auc"] for x in ensembles[m]]))

    def children_metrics(group) -> list[dict]:
        import json

        return [json.loads((child / "metrics.json").read_text()) for child in group.children]

    rows = {
        f"{best.summary['model']} ({path.name})": children_metrics(best),
        args.other: children_metrics(other),
        f"ensemble {chosen} of the two": ensembles[chosen],
    }
    for method in METHODS:
        if method != chosen:
            rows[f"(ensemble {method})"] = ensembles[method]
    print(f"\n{args.seeds} seeds, one split; test metrics, mean ± std; threshold chosen on validation\n")
    print("| model | val PR-AUC | " + " | ".join(f"test {m}" for m in SHOWN) + " |")
    print("|---|---|" + "---|" * len(SHOWN))
    for label, metrics in rows.items():
        cells = [spread([m["val"]["pr_auc"] for m in metrics])]
        cells += [spread([m["test"][name] for m in metrics]) for name in SHOWN]
        print(f"| {label} | " + " | ".join(cells) + " |")
    member_pr = {label: np.mean([m["test"]["pr_auc"] for m in rows[label]]) for label in list(rows)[:2]}
    ens_pr = np.mean([m["test"]["pr_auc"] for m in ensembles[chosen]])
    for label, value in member_pr.items():
        verdict = "beats" if ens_pr > value else "does NOT beat"
        print(
            f"\nensemble {chosen} ({ens_pr:.4f}) {verdict} {label} ({value:.4f}) on mean test PR-AUC", end=""
        )
    wins = [
        sum(
            e["test"]["pr_auc"] > m["test"]["pr_auc"]
            for e, m in zip(ensembles[chosen], rows[label], strict=True)
        )
        for label in list(rows)[:2]
    ]
    print(
        f"\nper seed, the ensemble wins {wins[0]}/{args.seeds} vs the neural model, "
        f"{wins[1]}/{args.seeds} vs {args.other}"
    )
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
