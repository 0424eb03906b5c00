"""What a leaderboard section says about the data its runs read: the source's name (and file), rows,
positive rate and the split protocol in words."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeGuard


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def data_info(
    config: dict[str, Any], record: dict[str, Any], group: tuple[str, int] | None = None
) -> dict[str, Any]:
    """What a section header says about the data: name, rows, positive rate, split protocol, and the
    protocol's family (``group``: a group parent's kind and size)."""
    data = config.get("data") or {}
    name = str(data.get("name") or "unknown data")
    path = data.get("path")
    if isinstance(path, str) and path:
        name = f"{name} ({Path(path).name})"
    report = record.get("data_report") or {}
    rows = next((report[k] for k in ("examples", "customers", "rows") if _number(report.get(k))), None)
    rate = report.get("positive_rate")
    split = config.get("split") or {}
    recorded = record.get("split")
    if split.get("method") == "time" and isinstance(recorded, dict):  # the cutoffs the run used
        split = {**split, **{k: v for k, v in recorded.items() if v is not None}}
    family = protocol_family(split, group[0] if group else None)
    shown = f"rolling backtest over {group[1]} test cutoffs" if group and family == "backtest" else None
    return {"name": name, "rows": rows, "positive_rate": rate if _number(rate) else None,
            "protocol": shown or protocol(split, config.get("seed")), "family": family}  # fmt: skip


def protocol(split: dict[str, Any], seed: Any = None) -> str:
    """The split in words: ``holdout 80/10/10, stratified, seed 7`` or ``5-fold CV + 10% test``."""
    method = split.get("method", "holdout")
    seed = split.get("seed") if split.get("seed") is not None else seed
    tail = f", seed {seed}" if seed is not None else ""
    if method == "holdout":
        parts = [split.get(k, d) for k, d in (("train", 0.8), ("val", 0.1), ("test", 0.1))]
        if all(_number(p) for p in parts):
            return "holdout " + "/".join(f"{100 * p:.0f}" for p in parts) + f", stratified{tail}"
    if method == "time":
        customers = f"customers {split.get('customers', 'shared')}"
        train, val, test = split.get("train_cutoffs"), split.get("val_cutoff"), split.get("test_cutoff")
        if isinstance(train, list) and train and val and test:  # as run.json records them
            return (f"out of time: trained on cutoffs {_day(train[0])} to {_day(train[-1])}, validated "
                    f"on {_day(val)}, tested on {_day(test)} ({customers})")  # fmt: skip
        at = f"test cutoff {_day(test)}" if test else "test at the latest cutoff"
        return f"out of time ({at}, {customers})"
    if method == "ordered":
        fractions = "/".join(
            f"{100 * split.get(k, d):.0f}" for k, d in (("train", 0.8), ("val", 0.1), ("test", 0.1))
        )
        return f"ordered {fractions} by {split.get('by') or 'row order'} (the past trains, the future tests)"
    if method == "kfold":
        test = split.get("test", 0.1)
        fold = f", fold {split['fold']}" if split.get("fold") is not None else ""
        share = f"{100 * test:.0f}%" if _number(test) else "a"
        return f"{split.get('folds', 5)}-fold CV + {share} test{fold}{tail}"
    shown = ", ".join(
        f"{k} {v}" for k, v in split.items() if k != "method" and not isinstance(v, dict | list)
    )
    return f"{method} split" + (f" ({shown})" if shown else "")


def _day(value: Any) -> str:
    return str(value)[:10]  # 2001-02-01T00:00:00 -> 2001-02-01


def protocol_family(split: dict[str, Any], kind: str | None = None) -> str:
    """Runs are ranked together only when measured the same way: random splits (holdout, k-fold),
    one out-of-time test, a rolling backtest (a mean over cutoffs), or an ordered split."""
    if kind == "backtest":
        return "backtest"
    method = split.get("method", "holdout")
    return {"time": "out of time", "ordered": "ordered"}.get(method, "random")


def data_column(name: str, fingerprint: str | None) -> str:
    return f"{name} {fingerprint[:6]}" if fingerprint else name
