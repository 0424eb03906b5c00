"""Stratified train / validation / test split, seeded and fingerprinted."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

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
