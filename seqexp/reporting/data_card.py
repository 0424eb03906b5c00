"""What a leaderboard section says about the data its runs read: the source's name (and file), rows,
positive rate and the split protocol in words."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeGuard


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def data_info(config: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """What a section header says about the data: name, rows, positive rate, split protocol."""
    data = config.get("data") or {}
    name = str(data.get("name") or "unknown data")
    path = data.get("path")
    if isinstance(path, str) and path:
        name = f"{name} ({Path(path).name})"
    report = record.get("data_report") or {}
    rows = next((report[k] for k in ("customers", "rows", "examples") if _number(report.get(k))), None)
    rate = report.get("positive_rate")
    return {"name": name, "rows": rows, "positive_rate": rate if _number(rate) else None,
            "protocol": protocol(config.get("split") or {}, config.get("seed"))}  # fmt: skip


def protocol(split: dict[str, Any], seed: Any = None) -> str:
    """The split in words: ``holdout 80/10/10, stratified, seed 7`` or ``5-fold CV + 10% test``."""
    method = split.get("method", "holdout")
    seed = split.get("seed") if split.get("seed") is not None else seed
    tail = f", seed {seed}" if seed is not None else ""
    if method == "holdout":
        parts = [split.get(k, d) for k, d in (("train", 0.8), ("val", 0.1), ("test", 0.1))]
        if all(_number(p) for p in parts):
            return "holdout " + "/".join(f"{100 * p:.0f}" for p in parts) + f", stratified{tail}"
    if method == "kfold":
        test = split.get("test", 0.1)
        fold = f", fold {split['fold']}" if split.get("fold") is not None else ""
        share = f"{100 * test:.0f}%" if _number(test) else "a"
        return f"{split.get('folds', 5)}-fold CV + {share} test{fold}{tail}"
    shown = ", ".join(
        f"{k} {v}" for k, v in split.items() if k != "method" and not isinstance(v, dict | list)
    )
    return f"{method} split" + (f" ({shown})" if shown else "")


def data_column(name: str, fingerprint: str | None) -> str:
    return f"{name} {fingerprint[:6]}" if fingerprint else name
