"""Multi-class targets (more than two classes, e.g. which of 47 shops a customer buys from next).

The model outputs one probability per class (softmax) and the decision is the most probable class
(argmax): thresholds do not apply, so a threshold rule other than the default is refused. Metrics
(all scikit-learn) are macro and weighted precision, recall and F1, multi-class MCC, accuracy,
balanced accuracy, top-3 accuracy (more than 3 classes), log loss, and macro one-vs-rest ROC-AUC
and PR-AUC over the classes present in the split (both "this class" and "another class" occur).
The run reports a "most frequent class" baseline beside the model (and the configured baseline model).

Files of a multi-class run: ``metrics.json`` (``task: multiclass``, ``classes``, ``decision:
argmax``, ``threshold: null``), an N x N ``confusion_matrix.csv``/``.png``, and
``predictions.csv``/``val_predictions.csv`` with ``id, y_true, y_pred, p_<class>...`` (true and
predicted class by name, then each class's probability in class order).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.errors import UserError
from seqexp.runfolder import atomic, files

DECISION_RULE = "argmax (thresholds do not apply to multi-class targets)"
MOST_FREQUENT = "most_frequent"
SHOWN = (
    "f1_macro", "f1_weighted", "precision_macro", "recall_macro", "mcc", "accuracy",
    "balanced_accuracy", "top_3_accuracy", "roc_auc_ovr_macro", "pr_auc_ovr_macro", "log_loss",
)  # fmt: skip
ANNOTATED_UP_TO = 15  # confusion matrices with more classes are drawn as a heat map without numbers


def is_multiclass(metrics: dict[str, Any]) -> bool:
    return metrics.get("task") == "multiclass"


def check_config(cfg: Any, n_classes: int) -> None:
    """Refuse settings that only mean something for a binary target, saying what to do instead."""
    rule = cfg.evaluate.threshold
    if not (isinstance(rule, float) and rule == 0.5):
        raise UserError(
            f"evaluate.threshold: the target has {n_classes} classes and the decision is the most "
            f"probable class (argmax); a threshold rule ({rule!r}) applies to binary targets only. "
            "Remove evaluate.threshold"
        )
    if cfg.train.loss == "focal":
        raise UserError(
            f"train.loss: focal is for binary targets; this target has {n_classes} classes and trains "
            "with sparse categorical cross-entropy. Remove train.loss and use balance: "
            "{name: class_weight} to weigh rare classes"
        )
    for key, section in (("early_stopping", cfg.train.early_stopping), ("reduce_lr", cfg.train.reduce_lr)):
        if section is not None and "auc" in section.monitor:
            raise UserError(
                f"train.{key}.monitor: {section.monitor} is a binary ranking metric; a multi-class "
                "model reports loss and accuracy. Use val_loss"
            )


def multiclass_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Every headline metric of ``proba`` (rows x classes) against class indices ``y``.

    Macro and weighted averages run over the classes that occur in ``y`` or in the predictions
    (scikit-learn's default); ROC-AUC and PR-AUC are one-vs-rest, averaged over the classes whose
    one-vs-rest problem is defined in ``y`` (``auc_classes`` says how many).
    """
    from sklearn import metrics as m
    from sklearn.preprocessing import label_binarize

    n_classes = proba.shape[1]
    labels = np.arange(n_classes)
    predicted = proba.argmax(axis=1)
    p = np.clip(proba, 1e-15, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    out: dict[str, float] = {
        "accuracy": float(m.accuracy_score(y, predicted)),
        "balanced_accuracy": float(m.balanced_accuracy_score(y, predicted)),
        "mcc": float(m.matthews_corrcoef(y, predicted)),
    }
    for average in ("macro", "weighted"):
        out[f"precision_{average}"] = float(m.precision_score(y, predicted, average=average, zero_division=0))
        out[f"recall_{average}"] = float(m.recall_score(y, predicted, average=average, zero_division=0))
        out[f"f1_{average}"] = float(m.f1_score(y, predicted, average=average, zero_division=0))
    top3 = m.top_k_accuracy_score(y, p, k=3, labels=labels) if n_classes > 3 else float("nan")
    out["top_3_accuracy"] = float(top3)  # with 3 classes or fewer, every row would count
    out["log_loss"] = float(m.log_loss(y, p, labels=labels))
    onehot = label_binarize(y, classes=labels)
    defined = (onehot.sum(axis=0) > 0) & (onehot.sum(axis=0) < len(y))
    if defined.any():
        out["roc_auc_ovr_macro"] = float(m.roc_auc_score(onehot[:, defined], p[:, defined], average="macro"))
        out["pr_auc_ovr_macro"] = float(
            m.average_precision_score(onehot[:, defined], p[:, defined], average="macro")
        )
    else:
        out["roc_auc_ovr_macro"] = out["pr_auc_ovr_macro"] = float("nan")
    out["auc_classes"] = int(defined.sum())
    out["n_classes"] = n_classes
    out["rows"] = int(len(y))
    return out


def classification_report(y: np.ndarray, proba: np.ndarray, names: list[str]) -> dict[str, Any]:
    """scikit-learn's per-class report (precision, recall, F1, support per class) at argmax."""
    from sklearn import metrics as m

    return m.classification_report(
        y, proba.argmax(axis=1), labels=np.arange(len(names)), target_names=names,
        output_dict=True, zero_division=0,
    )  # fmt: skip


def score(
    y_val: np.ndarray, p_val: np.ndarray, y_test: np.ndarray, p_test: np.ndarray, names: list[str]
) -> dict:
    """Validation and test metrics plus the per-class reports, in the shape ``metrics.json`` uses."""
    return {
        "val": multiclass_metrics(y_val, p_val),
        "test": multiclass_metrics(y_test, p_test),
        "classification_report": {
            "val": classification_report(y_val, p_val, names),
            "test": classification_report(y_test, p_test, names),
        },
    }


def most_frequent_baseline(y_train: np.ndarray, val: Any, test: Any, names: list[str]) -> dict[str, Any]:
    """Always the most frequent class of the (natural, unbalanced) training split; its probabilities
    are the training class shares (scikit-learn's DummyClassifier, strategy 'prior')."""
    from sklearn.dummy import DummyClassifier

    dummy = DummyClassifier(strategy="prior").fit(np.zeros((len(y_train), 1)), y_train)

    def proba(n: int) -> np.ndarray:
        out = np.zeros((n, len(names)))
        out[:, dummy.classes_.astype(int)] = dummy.predict_proba(np.zeros((n, 1)))
        return out

    result = score(val.y, proba(len(val.y)), test.y, proba(len(test.y)), names)
    del result["classification_report"]
    return {"model": MOST_FREQUENT, "class": names[int(dummy.predict(np.zeros((1, 1)))[0])], **result}


def write_confusion(
    folder: Path, y: np.ndarray, proba: np.ndarray, names: list[str], title: str
) -> np.ndarray:
    """N x N confusion matrix (rows: true class, columns: predicted) as CSV and PNG."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(y, proba.argmax(axis=1), labels=np.arange(len(names)))
    lines = ["true\\predicted," + ",".join(names)]
    lines += [
        f"{name}," + ",".join(str(int(v)) for v in row) for name, row in zip(names, matrix, strict=True)
    ]
    atomic.write_text(folder / files.CONFUSION_CSV, "\n".join(lines) + "\n")
    plot_confusion(matrix, names, folder / files.CONFUSION_PNG, title)
    return matrix


def plot_confusion(matrix: np.ndarray, names: list[str], path: Path, title: str) -> None:
    """Counts and row-normalised rates; past ``ANNOTATED_UP_TO`` classes a heat map of rates only."""
    from sklearn.metrics import ConfusionMatrixDisplay

    from seqexp.reporting.figures import _pyplot, save

    plt = _pyplot()
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    n = len(names)
    if n <= ANNOTATED_UP_TO:
        fig, axes = plt.subplots(1, 2, figsize=(4 + 0.9 * n, 2 + 0.45 * n))
        ConfusionMatrixDisplay(matrix, display_labels=names).plot(
            ax=axes[0], colorbar=False, values_format="d", xticks_rotation="vertical"
        )
        axes[0].set_title("counts")
        ConfusionMatrixDisplay(rates, display_labels=names).plot(
            ax=axes[1], colorbar=False, values_format=".2f", xticks_rotation="vertical"
        )
        axes[1].set_title("share of each true class")
    else:
        fig, ax = plt.subplots(figsize=(10, 9))
        image = ax.imshow(rates, cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(n), names, rotation=90, fontsize=5)
        ax.set_yticks(range(n), names, fontsize=5)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        fig.colorbar(image, ax=ax, label="share of each true class")
    fig.suptitle(title)
    save(fig, path)


def write_predictions(
    path: Path, ids: np.ndarray, y: np.ndarray | None, proba: np.ndarray, names: list[str]
) -> None:
    """``id, y_true, y_pred, p_<class>...`` per customer (``y_true`` left out when labels are unknown)."""
    with atomic.atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.writer(handle)
        head = ["id", "y_true", "y_pred"] if y is not None else ["id", "y_pred"]
        writer.writerow([*head, *(f"p_{name}" for name in names)])
        predicted = proba.argmax(axis=1)
        cells = np.char.mod("%.6f", proba).tolist()
        for i, cid in enumerate(ids.tolist()):
            row = [cid, names[int(y[i])]] if y is not None else [cid]
            writer.writerow([*row, names[int(predicted[i])], *cells[i]])


def finish_run(
    cfg: Any,
    run_dir: Path,
    spec: Any,
    estimator: Any,
    fit_train: Any,
    fit_val: Any,
    parts: tuple[Any, Any, Any],
    history: list[dict],
    names: list[str],
    log: Any,
) -> dict[str, Any]:
    """Score, compare with the baselines and write every output file of a multi-class run."""
    from seqexp.models import build_estimator
    from seqexp.registry import MODELS
    from seqexp.reporting import figures as plots

    train, val, test = parts
    p_val, p_test = estimator.predict(val.X), estimator.predict(test.X)
    metrics: dict[str, Any] = {
        "task": "multiclass",
        "n_classes": len(names),
        "classes": names,
        "decision": "argmax",
        "threshold": None,
        "threshold_rule": DECISION_RULE,
        **score(val.y, p_val, test.y, p_test, names),
        "model": cfg.model.name,
    }
    metrics[MOST_FREQUENT] = most_frequent_baseline(train.y, val, test, names)
    log(
        f"baseline most frequent class ({metrics[MOST_FREQUENT]['class']}): test macro-F1 "
        f"{metrics[MOST_FREQUENT]['test']['f1_macro']:.4f}, accuracy "
        f"{metrics[MOST_FREQUENT]['test']['accuracy']:.4f} (model {metrics['test']['f1_macro']:.4f}, "
        f"{metrics['test']['accuracy']:.4f})"
    )
    name = cfg.evaluate.baseline
    if name != "none" and cfg.model.name != name:  # both baseline models predict probabilities per class
        baseline = build_estimator(MODELS.get(name).config_class(), cfg.train, spec, seed=cfg.seed)
        baseline.fit(fit_train, fit_val, train_cfg=cfg.train, callbacks=[])
        result = score(val.y, baseline.predict(val.X), test.y, baseline.predict(test.X), names)
        del result["classification_report"]
        metrics["baseline"] = {"model": name, **result}
        log(f"baseline {name}: test macro-F1 {metrics['baseline']['test']['f1_macro']:.4f}")
    atomic.write_json(run_dir / files.METRICS, metrics)
    write_confusion(run_dir, test.y, p_test, names, f"test ({len(names)} classes, argmax)")
    write_predictions(run_dir / files.PREDICTIONS, test.ids, test.y, p_test, names)
    write_predictions(run_dir / files.VAL_PREDICTIONS, val.ids, val.y, p_val, names)
    stop = cfg.train.early_stopping
    monitor, mode = (stop.monitor, stop.mode) if stop is not None else ("val_loss", "min")
    plots.plot_history(history, run_dir / plots.HISTORY_PNG, monitor, mode)
    if getattr(estimator, "kind", None) == "keras":
        plots.write_architecture(estimator.model, run_dir)
    return metrics


def metrics_table(metrics: dict[str, Any]) -> Any:
    """Test metrics of the model beside the most-frequent-class baseline and the baseline model."""
    from rich.table import Table

    table = Table(
        title=f"test metrics ({metrics['n_classes']} classes, decision: argmax)", title_justify="left"
    )
    model = metrics.get("model", "model")
    table.add_column("metric")
    table.add_column(model, justify="right")
    others = [metrics[k] for k in (MOST_FREQUENT, "baseline") if metrics.get(k)]
    for other in others:
        table.add_column(f"{other['model']} (baseline)", justify="right")
    table.add_column(f"{model} (val)", justify="right", style="dim")
    for name in SHOWN:
        table.add_row(
            name,
            f"{metrics['test'][name]:.4f}",
            *(f"{other['test'][name]:.4f}" for other in others),
            f"{metrics['val'][name]:.4f}",
        )
    return table
