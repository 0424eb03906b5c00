"""The two-input sequence model vs LightGBM on the same rows vs their mean ensemble, over seeds.

    python benchmarks/sequence_lightgbm_ensemble.py                    # retail (5 seeds), Ta-Feng (3)
    python benchmarks/sequence_lightgbm_ensemble.py --only retail --seeds 1 2

For each seed, one config with ``output: sequence_and_aggregates`` is trained twice on the same
split (``--set seed=N``): as shipped (an LSTM reading the last N events and the aggregate vector)
and with LightGBM swapped in (no balancing; it reads the aggregates and the last 3 steps); then
``seqexp ensemble A B --method mean`` averages their calibrated probabilities (fitted on validation).
Prints test PR-AUC and ROC-AUC, mean ± std over the seeds, and the ensemble's paired verdict against
its better member on each seed. Writes every number to --out (JSON).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TREE = "name: lightgbm, num_leaves: 15, learning_rate: 0.03, n_estimators: 2000, early_stopping_rounds: 100"
LIGHTGBM = {  # the settings of retail_response_lightgbm.yaml and tafeng_target_lightgbm.yaml
    "retail": f"{{{TREE}, min_child_samples: 40, feature_fraction: 0.8, bagging_fraction: 0.8, "
    "bagging_freq: 1, lambda_l2: 1.0}",
    "tafeng": f"{{{TREE}, min_child_samples: 40}}",
}
STUDIES = {
    "retail": ("configs/retail_response_lstm_aggregates.yaml", [1, 2, 3, 4, 5]),
    "tafeng": ("configs/tafeng_target_lstm_aggregates.yaml", [1, 2, 3]),
}


def seqexp(*args: str) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "seqexp", *args, "-q"], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"seqexp {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


def test_metrics(folder: Path) -> dict:
    metrics = json.loads((folder / "metrics.json").read_text())
    out = {k: metrics["test"][k] for k in ("pr_auc", "roc_auc", "f1")}
    if "vs_best_member" in metrics:
        out["verdict"] = metrics["vs_best_member"]
    return out


def spread(values: list[float]) -> str:
    return (
        f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"
        if len(values) > 1
        else f"{values[0]:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", choices=sorted(STUDIES), default=sorted(STUDIES))
    parser.add_argument("--seeds", type=int, nargs="*")
    parser.add_argument("--out", type=Path, default=Path("/tmp/seqexp_sequence_lightgbm.json"))
    args = parser.parse_args()
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for study in args.only:
            config, seeds = STUDIES[study]
            rows: dict[str, list[dict]] = {"lstm (two inputs)": [], "lightgbm": [], "mean ensemble": []}
            for seed in args.seeds or seeds:
                runs = str(Path(tmp) / study)
                common = ["--set", f"seed={seed}", "--runs-dir", runs]
                lstm = seqexp("train", config, *common)
                gbm = seqexp("train", config, *common, "--set", f"model={LIGHTGBM[study]}", "--set",
                             "balance={name: none}", "--set", "evaluate.baseline=none")  # fmt: skip
                both = seqexp("ensemble", str(lstm), str(gbm), "--method", "mean", "--runs-dir", runs)
                for label, folder in zip(rows, (lstm, gbm, both), strict=True):
                    rows[label].append(test_metrics(folder))
                results[study] = rows
                args.out.write_text(json.dumps(results, indent=1))
            print(f"\n{study}: {config} (test, mean ± std over seeds {args.seeds or seeds})\n")
            print("| model | PR-AUC | ROC-AUC | F1 |\n|---|---|---|---|")
            for label, values in rows.items():
                cells = " | ".join(spread([v[k] for v in values]) for k in ("pr_auc", "roc_auc", "f1"))
                print(f"| {label} | {cells} |")
            verdicts = [v["verdict"] for v in rows["mean ensemble"] if "verdict" in v]
            for v in verdicts:
                low, high = v["interval"]
                print(f"- ensemble vs {v.get('member')}: {v['metric']} {v['difference']:+.4f} [{low:+.4f}, "
                      f"{high:+.4f}]: {v['verdict']}")  # fmt: skip
    print(f"\nall numbers: {args.out}")


if __name__ == "__main__":
    main()
