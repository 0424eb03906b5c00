"""Splits of a data set into train / validation / test rows: stratified, or one fold of k, seeded
and fingerprinted."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from seqexp.config.sections import SplitConfig
from seqexp.errors import DataError


@dataclass(frozen=True)
class Split:
    """Row indices of each part of the data set."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def fingerprint(self, data_fingerprint: str) -> str:
        """Hash of the data and of which rows went where: runs to be ensembled must agree on it."""
        digest = hashlib.sha256(data_fingerprint.encode())
        for part in (self.train, self.val, self.test):
            digest.update(np.sort(part).astype(np.int64).tobytes())
            digest.update(b"|")
        return digest.hexdigest()[:16]


def stratified_split(y: np.ndarray, train: float, val: float, test: float, seed: int) -> Split:
    """Split rows keeping the class ratio in every part."""
    from sklearn.model_selection import train_test_split

    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise DataError(
            f"the target has a single class ({classes[0] if len(classes) else 'no rows'}); "
            "a classifier needs both positives and negatives"
        )
    smallest = int(counts.min())
    if smallest < 3:
        raise DataError(
            f"class {classes[counts.argmin()]} has only {smallest} row(s); a stratified train/val/test "
            "split needs at least 3"
        )
    index = np.arange(len(y))
    try:
        rest, test_idx = train_test_split(index, test_size=test, stratify=y, random_state=seed)
        train_idx, val_idx = train_test_split(
            rest, test_size=val / (train + val), stratify=y[rest], random_state=seed
        )
    except ValueError as exc:  # a part too small to hold every class
        raise DataError(
            f"cannot split {len(y)} rows as train {train}, val {val}, test {test}: {exc}"
        ) from None
    for part, index_part, fraction in (
        ("train", train_idx, train),
        ("val", val_idx, val),
        ("test", test_idx, test),
    ):
        missing = [c for c in classes if not (y[index_part] == c).any()]
        if missing:  # e.g. 5 positives in 10,000 rows: a 10% test part expects half a positive
            raise DataError(
                f"split: the {part} part ({fraction:g} of {len(y)} rows) gets no row of class "
                f"{missing[0]}, which has {int(counts[classes == missing[0]][0])} row(s) in all; its metrics "
                f"would mean nothing. Use more data or a larger split.{part} fraction"
            )
    return Split(np.sort(train_idx), np.sort(val_idx), np.sort(test_idx))


def fold_split(y: np.ndarray, split: SplitConfig, seed: int) -> Split:
    """Rows of fold ``split.fold`` (a ``SplitConfig`` with ``method: kfold``): the shared held-out test,
    that fold as validation, the other folds train."""
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
