"""Calibration methods compared on real runs: ECE, Brier and log loss on test, before and after each
calibrator fitted on the run's validation predictions, and PR-AUC before and after.

    python benchmarks/bench_calibration.py RUN [RUN ...]

Reads each run's val_predictions.csv, predictions.csv and class_counts.json (for the prior
correction's rates); trains nothing. Used for the calibration table in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.metrics import average_precision_score

from seqexp.tasks import calibration


def rates(run: Path) -> tuple[float, float]:
    counts = json.loads((run / "class_counts.json").read_text())
    before, after = counts["train"]["before"], counts["train"]["after"]
    natural = before.get("1", 0) / max(sum(before.values()), 1)
    weights = {int(k): v for k, v in (counts.get("class_weight") or {}).items()}
    pos, neg = after.get("1", 0) * weights.get(1, 1.0), after.get("0", 0) * weights.get(0, 1.0)
    return natural, pos / max(pos + neg, 1e-12)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args()
    print("| run | balance | method | test ECE | test Brier | test log loss | test PR-AUC |")
    print("|---|---|---|---|---|---|---|")
    for run in args.runs:
        balance = yaml.safe_load((run / "config.yaml").read_text())["balance"]["name"]
        val, test = pd.read_csv(run / "val_predictions.csv"), pd.read_csv(run / "predictions.csv")
        y_val, s_val = val["y_true"].to_numpy(), val["score"].to_numpy()
        y_test, s_test = test["y_true"].to_numpy(), test["score"].to_numpy()
        for method in calibration.METHODS:
            fitted = calibration.fit(method, y_val, s_val, prior=rates(run))
            p = fitted.apply(s_test)
            q = calibration.quality(y_test, p)
            print(
                f"| {run.name} | {balance} | {method} | {q['ece']:.4f} | {q['brier']:.4f} | "
                f"{q['log_loss']:.4f} | {average_precision_score(y_test, p):.4f} |"
            )
        print(f"| {run.name} | | (test positive rate {np.mean(y_test):.3f}) | | | | |")


if __name__ == "__main__":
    main()
