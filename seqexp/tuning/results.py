"""What a finished search leaves behind: trials.csv, plots, best_config.yaml and the top-k runs."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seqexp.config.experiment import ExperimentConfig
from seqexp.config.yaml_io import to_yaml
from seqexp.runfolder import atomic, files
from seqexp.tuning import space as space_mod
from seqexp.tuning.config import tune_of
from seqexp.tuning.plots import plot_search

HYPERBAND_KEYS = ("tuner/epochs", "tuner/initial_epoch", "tuner/bracket", "tuner/round", "tuner/trial_id")


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def start_order(trial_id: str) -> tuple[float, str]:
    """keras-tuner numbers trials as they start, padded to the width of ``max_trials`` ("7", "07"):
    a search resumed with a larger budget mixes widths, so they sort as numbers."""
    return (int(trial_id), trial_id) if trial_id.isdigit() else (math.inf, trial_id)


def trial_rows(cfg: ExperimentConfig, oracle: Any) -> list[dict[str, Any]]:
    """One row per trial, in the order trials started: values, objective, metrics, epochs, time."""
    space = tune_of(cfg).space
    rows = []
    for trial_id in sorted(oracle.trials, key=start_order):
        trial = oracle.trials[trial_id]
        hp = trial.hyperparameters.values
        values = space_mod.values_from(hp, space)
        metrics = {name: trial.metrics.get_last_value(name) for name in sorted(trial.metrics.metrics)}
        error = (trial.message or "").strip().splitlines()[-1:] if trial.message else []
        rows.append(
            {
                "trial_id": trial_id,
                "status": str(trial.status).lower(),
                "objective": _number(trial.score),
                **{key: values.get(key, "") for key in space},
                **{key: hp[key] for key in HYPERBAND_KEYS if key in hp},
                **{k: v for k, v in metrics.items() if k not in ("epochs", "seconds")},
                "epochs": metrics.get("epochs"),
                "seconds": metrics.get("seconds"),
                "error": error[0] if error else "",
                "_values": values,
            }
        )
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def write_trials_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    fields: list[str] = []
    for row in rows:
        fields.extend(k for k in row if k not in fields and not k.startswith("_"))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_cell(row.get(k)) for k in fields])
    atomic.write_text(path, out.getvalue())


def ranked(rows: list[dict[str, Any]], direction: str) -> list[dict[str, Any]]:
    """Completed trials, best first, one per distinct set of values (Hyperband repeats values)."""
    done = [r for r in rows if r["status"] == "completed" and r["objective"] is not None]
    done.sort(key=lambda r: r["objective"], reverse=direction == "max")
    seen, unique = set(), []
    for row in done:
        key = json.dumps(row["_values"], sort_keys=True)
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def row_config(cfg: ExperimentConfig, row: dict[str, Any], name: str) -> ExperimentConfig:
    """The trial's config, as ``seqexp train`` would run it."""
    values = dict(row["_values"])
    if "tuner/epochs" in row:  # Hyperband's best trials trained this many epochs in all
        values["train.epochs"] = int(row["tuner/epochs"])
    values["name"] = name
    return space_mod.trial_config(space_mod.base_raw(cfg), values, source=f"trial {row['trial_id']}")


def write_results(
    cfg: ExperimentConfig, oracle: Any, folder: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    """Write the search's outputs; retrain the top_k trials as run folders. Returns a summary."""
    from seqexp.pipeline.train import train_experiment

    tune = tune_of(cfg)
    rows = trial_rows(cfg, oracle)
    write_trials_csv(folder / files.TRIALS, rows)
    best_rows = ranked(rows, tune.objective.best)
    plot_search(rows, tune, folder)  # tuning.plots
    summary: dict[str, Any] = {
        "trials": len(rows),
        "completed": sum(r["status"] == "completed" for r in rows),
    }
    if not best_rows:
        log("no trial completed: no best config and no top runs (see trials.csv, column error)")
        return summary
    best = best_rows[0]
    atomic.write_text(folder / files.BEST_CONFIG, to_yaml(row_config(cfg, best, f"{cfg.name}-best")))
    summary.update(trial_id=best["trial_id"], objective=tune.objective.metric, score=best["objective"],
                   values=best["_values"])  # fmt: skip
    log(f"best: trial {best['trial_id']}, {tune.objective.metric} {best['objective']:.4f}, {best['_values']}")

    top_dir = folder / files.TOP
    if top_dir.exists():  # a resumed search retrains its top runs from scratch
        shutil.rmtree(top_dir)
    top_runs = []
    for rank, row in enumerate(best_rows[: tune.top_k], start=1):
        top_cfg = row_config(cfg, row, f"{cfg.name}-top{rank}-trial{row['trial_id']}")
        log(f"top {rank}/{min(tune.top_k, len(best_rows))}: retraining trial {row['trial_id']} as a run")
        result = train_experiment(top_cfg, runs_dir=top_dir, command="tune")
        top_runs.append(str(result.run_dir.relative_to(folder)))
    summary["top_runs"] = top_runs
    return summary
