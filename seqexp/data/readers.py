"""Reading users' files and checking them, with errors that say what is wrong and how to fix it.

Shared by the ``table`` and ``events`` sources: CSV or Parquet in, a DataFrame out; column checks
that name the missing column and list the existing ones; timestamps parsed strictly; a target
turned into 0/1 with a check that both classes occur.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqexp.errors import DataError
from seqexp.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # imported on first use: light commands never pay for it

MISSING_LEVEL = "(missing)"
"""The level a missing categorical value becomes: missing is information, not an error."""


def shown(value: Any) -> str:
    """A cell value as a message shows it: ``7`` or ``'abc'``, never ``np.int64(7)``."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def data_row(values: pd.Series, position: int) -> int:
    """The 1-based data row (line after the header) of ``values``' element at ``position``: the index
    a reader gave the frame survives row drops (duplicates), so it still points into the file."""
    label = values.index[position]
    return int(label) + 1 if isinstance(label, int | np.integer) else position + 1


def read_frame(
    path: str | Path,
    *,
    what: str,
    sep: str = ",",
    header: bool = True,
    column_names: list[str] | None = None,
    nrows: int | None = None,
) -> pd.DataFrame:
    """Read a CSV (any extension but .parquet/.pq) or Parquet file; ``what`` names the config key.
    ``nrows``: only the first rows (``seqexp validate`` checks a sample, never the whole file)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"{what}: no such file {path}; fix the path (relative to the config file) or set "
            "SEQEXP_DATA to the folder that holds the data"
        )
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
            if nrows is not None:
                frame = frame.head(nrows)
            if column_names:
                frame.columns = _rename(list(frame.columns), column_names, path)
        else:
            frame = pd.read_csv(
                path, sep=sep, header=0 if header else None, names=column_names, skipinitialspace=True,
                nrows=nrows,
            )  # fmt: skip
    except pd.errors.EmptyDataError:
        raise DataError(f"{what}: {path} is empty (no header, no rows)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise DataError(f"{what}: cannot read {path}: {str(exc).splitlines()[0]}") from None
    if frame.empty:
        raise DataError(f"{what}: {path} has no data rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    if header and not column_names and len(frame.columns) == 1 and sep == "," and ";" in frame.columns[0]:
        raise DataError(f"{what}: {path} has one column '{frame.columns[0][:40]}...'; set sep: ';'")
    return frame


def _rename(existing: list[str], names: list[str], path: Path) -> list[str]:
    if len(existing) != len(names):
        raise DataError(f"column_names: {len(names)} names given but {path} has {len(existing)} columns")
    return names


def require_columns(frame: pd.DataFrame, columns: list[str], *, where: str, path: str | Path) -> None:
    """Every named column must exist: name the first missing one and list those that do."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        existing = ", ".join(map(str, frame.columns))
        raise DataError(
            f"{where}: column '{missing[0]}' is not in {Path(path).name}"
            + (f" (nor {', '.join(missing[1:])})" if len(missing) > 1 else "")
            + f"; its columns are: {existing}"
        )


