"""How the command line presents itself: help that shows what to give (never a Python type), and an
example under every verb's help (tests/test_cli_conventions.py)."""

from __future__ import annotations

from typing import Any, Literal

from typer.core import TyperCommand, TyperGroup


class _HelpWithoutType:
    """Help that shows what to give, not Python types: flags (``--help``, ``--install-completion``)
    without ``<bool>``, arguments by their metavar (``RUN...``) without ``<list[Path]>``."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
            elif (
                param.param_type_name == "argument" and param.metavar and not param.type_descriptor.is_choice
            ):
                setattr(param, "display_type_rich", lambda ctx: None)  # noqa: B010  (the name says it)
        return params


class Command(_HelpWithoutType, TyperCommand):
    pass


class Group(_HelpWithoutType, TyperGroup):
    pass


# The parser's choices (seqexp/cli.py); tests hold each list equal to the one the verb checks
# (tests/test_cli_conventions.py).
Method = Literal["mean", "weighted", "rank", "stack"]
Objective = Literal["pr_auc", "roc_auc"]
Family = Literal["models", "balancers", "data", "sources", "all"]
Format = Literal["table", "csv", "json"]
ExportFormat = Literal["mlflow"]
SortKey = Literal[
    "pr_auc", "roc_auc", "f1", "mcc", "precision", "recall", "balanced_accuracy", "log_loss", "brier",
    "val_pr_auc", "val_f1", "baseline_pr_auc", "threshold", "epochs", "best_epoch", "train_loss_at_best",
    "val_loss_at_best", "fit_seconds", "total_seconds",
]  # fmt: skip

EXAMPLES = {  # shown under each verb's help, one per line
    "generate": ["seqexp generate configs/tiny.yaml --out data/tiny"],
    "validate": ["seqexp validate configs/lstm_smote.yaml --set model.units=[32]"],
    "list": ["seqexp list models"],
    "train": ["seqexp train configs/tiny.yaml --set train.epochs=3 --seeds 3",
              "run=$(seqexp train configs/tiny.yaml -q)"],
    "backtest": ["seqexp backtest configs/tafeng_target_backtest.yaml --tests 4"],
    "tune": ["seqexp tune configs/tune_lstm.yaml --set tune.max_trials=5",
             "seqexp tune --resume runs/20250101-120000-tune_lstm-tune"],
    "evaluate": ["seqexp evaluate runs/20250101-120000-lstm_smote --data new_month.parquet --format json"],
    "ensemble": ["seqexp ensemble runs/A runs/B runs/C --method stack --threshold-rule max_mcc",
                 "seqexp ensemble --from-tune runs/20250101-120000-tune_lstm-tune --top 3 --search"],
    "predict": ["seqexp predict runs/20250101-120000-lstm_smote customers.parquet -o scores.csv",
                "seqexp predict runs/20250101-120000-lstm_smote customers.parquet --explain 3"],
    "explain": ["seqexp explain runs/20250101-120000-lstm_smote --top 3",
                "seqexp explain runs/20250101-120000-lstm_smote customers.parquet"],
    "compare": ["seqexp compare --all --runs-dir runs --sort roc_auc -o report",
                "seqexp compare runs/A runs/B --format json > board.json"],
    "serve": ["seqexp serve runs/20250101-120000-bank_marketing_lightgbm --port 8000 --workers 2"],
    "export": ["seqexp export runs/20250101-120000-bank_marketing_lightgbm --format mlflow -o model"],
}  # fmt: skip

HELP = {  # option and argument help too long to sit in seqexp/cli.py's one-line declarations
    "predict_explain": "Add reason_1..reason_K: each customer's top K reasons (docs/explain.md).",
    "explain_input": "Customers to explain: a data config YAML or a data file (default: the run's test "
    "split; for another --as-of date, use predict --explain).",
}
SORT_HELP = (
    "Test metric (or column) to rank by: pr_auc, roc_auc, f1, mcc, precision, recall, balanced_accuracy, "
    "log_loss, brier, val_pr_auc, val_f1, baseline_pr_auc, threshold, epochs, best_epoch, "
    "train_loss_at_best, val_loss_at_best, fit_seconds, total_seconds."
)
SERVE_HELP = {
    "host": "Address to listen on (0.0.0.0: every interface; the service has no authentication).",
    "workers": "Worker processes, each with its own copy of the model.",
    "export": "mlflow: an MLflow pyfunc model (encoding, scaling, model, calibration, threshold).",
}
