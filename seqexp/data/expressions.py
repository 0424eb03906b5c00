"""Expressions in a data config: ``data.where`` (which events to keep), ``data.derive`` (new per-event
columns) and ``data.labels.where`` (which events of the label window count).

They are pandas ``DataFrame.eval`` / ``query`` expressions on the log's columns (``AMOUNT * SALES_PRICE``,
``PRODUCT_SUBCLASS == 100205 and AMOUNT > 0``, ``kind in ['a', 'b']``, `` `Unit Price` > 2``), and they
stay expressions: before pandas sees one, Python's ``ast`` checks that it holds only column names,
literals, arithmetic, comparisons, ``and``/``or``/``not``/``in`` and a few math functions of pandas'
own (``abs``, ``log``...). An assignment (``=`` for ``==``), an attribute (``x.str``), a subscript, a
lambda, an import, ``@variable`` or any other call is refused with a message saying so. The syntax is
checked when the config is validated (no data needed); column names when the log is read.
"""

from __future__ import annotations

import ast
import difflib
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seqexp.errors import DataError
from seqexp.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")  # imported on first use: light commands never pay for it

FUNCTIONS = frozenset(
    {"abs", "log", "log1p", "log10", "exp", "expm1", "sqrt", "floor", "ceil", "sin", "cos", "tanh"}
)
"""Math functions pandas' eval evaluates itself (element-wise numpy ufuncs): the only calls allowed."""

_TOKENS = re.compile(r"""(?P<text>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?P<quoted>`[^`]*`)""")
_ASSIGN = re.compile(r"(?<![=!<>])=(?!=)")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ALLOWED = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd, ast.Invert,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.BitAnd, ast.BitOr,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple,
)  # fmt: skip
_REFUSED = {
    ast.Attribute: "attribute access ('.')",
    ast.Subscript: "indexing ('[...]' after a name)",
    ast.Lambda: "lambda",
    ast.IfExp: "'x if c else y'",
    ast.NamedExpr: "assignment (':=')",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.JoinedStr: "an f-string",
    ast.ListComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.Is: "'is' (write '==')",
    ast.IsNot: "'is not' (write '!=')",
}
HINT = "an expression combines columns and literals with + - * / ** == != < <= > >= and or not in"


def check_syntax(expression: str) -> list[str]:
    """The column names ``expression`` reads, once its syntax is known to be a plain expression;
    otherwise ``ValueError`` saying what is wrong and what to change, worded to follow the expression
    (``'a = 1' has a single '='...``). No data needed."""
    if not expression.strip():
        raise ValueError("is empty; write a condition such as AMOUNT > 0, or leave the key out")
    quoted: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        if match.group("text") is not None:
            return match.group("text")
        quoted.append(match.group("quoted")[1:-1])
        return f"__column_{len(quoted) - 1}__"

    code = _TOKENS.sub(placeholder, expression)
    bare = _TOKENS.sub("''", code)  # literals blanked: an '=' inside a string is no assignment
    if _ASSIGN.search(bare):
        raise ValueError("has a single '=' (an assignment); to compare, write '=='")
    if "@" in bare:
        raise ValueError("uses '@' (a Python variable); write the value itself")
    try:
        tree = ast.parse(code.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"is not a valid expression ({exc.msg}); {HINT}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if not (isinstance(func, ast.Name) and func.id in FUNCTIONS) or node.keywords:
                shown = func.id if isinstance(func, ast.Name) else ast.unparse(func)
                raise ValueError(
                    f"calls {shown}(): only the math functions {', '.join(sorted(FUNCTIONS))} may be called; "
                    f"{HINT}"
                )
            continue
        if not isinstance(node, _ALLOWED):
            what = next((text for kind, text in _REFUSED.items() if isinstance(node, kind)), None)
            what = what or type(node).__name__
            raise ValueError(f"uses {what}, which an expression here cannot hold; {HINT}")
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    columns = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called]
    columns = [quoted[int(c[9:-2])] if re.fullmatch(r"__column_\d+__", c) else c for c in columns]
    if not columns:
        raise ValueError("reads no column; name at least one column of the log")
    return list(dict.fromkeys(columns))


