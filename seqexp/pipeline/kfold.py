"""K-fold cross-validation with a held-out test set.

``split: {method: kfold, folds: 10, stratified: true, test: 0.1}``: the test fraction is held out
first (stratified, seeded); the remaining rows are cut into ``folds`` folds. Fold ``i`` is one
ordinary run whose validation split is fold ``i`` and whose training split is the other folds, so
scaling and balancing are fitted on that fold's training part only (the train pipeline does it,
as for any run). The parent folder reports every fold and the mean +- std.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from seqexp.config import ExperimentConfig, SplitConfig
from seqexp.data.split import Split
from seqexp.errors import DataError
from seqexp.pipeline.groups import GroupResult, train_group
from seqexp.pipeline.train import Say

FOLDS_CSV = "folds.csv"


def fold_split(y: np.ndarray, split: SplitConfig, seed: int) -> Split:
    """Rows of fold ``split.fold``: the shared held-out test, that fold as validation, the rest train."""
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    assert split.fold is not None
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise DataError("the target has a single class; a classifier needs both positives and negatives")
    index = np.arange(len(y))
    try:
        rest, test = train_test_split(index, test_size=split.test, stratify=y, random_state=seed)
    except ValueError as exc:
        raise DataError(f"cannot hold out split.test={split.test} of {len(y)} rows: {exc}") from None
    minority = int(np.bincount(y[rest]).min())
    if split.stratified and minority < split.folds:
        raise DataError(
            f"split.folds: {split.folds} stratified folds need at least {split.folds} rows of each class "
            f"outside the test set, but the minority class has {minority}; use fewer folds"
        )
    splitter = (StratifiedKFold if split.stratified else KFold)(
        n_splits=split.folds, shuffle=True, random_state=seed
    )
    train_pos, val_pos = list(splitter.split(rest, y[rest]))[split.fold]
    return Split(np.sort(rest[train_pos]), np.sort(rest[val_pos]), np.sort(test))


def fold_variants(cfg: ExperimentConfig) -> list[tuple[str, ExperimentConfig]]:
    """One child config per fold, each an ordinary run (``split.fold`` set)."""
    width = len(str(cfg.split.folds))
    return [
        (
            f"fold {i}",
            cfg.model_copy(
                update={
                    "split": cfg.split.model_copy(update={"fold": i}),
                    "name": f"{cfg.name}-fold{i:0{width}d}",
                }
            ),
        )
        for i in range(cfg.split.folds)
    ]


def train_kfold(
    cfg: ExperimentConfig,
    *,
    runs_dir: Path,
    say: Say = lambda _: None,
    progress: Callable[[], Any] | None = None,
    on_end: Callable[[Path], None] | None = None,
) -> GroupResult:
    """Train one model per fold into one parent run folder; write per-fold metrics and the spread."""
    return train_group(
        cfg,
        fold_variants(cfg),
        kind="kfold",
        table_name=FOLDS_CSV,
        runs_dir=runs_dir,
        say=say,
        progress=progress,
        on_end=on_end,
        same_split=False,
    )
