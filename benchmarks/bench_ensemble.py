"""Best single neural model vs a non-neural model vs their best ensemble, N seeds each.

    python benchmarks/bench_ensemble.py configs/lstm_smote.yaml --other logistic_regression \
        --seeds 5 --set data.customers=4000 --set train.epochs=8 --runs-dir runs/bench

Every config is trained with ``--seeds`` seeds on ONE split (``seqexp train --seeds``); the other
model is the first config with ``model`` replaced by ``--other`` (same data, split and balancing).
For seed i, the neural child i and the other model's child i are combined by each ensemble
method; the method with the best mean VALIDATION PR-AUC is "the best ensemble" (chosen without
looking at test). Prints a Markdown table of test mean +- std at the validation-chosen threshold.
Pass several neural configs, or ``--variant`` overrides of the first one (e.g. another model), to
pick the best by mean validation PR-AUC; ``--choose-from mean,weighted`` limits which ensemble
methods may be chosen (all are still shown). Works on any data config, e.g. the real-data ones:

    python benchmarks/bench_ensemble.py configs/retail_response_lstm.yaml --other gradient_boosting \
        --variant 'model={name: gru, units: [32], dropout: 0.2, dense: [16]}' --choose-from mean,weighted \
        --set evaluate.baseline=none --set train.tensorboard=false --seeds 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from seqexp.commands.ensemble import METHODS, build_ensemble  # noqa: E402
from seqexp.config.loading import load_config  # noqa: E402
from seqexp.pipeline.groups import train_repeats  # noqa: E402

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
    parser.add_argument(
        "--variant", action="append", default=[], help="another neural candidate: first config + this --set"
    )
    parser.add_argument(
        "--choose-from", default=",".join(METHODS), help="ensemble methods the best may be chosen from"
    )
    args = parser.parse_args()
    allowed = args.choose_from.split(",")
    if unknown := set(allowed) - set(METHODS):
        parser.error(f"--choose-from: {', '.join(sorted(unknown))} not in {', '.join(METHODS)}")

    started = time.perf_counter()
    candidates = [(path, path.name, list(args.overrides)) for path in args.configs]
    first = args.configs[0]
    candidates += [(first, f"{first.name} + {v}", [*args.overrides, v]) for v in args.variant]
    neural = []
    for path, label, overrides in candidates:
        group = train_repeats(load_config(path, overrides), args.seeds, runs_dir=args.runs_dir)
        neural.append((path, label, overrides, group))
        val_pr = group.summary["mean"]["val"]["pr_auc"]
        print(f"trained {label}: {group.run_dir} (mean val PR-AUC {val_pr:.4f})", file=sys.stderr)
    path, label, overrides, best = max(neural, key=lambda item: item[3].summary["mean"]["val"]["pr_auc"])
    other_cfg = load_config(path, [*overrides, f"model={{name: {args.other}}}"])
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
    chosen = max(allowed, key=lambda m: np.mean([x["val"]["pr_auc"] for x in ensembles[m]]))

    def children_metrics(group) -> list[dict]:
        import json

        return [json.loads((child / "metrics.json").read_text()) for child in group.children]

    rows = {
        f"{best.summary['model']} ({label})": children_metrics(best),
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
