"""Every file name in a run folder (and in the folders the later commands write): the contract.

``train`` writes them; ``evaluate``, ``predict``, ``compare``, ``ensemble``, ``tune``, ``explain``,
``serve`` and ``export`` read them.
A new output gets its name here, nowhere else, so a reader never guesses a writer's spelling.
"""

from __future__ import annotations

# --------------------------------------------------------------------------- every run
CONFIG = "config.yaml"  # the resolved config, overrides applied
RUN = "run.json"  # status, fingerprints, versions, timings (written first, finished last)
LOG = "run.log"  # append-only: what was done
METRICS = "metrics.json"
CLASS_COUNTS = "class_counts.json"
PREPROCESS = "preprocess.json"  # the scaling fitted on the training split
DATA_SCHEMA = "data_schema.json"  # how raw data was encoded, to encode new data the same way
HISTORY = "history.csv"
HISTORY_PARTIAL = "history.partial.csv"  # rewritten after each epoch while training
CHECKPOINT = "checkpoint.keras"  # best weights so far (by the early-stopping monitor)
TENSORBOARD = "tensorboard"  # a folder
CONFUSION_CSV = "confusion_matrix.csv"
CONFUSION_PNG = "confusion_matrix.png"
CALIBRATION = "calibration.json"  # the calibrator fitted on validation (scores -> probabilities)
PREDICTIONS = "predictions.csv"  # the test split (or the evaluated data)
VAL_PREDICTIONS = "val_predictions.csv"
DRIFT = "drift.json"  # rates and PSI per part, and the reference later data is compared with
GRAPH = "graph.npz"  # data.graph: the item factors and hop matrices fitted on the training graph

# --------------------------------------------------------------------------- saved models
KERAS_MODEL = "model.keras"
AUTOENCODER_STATE = "autoencoder.json"
LOGISTIC_MODEL = "model_logistic.json"
GBM_MODEL = "model_gbm.joblib"  # a pickle: loads only with --trust-run
GBM_STATE = "model_gbm.json"
LIGHTGBM_MODEL = "model_lightgbm.txt"  # LightGBM's own text format: plain numbers, no code
LIGHTGBM_STATE = "model_lightgbm.json"  # the feature settings (last_steps, masked, classes)
MODEL_FILES = (
    KERAS_MODEL,
    AUTOENCODER_STATE,
    LOGISTIC_MODEL,
    GBM_MODEL,
    GBM_STATE,
    LIGHTGBM_MODEL,
    LIGHTGBM_STATE,
)
SCORING_FILES = (CONFIG, RUN, METRICS, PREPROCESS, DATA_SCHEMA, CALIBRATION, DRIFT, GRAPH, *MODEL_FILES)
"""What scoring new customers reads from a run (``seqexp export`` copies these and nothing else)."""

# --------------------------------------------------------------------------- figures
ROC_PNG = "roc_curve.png"
PR_PNG = "pr_curve.png"
CALIBRATION_PNG = "calibration.png"
THRESHOLD_PNG = "threshold_curve.png"
GAINS_PNG = "gains_lift.png"
PROFIT_PNG = "profit_curve.png"
HISTORY_PNG = "history.png"
MODEL_SUMMARY = "model_summary.txt"
MODEL_DIAGRAM = "model.png"

# --------------------------------------------------------------------------- groups (seeds, folds)
SEEDS_CSV = "seeds.csv"
FOLDS_CSV = "folds.csv"
BACKTEST_CSV = "backtest.csv"  # one row per test cutoff: base rates, metrics, threshold transfer
BACKTEST_RUNS_CSV = "backtest_runs.csv"  # every child metric, as seeds.csv / folds.csv
BACKTEST_PNG = "backtest.png"

# --------------------------------------------------------------------------- evaluate
EVALUATIONS = "evaluations"  # a folder inside the run: one sub-folder per evaluation
EVALUATION_JSON = "evaluation.json"  # written last: its presence means the evaluation is complete

# --------------------------------------------------------------------------- explain
EXPLANATIONS = "explanations"  # a folder inside the run: one sub-folder per explanation
IMPORTANCE_CSV = "importance.csv"  # permutation importance on validation, by feature and by step
IMPORTANCE_FEATURES_PNG = "importance_by_feature.png"
IMPORTANCE_STEPS_PNG = "importance_by_step.png"
REASONS_CSV = "reasons.csv"  # per customer: the top reasons, their direction and contribution
EXPLANATION_JSON = "explanation.json"  # written last: its presence means the explanation is complete

# --------------------------------------------------------------------------- export
EXPORTS = "exports"  # a folder inside the run: one sub-folder per exported model

# --------------------------------------------------------------------------- ensemble
ENSEMBLE = "ensemble.json"  # member folders, weights, meta-model, rank references

# --------------------------------------------------------------------------- tune
TUNER_PROJECT = "keras_tuner"  # keras-tuner's own project folder inside the tune folder
SEARCH = "search.json"  # hashes of the config a search started with (refuses a changed resume)
TRIALS = "trials.csv"
TRIALS_RAN_HERE = "trials_ran_here.csv"  # the trials this process ran (a worker's own record)
BEST_CONFIG = "best_config.yaml"
TOP = "top"  # a folder: the best trials retrained as ordinary run folders
OBJECTIVE_PNG = "objective_by_trial.png"
SPACE_PNG = "hyperparameters_vs_objective.png"

# --------------------------------------------------------------------------- compare (a report folder)
LEADERBOARD_CSV = "leaderboard.csv"
COMPARISON_PNG = "comparison.png"
OVERFITTING_PNG = "overfitting.png"
REPORT_HTML = "report.html"

# --------------------------------------------------------------------------- generate (a data folder)
EVENTS_PARQUET = "events.parquet"
LABELS_PARQUET = "labels.parquet"
DATA_CARD = "card.json"
DATA_YAML = "data.yaml"  # the events data section that reads the two files (evaluate --data, predict)
