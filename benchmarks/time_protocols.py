"""Random split vs out of time vs rolling backtest, over seeds: the figures of docs/time.md.

    python benchmarks/time_protocols.py                 # every study below (~30 minutes, 2 cores)
    python benchmarks/time_protocols.py --only tafeng_lightgbm --seeds 1

Each study is a list of (protocol, command) rows run as a user would (``python -m seqexp ...``, one
process each, into a temporary runs folder), once per seed (``--set seed=N``: with a random split the
seed moves the split and the weights; out of time the parts are fixed by the cutoffs, so only the
model's own randomness moves). For each row: test PR-AUC, ROC-AUC, F1 and MCC, mean +- std over the
seeds; a backtest row is the mean over its test cutoffs, then over seeds, and also gives the base rate
and the precision / recall at the validation threshold per cutoff. Prints Markdown tables and writes
every number to --out (JSON).
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
C = "configs/"
LAST_RETAIL = ["--set", "data.snapshots=null", "--set", "data.labels.cutoff=2014-12-22"]
STUDIES: dict[str, list[tuple[str, list[str]]]] = {
    "tafeng_lightgbm": [
        ("random split at 2001-02-01 (70/10/20)", ["train", C + "tafeng_target_lightgbm.yaml"]),
        ("out of time: test 2001-02-01", ["train", C + "tafeng_target_oot_lightgbm.yaml"]),
        ("backtest: 4 weekly test cutoffs",
         ["backtest", C + "tafeng_target_oot_lightgbm.yaml", "--tests", "4"]),
    ],
    "tafeng_lstm": [
        ("random split at 2001-02-01 (70/10/20)", ["train", C + "tafeng_target_lstm.yaml"]),
        ("out of time: test 2001-02-01", ["train", C + "tafeng_target_oot_lstm.yaml"]),
        ("backtest: 4 weekly test cutoffs", ["backtest", C + "tafeng_target_oot_lstm.yaml", "--tests", "4"]),
    ],
    "tafeng_lstm_aggregates": [
        ("random split at 2001-02-01 (70/10/20)", ["train", C + "tafeng_target_lstm_aggregates.yaml"]),
        ("out of time: test 2001-02-01", ["train", C + "tafeng_target_oot_lstm_aggregates.yaml"]),
        ("backtest: 4 weekly test cutoffs",
         ["backtest", C + "tafeng_target_oot_lstm_aggregates.yaml", "--tests", "4"]),
    ],
    "retail_repeat": [
        ("random split at 2014-12-22 (80/10/10)", ["train", C + "retail_repeat_backtest.yaml", *LAST_RETAIL,
                                                   "--set", "split={method: holdout}"]),
        ("out of time: test 2014-12-22", ["train", C + "retail_repeat_backtest.yaml"]),
        ("backtest: 6 test cutoffs", ["backtest", C + "retail_repeat_backtest.yaml", "--tests", "6"]),
    ],
    "bank": [
        ("random split (80/10/10, stratified)", ["train", C + "bank_marketing_lightgbm.yaml"]),
        ("ordered by row (time order)", ["train", C + "bank_marketing_lightgbm.yaml", "--set",
                                          "split={method: ordered, train: 0.8, val: 0.1, test: 0.1}"]),
    ],
}  # fmt: skip
METRICS = ("pr_auc", "roc_auc", "f1", "mcc")


def run_one(args: list[str], seed: int, runs: Path) -> dict:
    command = [sys.executable, "-m", "seqexp", *args, "--set", f"seed={seed}", "--runs-dir", str(runs), "-q"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    folder = Path(done.stdout.strip().splitlines()[-1])
    metrics = json.loads((folder / "metrics.json").read_text())
    if "cutoffs" in metrics:  # a backtest parent: the mean over its test cutoffs
        result = {m: metrics["mean"]["test"][m] for m in METRICS}
        result["cutoffs"] = metrics["cutoffs"]
    else:
        result = {m: metrics["test"][m] for m in METRICS}
        result["split"] = metrics.get("split")
    result["baseline_pr_auc"] = (
        (metrics.get("baseline") or metrics.get("mean", {}).get("baseline") or {})
        .get("test", {})
        .get("pr_auc")
    )
    result["folder"] = str(folder)
    return result


def spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", choices=sorted(STUDIES), default=sorted(STUDIES))
    parser.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3])
    parser.add_argument("--out", type=Path, default=Path("/tmp/seqexp_time_protocols.json"))
    args = parser.parse_args()
    results: dict[str, dict[str, list[dict]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for study in args.only:
            results[study] = {}
            for label, command in STUDIES[study]:
                results[study][label] = [run_one(command, seed, Path(tmp) / study) for seed in args.seeds]
                args.out.write_text(json.dumps(results, indent=1))
            print(f"\n{study} (test, mean ± std over seeds {args.seeds})\n")
            print("| protocol | PR-AUC | ROC-AUC | F1 | MCC | baseline PR-AUC |")
            print("|---|---|---|---|---|---|")
            for label, runs in results[study].items():
                cells = [spread([r[m] for r in runs]) for m in METRICS]
                base = [r["baseline_pr_auc"] for r in runs if r["baseline_pr_auc"] is not None]
                print(f"| {label} | {' | '.join(cells)} | {spread(base) if base else '-'} |")
            for label, runs in results[study].items():
                if "cutoffs" in runs[0]:
                    print(f"\n{label}, per test cutoff (seed {args.seeds[0]}):\n")
                    print(
                        "| test cutoff | base rate train/val/test | PR-AUC | P/R at val threshold "
                        "| best F1 (P/R) |"
                    )
                    print("|---|---|---|---|---|")
                    for row in runs[0]["cutoffs"]:
                        rates = f"{row['train_base_rate']}/{row['val_base_rate']}/{row['test_base_rate']}"
                        chosen = f"{row['precision_at_threshold']:.2f}/{row['recall_at_threshold']:.2f}"
                        best = f"{row['best_f1_in_hindsight']:.3f} ({row['precision_at_best']:.2f}/"
                        best += f"{row['recall_at_best']:.2f})"
                        print(f"| {row['test_cutoff']} | {rates} | {row['pr_auc']:.3f} | {chosen} | {best} |")
    print(f"\nall numbers: {args.out}")


if __name__ == "__main__":
    main()