def check_derive_names(derive: dict[str, str], reserved: list[str]) -> None:
    """Names of derived columns: identifiers (expressions and feature names use them), not a column
    the config already names for something else; each expression's syntax checked."""
    for name, expression in derive.items():
        if not _NAME.match(name):
            raise ValueError(
                f"{name!r}: a derived column's name is letters, digits and '_' (not starting with a digit)"
            )
        if name in reserved:
            raise ValueError(f"{name!r}: already the id or time column; pick another name")
        try:
            check_syntax(expression)
        except ValueError as exc:
            raise ValueError(f"{name!r} {exc}") from None


def _require(columns: list[str], frame: pd.DataFrame, *, key: str, expression: str, path: str) -> None:
    known = [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in known]
    if missing:
        close = difflib.get_close_matches(missing[0], known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise DataError(
            f"{key}: cannot evaluate {expression!r}: column '{missing[0]}' is not in {Path(path).name}; "
            f"{hint}its columns are: {', '.join(known)}"
        )


def _evaluate(frame: pd.DataFrame, expression: str, *, key: str, path: str) -> pd.Series:
    try:
        columns = check_syntax(expression)
    except ValueError as exc:
        raise DataError(f"{key}: {expression!r} {exc}") from None
    _require(columns, frame, key=key, expression=expression, path=path)
    try:
        result = frame.eval(expression)
    except Exception as exc:  # pandas raises many types for an expression that fails on the data
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{key}: cannot evaluate {expression!r} on {Path(path).name}: {first}") from None
    if not isinstance(result, pd.Series):
        result = pd.Series(np.broadcast_to(np.asarray(result), len(frame)), index=frame.index)
    return result


def condition(frame: pd.DataFrame, expression: str, *, key: str, path: str) -> np.ndarray:
    """The rows of ``frame`` where ``expression`` holds (a bool array; a missing value never holds)."""
    result = _evaluate(frame, expression, key=key, path=path)
    if not pd.api.types.is_bool_dtype(result.dtype):
        raise DataError(
            f"{key}: {expression!r} gives {result.dtype} values, not true/false; write a condition "
            "such as AMOUNT > 0 (and, or, not combine conditions)"
        )
    return result.fillna(False).to_numpy(dtype=bool)


def derive_columns(frame: pd.DataFrame, derive: dict[str, str], *, path: str) -> pd.DataFrame:
    """``frame`` with one float64 column per ``derive`` entry, in order (a later one may read an
    earlier one). A condition becomes 0/1; text or dates are refused; so is infinity (a division by
    zero: guard it, e.g. ``a / b`` -> ``a / (b + (b == 0))``)."""
    for name, expression in derive.items():
        key = f"data.derive.{name}"
        if name in frame.columns:
            raise DataError(f"{key}: {Path(path).name} already has a column '{name}'; pick another name")
        result = _evaluate(frame, expression, key=key, path=path)
        if pd.api.types.is_bool_dtype(result.dtype):
            values = result.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
        elif pd.api.types.is_numeric_dtype(result.dtype):
            values = result.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            raise DataError(
                f"{key}: {expression!r} gives {result.dtype} values; a derived column is a number "
                "(AMOUNT * SALES_PRICE) or a condition (PRODUCT_SUBCLASS == 100205, which becomes 0/1)"
            )
        infinite = np.isinf(values)
        if infinite.any():
            first = int(np.flatnonzero(infinite)[0])
            raise DataError(
                f"{key}: {expression!r} is infinite for {int(infinite.sum())} event(s) (first at data row "
                f"{first + 1}), usually a division by zero; guard it, e.g. a / (b + (b == 0))"
            )
        frame = frame.assign(**{name: values})
    return frame
