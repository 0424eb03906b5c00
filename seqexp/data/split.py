"""Splits of a data set into train / validation / test rows, fingerprinted: stratified at random, one
fold of k, by snapshot cutoff (out of time), or in row order. ``Split.protocol`` says which, for
``run.json``, the log and ``compare``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seqexp.config.sections import SplitConfig
from seqexp.errors import DataError


@dataclass(frozen=True)
class Split:
    """Row indices of each part of the data set."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    protocol: dict[str, Any] = field(default_factory=dict)

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
    return Split(np.sort(train_idx), np.sort(val_idx), np.sort(test_idx), {"method": "holdout"})


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
    return Split(np.sort(rest[train_pos]), np.sort(rest[val_pos]), np.sort(test),
                 {"method": "kfold", "fold": split.fold, "folds": split.folds})  # fmt: skip


def _both_classes(y: np.ndarray, parts: dict[str, np.ndarray], how: str) -> None:
    for name, index in parts.items():
        if len(index) == 0:
            raise DataError(f"split: the {name} part is empty ({how})")
        if len(np.unique(y[index])) < 2:
            raise DataError(
                f"split: the {name} part ({how}, {len(index)} rows) holds one class only; its metrics would "
                "mean nothing"
            )


def horizon_of(days: float) -> np.timedelta64:
    """A label horizon in days as the seconds the snapshot cutoffs are compared in."""
    return np.timedelta64(round(days * 86400), "s")


def cutoff_parts(
    dates: np.ndarray, horizon_days: float, test_cutoff: Any = None, val_cutoff: Any = None
) -> tuple[np.ndarray, np.datetime64, np.datetime64]:
    """The training cutoffs, the validation cutoff and the test cutoff among the sorted snapshot
    ``dates``: the test at ``test_cutoff`` (default the latest), validation at ``val_cutoff`` (default
    the latest cutoff whose label window ends by the test cutoff), training at every cutoff whose label
    window ends by the validation cutoff. A ``DataError`` when the dates cannot hold the three parts.
    ``time_split`` and the backtest's choice of test cutoffs both follow this one rule."""
    horizon = horizon_of(horizon_days)
    shown = ", ".join(str(d)[:10] for d in dates)

    def named(value: Any, key: str) -> np.datetime64:
        moment = np.datetime64(value, "s")
        if moment not in dates:
            raise DataError(f"split.{key}: {str(value)[:19]} is not a snapshot cutoff; the cutoffs: {shown}")
        return moment

    test = named(test_cutoff, "test_cutoff") if test_cutoff is not None else dates[-1]
    if val_cutoff is not None:
        val = named(val_cutoff, "val_cutoff")
        if val + horizon > test:
            raise DataError(
                f"split.val_cutoff: its {horizon_days:g}-day label window reaches past the test cutoff "
                f"{str(test)[:10]}; choose a cutoff at most {horizon_days:g} days before it"
            )
    else:
        earlier = dates[dates + horizon <= test]
        if len(earlier) == 0:
            raise DataError(
                f"split.method time: no cutoff's {horizon_days:g}-day label window ends by the test cutoff "
                f"{str(test)[:10]} (cutoffs: {shown}); add earlier snapshots or shorten labels.horizon_days"
            )
        val = earlier[-1]
    train_dates = dates[dates + horizon <= val]
    if len(train_dates) == 0:
        raise DataError(
            f"split.method time: no cutoff's {horizon_days:g}-day label window ends by the validation cutoff "
            f"{str(val)[:10]} (cutoffs: {shown}); add earlier snapshots or shorten labels.horizon_days"
        )
    return train_dates, val, test


def time_split(
    cutoffs: np.ndarray, ids: np.ndarray, y: np.ndarray, horizon_days: float, split: SplitConfig
) -> Split:
    """Out of time, in the parts ``cutoff_parts`` chooses. The gap is enforced: no training label
    window reaches past the validation cutoff, and the validation one not past the test cutoff;
    examples at cutoffs in between belong to no part (counted). ``customers: disjoint`` also leaves
    the test customers out of validation and training, and the validation customers out of training."""
    train_dates, val, test = cutoff_parts(
        np.unique(cutoffs), horizon_days, split.test_cutoff, split.val_cutoff
    )
    train_rows, val_rows, test_rows = np.isin(cutoffs, train_dates), cutoffs == val, cutoffs == test
    removed = {"train": 0, "val": 0}
    if split.customers == "disjoint":
        later = np.isin(ids, ids[test_rows])
        removed["val"] = int((val_rows & later).sum())
        val_rows &= ~later
        later |= np.isin(ids, ids[val_rows])
        removed["train"] = int((train_rows & later).sum())
        train_rows &= ~later
    parts = {
        "train": np.flatnonzero(train_rows),
        "val": np.flatnonzero(val_rows),
        "test": np.flatnonzero(test_rows),
    }
    _both_classes(y, parts, "split.method: time")
    unused = ~(train_rows | val_rows | test_rows)
    protocol = {
        "method": "time",
        "customers": split.customers,
        "horizon_days": horizon_days,
        "train_cutoffs": [str(d) for d in train_dates],
        "val_cutoff": str(val),
        "test_cutoff": str(test),
        "rows_in_gap": int((unused & (cutoffs < test) & ~np.isin(cutoffs, train_dates)).sum()),
        "rows_after_test": int((cutoffs > test).sum()),
        "rows_removed_as_later_customers": removed,
    }
    return Split(parts["train"], parts["val"], parts["test"], protocol)


def ordered_split(order: np.ndarray, y: np.ndarray, split: SplitConfig) -> Split:
    """The first ``train`` fraction of rows (in ``order``, ties in file order) train, the next ``val``
    validate, the rest test: the past predicts the future, as when the model scores next year."""
    ranked = np.argsort(order, kind="stable")
    n = len(ranked)
    first, second = round(n * split.train), round(n * (split.train + split.val))
    parts = {
        "train": np.sort(ranked[:first]),
        "val": np.sort(ranked[first:second]),
        "test": np.sort(ranked[second:]),
    }
    _both_classes(y, parts, "split.method: ordered")
    protocol: dict[str, Any] = {"method": "ordered", "by": split.by or "row order"}
    for name, index in parts.items():
        values = order[index]
        protocol[f"{name}_range"] = [str(values.min()), str(values.max())]
    return Split(parts["train"], parts["val"], parts["test"], protocol)


def protocol_text(protocol: dict[str, Any]) -> str:
    """How the parts were chosen, in one phrase (the run log and ``compare``)."""
    method = protocol.get("method", "holdout")
    if method == "time":
        train = protocol["train_cutoffs"]
        return (
            f"out of time: train cutoffs {train[0][:10]}..{train[-1][:10]} ({len(train)}), val "
            f"{protocol['val_cutoff'][:10]}, test {protocol['test_cutoff'][:10]}; {protocol['rows_in_gap']} "
            f"example(s) in the gaps left out (their label windows would reach the next part); customers "
            f"{protocol['customers']}"
        )
    if method == "ordered":
        ranges = ", ".join(
            f"{p} {protocol[f'{p}_range'][0]}..{protocol[f'{p}_range'][1]}" for p in ("train", "val", "test")
        )
        return f"ordered by {protocol['by']}: {ranges}"
    return f"{method} (random customers)"
