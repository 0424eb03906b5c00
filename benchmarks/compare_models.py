"""Model x balancer comparison: each cell trained with several seeds, mean +- std of test metrics.

    python benchmarks/compare_models.py CONFIG [CONFIG ...] --models lstm,gradient_boosting \
        --balancers none,smote --seeds 1,2,3 [--set train.epochs=8 ...] [--out table.md]

Each config gives the data, split, training and threshold settings; the script swaps in each model
and balancer (from their default configs, so ``--set`` can tune them) and runs ``seqexp train``'s
pipeline into a temporary folder. The config's own model (same ``name``) keeps the config's settings
(e.g. the real-data configs' small LSTM), so the table shows the model the config actually trains.
The seed changes data generation, split and weights together.
Prints a Markdown table per config: PR-AUC, ROC-AUC, F1, MCC on the test split, mean +- std.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's seqexp, not an installed one

METRICS = ("pr_auc", "roc_auc", "f1", "mcc")


def run_cell(config: Path, model: str, balancer: str, seed: int, overrides: list[str], runs: Path) -> dict:
    from seqexp.config.loading import load_config
    from seqexp.config.yaml_io import read_yaml
    from seqexp.pipeline.train import train_experiment

    own_model = ((read_yaml(config) or {}).get("model") or {}).get("name")
    sets = [
        *([] if model == own_model else [f"model={{name: {model}}}"]),
        f"balance={{name: {balancer}}}",
        f"seed={seed}",
        "evaluate.baseline=none",
        "train.tensorboard=false",
        *overrides,
    ]
    cfg = load_config(config, sets)
    started = time.perf_counter()
    result = train_experiment(cfg, runs_dir=runs)
    return {**{k: result.metrics["test"][k] for k in METRICS}, "seconds": time.perf_counter() - started}


def summarise(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("configs", nargs="+", type=Path)
    parser.add_argument("--models", default="logistic_regression,gradient_boosting,lstm")
    parser.add_argument("--balancers", default="none,class_weight,smote")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--out", type=Path, help="Also write the Markdown tables here.")
    args = parser.parse_args(argv)
    models, balancers = args.models.split(","), args.balancers.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]

    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for config in args.configs:
            lines += [
                f"### {config}",
                "",
                f"seeds {seeds}; test split; overrides: {' '.join(args.overrides) or 'none'}",
                "",
                "| model | balancer | PR-AUC | ROC-AUC | F1 | MCC | s/run |",
                "|---|---|---|---|---|---|---|",
            ]
            for model in models:
                for balancer in balancers:
                    cells = [run_cell(config, model, balancer, s, args.overrides, Path(tmp)) for s in seeds]
                    row = [summarise([c[k] for c in cells]) for k in METRICS]
                    seconds = statistics.median(c["seconds"] for c in cells)
                    lines.append(f"| {model} | {balancer} | {' | '.join(row)} | {seconds:.1f} |")
                    print(lines[-1], file=sys.stderr, flush=True)
            lines.append("")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
