"""The numbers of a multi-class target: metrics (scikit-learn), per-class reports, the N x N confusion.

Metrics are macro and weighted precision, recall and F1, multi-class MCC, accuracy, balanced
accuracy, top-3 accuracy (more than 3 classes), log loss, and macro one-vs-rest ROC-AUC and PR-AUC
over the classes present in the split (both "this class" and "another class" occur).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqexp.runfolder import files
from seqexp.runfolder.atomic import write_text


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


def confusion(y: np.ndarray, proba: np.ndarray, n_classes: int) -> np.ndarray:
    """N x N confusion matrix at argmax (rows: true class, columns: predicted)."""
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(y, proba.argmax(axis=1), labels=np.arange(n_classes))


def write_confusion(folder: Path, y: np.ndarray, proba: np.ndarray, names: list[str]) -> np.ndarray:
    """The confusion matrix as CSV, classes by name (its figure: ``seqexp.reporting.confusion``)."""
    matrix = confusion(y, proba, len(names))
    lines = ["true\\predicted," + ",".join(names)]
    lines += [
        f"{name}," + ",".join(str(int(v)) for v in row) for name, row in zip(names, matrix, strict=True)
    ]
    write_text(folder / files.CONFUSION_CSV, "\n".join(lines) + "\n")
    return matrix
