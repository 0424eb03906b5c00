"""``table``: a CSV or Parquet file with one row per customer.

Numeric columns are copied as they are, missing values left as NaN: the preprocessing step
imputes them with statistics of the training split alone. Categorical columns become one-hot
blocks over the levels seen when the run was trained; a missing value is its own level, and a
level never seen in training becomes all zeros (counted in the report), never a crash.

The target is binary (``positive`` is 1, every other value 0) or, with more than two distinct
values, multi-class: the classes are the sorted distinct values as text (``schema["classes"]``)
and ``y`` is the class index (``data.target_type`` says which; ``auto`` counts the values).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, ValidationInfo, field_validator, model_validator

from seqexp.config.section import ConfigPath, Section
from seqexp.data.dataset import Dataset
from seqexp.data.readers import (
    as_class_index,
    as_label,
    as_text,
    categorical_codes,
    check_two_classes,
    class_names,
    learn_levels,
    mostly_numbers,
    numeric_values,
    onehot,
    read_frame,
    require_columns,
    shown,
)
from seqexp.errors import DataError
from seqexp.lazy import lazy_module
from seqexp.registry import DATA_SOURCES

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # imported on first use: light commands never pay for it

Scalar = str | int | float | bool


class FileOptions(Section):
    """How to read a CSV (ignored for Parquet except column_names)."""

    sep: str = Field(",", min_length=1, description="CSV field separator (';' for the UCI bank data).")
    header: bool = Field(True, description="Whether the first CSV line holds the column names.")
    column_names: list[str] | None = Field(
        None, description="Column names, required when header is false (they replace a header if any)."
    )

    @model_validator(mode="after")
    def _names_without_header(self) -> FileOptions:
        if not self.header and not self.column_names:
            raise ValueError("a file without header needs column_names")
        return self


class TableConfig(FileOptions):
    """A CSV or Parquet table, one row per customer: target, numeric and categorical columns."""

    name: Literal["table"] = "table"
    path: ConfigPath = Field("data.csv", description="The table (.csv, .csv.gz... or .parquet).")
    cache: bool = Field(
        True,
        description="Reuse the arrays built before (user cache folder) while file and section are unchanged.",
    )
    id: str | None = Field(None, description="Customer id column (kept for predictions, not a feature).")
    target: str = Field("target", description="Target column.")
    target_type: Literal["auto", "binary", "multiclass"] = Field(
        "auto",
        description="auto: two distinct target values -> binary, more -> multi-class (classes: the sorted "
        "values); binary: positive vs every other value; multiclass: one class per value.",
    )
    positive: Scalar | None = Field(
        None, description="Binary targets: the value that counts as positive (e.g. yes); none: 1."
    )
    numeric: list[str] = Field([], description="Numeric feature columns.")
    categorical: list[str] = Field([], description="Categorical feature columns (one-hot encoded).")
    others: Literal["auto", "ignore"] = Field(
        "auto",
        description="Columns not named anywhere: 'auto' types them (numeric dtype -> numeric, else "
        "categorical, printed in the run log); 'ignore' leaves them out.",
    )
    drop: list[str] = Field([], description="Columns never used as features (leaks, free text...).")
    impute: Literal["mean", "median"] = Field(
        "mean", description="How missing numeric values are filled (statistic of the training split)."
    )

    @field_validator("positive")
    @classmethod
    def _positive_is_binary(cls, value: Scalar | None, info: ValidationInfo) -> Scalar | None:
        if value is not None and info.data.get("target_type") == "multiclass":
            raise ValueError("applies to binary targets; remove it (data.target_type is multiclass)")
        return value


DEFAULT_POSITIVE = 1
AUTO_MAX_CLASSES = 100
"""``target_type: auto`` refuses more distinct target values than this: such a column is more likely
an amount or an id than a label (``target_type: multiclass`` takes them all)."""


def _target_kind(frame: pd.DataFrame, cfg: TableConfig) -> list[str] | None:
    """The class names of a multi-class target, or None for a binary one (decided at training time)."""
    column = frame[cfg.target]
    where = f"data.target '{cfg.target}' of {Path(cfg.path).name}"
    if cfg.target_type == "binary":
        return None
    classes = class_names(column)
    listed = ", ".join(classes[:6]) + (", ..." if len(classes) > 6 else "")
    if cfg.target_type == "multiclass":
        if len(classes) <= 2:
            raise DataError(
                f"data.target_type: multiclass needs more than two target values, but {where} has "
                f"{len(classes)} ({listed}); use target_type: binary (or auto) with data.positive"
            )
        return classes
    if len(classes) <= 2:
        return None
    if cfg.positive is not None:
        raise DataError(
            f"data.positive: {where} has {len(classes)} values ({listed}), a multi-class target, and "
            "positive applies to binary targets; remove data.positive, or set data.target_type: binary "
            "to score positive vs the rest"
        )
    if len(classes) > AUTO_MAX_CLASSES:
        raise DataError(
            f"data.target: {where} has {len(classes)} distinct values (more than {AUTO_MAX_CLASSES}), "
            "which looks like a number or an id rather than a label; check data.target, or set "
            "data.target_type: multiclass to use every value as a class"
        )
    return classes


def _negative(column: pd.Series, positive: Scalar) -> str | None:
    """The one value of a two-valued binary target that is not ``positive``, as text (else None)."""
    others = [v for v in class_names(column) if v != as_text(pd.Series([positive])).iloc[0]]
    return others[0] if len(others) == 1 else None


def _detect(frame: pd.DataFrame, cfg: TableConfig, taken: set[str]) -> tuple[list[str], list[str]]:
    numeric: list[str] = []
    categorical: list[str] = []
    for column in frame.columns:
        if column in taken:
            continue
        is_number = pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(
            frame[column]
        )
        stray = None if is_number else mostly_numbers(frame[column])
        if stray is not None:
            raise DataError(
                f"data: column '{column}' of {Path(cfg.path).name} is numbers except for values such as "
                f"{shown(stray)}; clean the file (empty cells are imputed), or name the column under "
                "data.categorical (levels) or data.drop"
            )
        (numeric if is_number else categorical).append(column)
    return numeric, categorical


def encode_table(
    frame: pd.DataFrame, schema: dict[str, Any], *, path: str, what: str = "data"
) -> tuple[np.ndarray, list[str], list[list[int]], dict[str, int]]:
    """Columns -> ``X`` as the schema says; returns X, feature names, one-hot groups, unseen counts."""
    numeric, levels = schema["numeric"], schema["categorical"]
    require_columns(frame, [*numeric, *levels], where=f"{what}.numeric/categorical", path=path)
    blocks, names, groups, unseen = [], list(numeric), [], {}
    for column in numeric:
        values = numeric_values(frame[column], where=f"{what}.numeric", column=column, path=path)
        blocks.append(values.to_numpy(dtype=np.float32)[:, None])
    offset = len(numeric)
    for column, column_levels in levels.items():
        codes, n_unseen = categorical_codes(frame[column], column_levels)
        if n_unseen:
            unseen[column] = n_unseen
        blocks.append(onehot(codes, len(column_levels)))
        groups.append(list(range(offset, offset + len(column_levels))))
        names.extend(f"{column}={level}" for level in column_levels)
        offset += len(column_levels)
    X = np.hstack(blocks) if blocks else np.zeros((len(frame), 0), dtype=np.float32)
    return X.astype(np.float32, copy=False), names, groups, unseen


def check_table(cfg: TableConfig) -> str:
    """A sample of the table: the file, and every column the config names. Raises a ``DataError``."""
    sample = read_frame(
        cfg.path, what="data.path", sep=cfg.sep, header=cfg.header, column_names=cfg.column_names, nrows=2000
    )
    named = [c for c in (cfg.id, cfg.target) if c] + cfg.drop + cfg.numeric + cfg.categorical
    require_columns(sample, named, where="data", path=cfg.path)
    return f"{len(sample)} sample rows of {Path(cfg.path).name} read: the named columns are there"


def table_from_frame(
    cfg: TableConfig, frame: pd.DataFrame, *, schema: dict | None = None, labelled: bool = True
) -> Dataset:
    """Encode rows already in memory (a served request) exactly as ``build_table`` encodes the file's;
    ``cfg.path`` only names where they came from in messages."""
    notes: list[str] = []
    if schema is None:
        named = [c for c in (cfg.id, cfg.target) if c] + cfg.drop + cfg.numeric + cfg.categorical
        require_columns(frame, named, where="data", path=cfg.path)
        numeric, categorical = list(cfg.numeric), list(cfg.categorical)
        if cfg.others == "auto":
            auto_num, auto_cat = _detect(frame, cfg, set(named))
            numeric += auto_num
            categorical += auto_cat
            if auto_num or auto_cat:
                notes.append(
                    f"columns typed automatically: numeric {auto_num or '-'}; categorical {auto_cat or '-'}"
                )
        if cfg.drop:
            notes.append(f"dropped columns: {cfg.drop}")
        classes = _target_kind(frame, cfg) if labelled else None
        schema = {
            "source": "table",
            "id": cfg.id,
            "target": cfg.target,
            "positive": cfg.positive if cfg.positive is not None or classes else DEFAULT_POSITIVE,
            "numeric": numeric,
            "categorical": {c: learn_levels(frame[c]) for c in categorical},
            "impute": cfg.impute,
        }
        if classes:  # binary schemas stay as they were: no classes, no target_type
            schema.update(target_type="multiclass", classes=classes)
        elif labelled and (negative := _negative(frame[cfg.target], schema["positive"])) is not None:
            schema["negative"] = negative  # the name figures give class 0 ("no" beside "yes")
    report: dict[str, Any] = {}
    if schema.get("id"):
        frame = _one_row_per_id(frame, schema["id"], cfg.path, report, notes)
    X, names, groups, unseen = encode_table(frame, schema, path=cfg.path)

    n_rows = len(frame)
    ids = frame[schema["id"]].to_numpy() if schema.get("id") else np.arange(n_rows)
    position = frame.index.to_numpy(dtype=np.int64)  # each row's place in the file: split.method ordered
    report.update(rows=n_rows, features=len(names))
    if labelled:
        require_columns(frame, [schema["target"]], where="data.target", path=cfg.path)
        column = f"data.target '{schema['target']}'"
        classes = schema.get("classes")
        if classes:  # multi-class: the saved classes encode new data too
            y = as_class_index(frame[schema["target"]], classes, column=column, path=cfg.path)
        else:
            y = as_label(frame[schema["target"]], schema["positive"], column=column, path=cfg.path)
        has_label = ~np.isnan(y)
        if not has_label.all():
            notes.append(f"{int((~has_label).sum())} row(s) without a target value left out")
        report["rows_without_target"] = int((~has_label).sum())
        X, ids, y = X[has_label], ids[has_label], y[has_label].astype(np.int64)
        position = position[has_label]
        if classes:
            report.update(class_report(y, len(classes)))
        else:
            check_two_classes(y, column=column, path=cfg.path)
            report["positive_rate"] = round(float(y.mean()), 4)
    else:
        y = np.full(n_rows, -1, dtype=np.int64)
    missing = {n: int(c) for n, c in zip(names, np.isnan(X).sum(axis=0), strict=True) if c}
    if missing:
        notes.append(f"missing numeric values (imputed with the training {schema['impute']}): {missing}")
    if unseen:
        notes.append(f"category levels not seen in training (encoded as all zeros): {unseen}")
    report.update(missing_values=missing, unseen_levels=unseen, notes=notes)
    return Dataset(X=X, y=y, ids=ids, feature_names=names, onehot_groups=groups, report=report, schema=schema,
                   position=position)  # fmt: skip


@DATA_SOURCES.register(TableConfig, tags=("file", "table"), check=check_table, frame=table_from_frame)
def build_table(cfg: TableConfig, *, seed: int, schema: dict | None = None, labelled: bool = True) -> Dataset:
    """Read the table and encode it (with ``schema``: exactly as the run's training data was)."""
    frame = read_frame(
        cfg.path, what="data.path", sep=cfg.sep, header=cfg.header, column_names=cfg.column_names
    )
    return table_from_frame(cfg, frame, schema=schema, labelled=labelled)


def class_report(y: np.ndarray, n_classes: int) -> dict[str, Any]:
    """What the data report says about a multi-class target (as the synthetic next-shop source does)."""
    counts = np.bincount(y, minlength=n_classes)
    return {
        "classes": n_classes,
        "class_counts": counts.tolist(),
        "most_frequent_class_share": round(float(counts.max() / max(counts.sum(), 1)), 4),
        "rarest_class_rows": int(counts.min()),
    }


def _one_row_per_id(
    frame: pd.DataFrame, id_col: str, path: str, report: dict, notes: list[str]
) -> pd.DataFrame:
    """Exact duplicate rows of one customer are dropped (and counted); two different rows with the
    same id are an error: which one is the customer is not the runner's guess to make."""
    require_columns(frame, [id_col], where="data.id", path=path)
    empty = int(frame[id_col].isna().sum())
    if empty:
        raise DataError(f"data.id: column '{id_col}' of {Path(path).name} has {empty} empty id(s)")
    exact = frame.duplicated()
    report["duplicate_rows"] = int(exact.sum())
    if exact.any():
        notes.append(f"{int(exact.sum())} exact duplicate row(s) dropped (same {id_col} and values)")
        frame = frame[~exact]  # the index keeps each row's place in the file, for messages
    repeated = frame[id_col].duplicated(keep=False)
    if repeated.any():
        sample = frame.loc[repeated, id_col].iloc[0]
        rows = [int(i) + 1 for i in frame.index[(frame[id_col] == sample).to_numpy()][:2]]
        raise DataError(
            f"data.id: {int(frame.loc[repeated, id_col].nunique())} id(s) of column '{id_col}' appear on "
            f"more than one row of {Path(path).name} with different values (e.g. {shown(sample)} on data "
            f"rows {rows[0]} and {rows[1]}); a table needs one row per customer: remove or merge them"
        )
    return frame