def parse_times(values: pd.Series, fmt: str | None, *, column: str, path: str | Path) -> pd.Series:
    """Parse timestamps strictly: one unparseable value is an error showing it and the format tried."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
    if values.isna().any():
        raise DataError(
            f"{column}: {int(values.isna().sum())} empty timestamp(s) in {Path(path).name} "
            f"(first at data row {data_row(values, int(np.flatnonzero(values.isna().to_numpy())[0]))})"
        )
    text = values.astype(str).str.strip()
    # Each distinct text parsed once (a log repeats its dates): the same values as parsing every cell,
    # in order of first appearance, so a format inferred from the first value is the same too.
    codes, distinct = pd.factorize(text)
    parsed = pd.Series(pd.to_datetime(pd.Index(distinct), format=fmt, errors="coerce").take(codes),
                       index=text.index, name=text.name)  # fmt: skip
    bad = parsed.isna().to_numpy()
    if bad.any():
        sample = text.to_numpy()[bad][0]
        tried = f"format '{fmt}'" if fmt else "automatic detection (set data.time_format, e.g. '%d-%b-%y')"
        raise DataError(
            f"{column}: cannot parse timestamp '{sample}' ({int(bad.sum())} of {len(text)} values) "
            f"in {Path(path).name} with {tried}"
        )
    return parsed


def as_label(values: pd.Series, positive: Any, *, column: str, path: str | Path) -> np.ndarray:
    """Target values -> 0/1 int64 with ``positive`` as 1; NaN where the target itself is missing."""
    present = values.notna().to_numpy()
    if pd.api.types.is_numeric_dtype(values) and not isinstance(positive, str):
        hit = values.to_numpy(dtype=np.float64) == float(positive)
    else:
        hit = (values.astype(str).str.strip() == str(positive).strip()).to_numpy()
    if not hit.any():
        seen = ", ".join(map(str, pd.unique(values.dropna())[:10]))
        raise DataError(
            f"{column}: the positive value {positive!r} never occurs in {Path(path).name}; "
            f"values seen: {seen}. Set data.positive to one of them"
        )
    return np.where(present, hit.astype(np.float64), np.nan)


OTHER_CLASS = "(other)"
"""The class (or category level) that stands for every value outside the most frequent ones."""


def as_text(values: pd.Series) -> pd.Series:
    """Values as the text a class or level name shows: integral floats lose their ``.0`` (a numeric
    column with an empty cell is read as floats: 3.0 is class ``3``); missing values stay missing."""
    present = values.dropna()
    if pd.api.types.is_float_dtype(values) and len(present) and (present % 1 == 0).all():
        values = values.astype("Int64")
    return values.astype("string").str.strip()


def class_names(values: pd.Series) -> list[str]:
    """The distinct non-missing values as class names, in class-index order: numbers sorted by value,
    anything else sorted as text."""
    present = values.dropna()
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        ordered = pd.Series(np.sort(pd.unique(present)), dtype=values.dtype)
        return as_text(ordered).tolist()
    return sorted(pd.unique(as_text(present)).tolist())


def as_class_index(values: pd.Series, classes: list[str], *, column: str, path: str | Path) -> np.ndarray:
    """Target values -> index into ``classes`` (float, NaN where the target is missing); a value that is
    not one of the classes is an error naming it and its data row."""
    text = as_text(values)
    codes = pd.Categorical(text, categories=classes).codes.astype(np.float64)
    unknown = (codes < 0) & text.notna().to_numpy()
    if unknown.any():
        first = int(np.flatnonzero(unknown)[0])
        shown_classes = ", ".join(classes[:10]) + (", ..." if len(classes) > 10 else "")
        raise DataError(
            f"{column}: value {shown(text.iloc[first])} of {Path(path).name} (data row "
            f"{data_row(values, first)}; {int(unknown.sum())} row(s) in all) is not one of the "
            f"{len(classes)} classes the run was trained on ({shown_classes}); remove those rows, or score "
            "them with predict (no labels)"
        )
    return np.where(codes < 0, np.nan, codes)


def top_levels(values: pd.Series, k: int) -> list[str]:
    """The ``k`` most frequent values of a text column, most frequent first (ties: alphabetical)."""
    counts = values.value_counts(dropna=True)
    order = sorted(zip(counts.index.astype(str), counts.to_numpy(), strict=True), key=lambda t: (-t[1], t[0]))
    return [level for level, _ in order[:k]]


def check_two_classes(
    y: np.ndarray, *, column: str, path: str | Path | None = None, fix: str = "data.positive and the file"
) -> None:
    """Both classes present, else an error saying where to look (``fix``)."""
    classes = np.unique(y)
    if len(classes) < 2:
        where = f" in {Path(path).name}" if path is not None else ""
        raise DataError(
            f"{column}: every labelled row has class {int(classes[0]) if len(classes) else '?'} "
            f"({len(y)} row(s){where}); a classifier needs both positives and negatives (check {fix})"
        )


def numeric_values(values: pd.Series, *, where: str, column: str, path: str | Path) -> pd.Series:
    """A numeric column as float64, missing values left NaN (imputed later with training statistics).

    Text in it, or an infinite value, is an error naming the file, column, count and first row:
    text means the column is not numeric (or the file is dirty); infinity usually is a division by
    zero upstream, and filling it like a missing value would hide that.
    """
    numbers = pd.to_numeric(values, errors="coerce")
    text = (numbers.isna() & values.notna()).to_numpy()
    name = Path(path).name
    if text.any():
        first = int(np.flatnonzero(text)[0])
        raise DataError(
            f"{where}: column '{column}' of {name} holds text such as {shown(values.iloc[first])} "
            f"({int(text.sum())} of {len(values)} values, first at data row {data_row(values, first)}); "
            "clean the file, "
            "or list the column under categorical"
        )
    numbers = numbers.astype(np.float64)
    infinite = np.isinf(numbers.to_numpy())
    if infinite.any():
        first = int(np.flatnonzero(infinite)[0])
        raise DataError(
            f"{where}: column '{column}' of {name} holds {int(infinite.sum())} infinite value(s) "
            f"(first at data row {data_row(values, first)}: {numbers.iloc[first]}); infinity usually comes "
            "from a division by zero upstream: fix it there, or leave the cell empty to have it imputed"
        )
    return numbers


def mostly_numbers(values: pd.Series, share: float = 0.9) -> Any | None:
    """For a text column whose values are nearly all numbers: a value that is not one, else ``None``.

    Such a column is a numeric column with a few bad cells ('n/a ', '1,200', '?'); typed as
    categorical it would become one one-hot level per distinct number.
    """
    present = values.dropna()
    if present.empty or pd.api.types.is_numeric_dtype(values):
        return None
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().mean() < share:
        return None
    return present[numbers.isna()].iloc[0]


def categorical_codes(values: pd.Series, levels: list[str]) -> tuple[np.ndarray, int]:
    """Codes of ``values`` among ``levels`` (missing -> the missing level); -1 and a count for unseen."""
    # The text of each value as ``astype(str)`` writes it, looked up among the levels: the codes a
    # Categorical with these categories gives, without its per-call cost (a served row pays it per
    # column) or its deprecated acceptance of values outside the categories.
    present = values.notna().to_numpy()
    text = [
        str(v) if keep else MISSING_LEVEL
        for v, keep in zip(values.to_numpy(dtype=object), present, strict=True)
    ]
    codes = pd.Index(levels, dtype=object).get_indexer(text).astype(np.int64)
    return codes, int((codes < 0).sum())


def learn_levels(values: pd.Series) -> list[str]:
    """Sorted levels of a categorical column, the missing level included when it occurs."""
    text = values.astype(object).where(values.notna(), MISSING_LEVEL).astype(str)
    return sorted(pd.unique(text).tolist())


def onehot(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """(n,) codes -> (n, n_levels) float32; code -1 (an unseen level) -> all zeros."""
    out = np.zeros((len(codes), n_levels), dtype=np.float32)
    known = codes >= 0
    out[np.flatnonzero(known), codes[known]] = 1.0
    return out
