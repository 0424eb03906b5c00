"""``seqexp backtest``: a rolling out-of-time backtest of one config into a parent run folder; prints
its path last."""

from __future__ import annotations

from pathlib import Path

from seqexp.config.loading import load_config
from seqexp.reporting.console import out, result, say_for, tracker


def run(config: Path, overrides: list[str], *, tests: int, runs_dir: Path, quiet: bool, mlflow: bool) -> None:
    cfg = load_config(config, overrides)
    if mlflow:
        cfg = cfg.model_copy(update={"tracking": "mlflow"})
    from seqexp.pipeline.backtest import test_cutoffs
    from seqexp.pipeline.data_check import check_data

    test_cutoffs(cfg, tests)  # a backtest the snapshots cannot hold fails before any run folder exists
    check_data(cfg)
    from seqexp.pipeline.backtest import train_backtest
    from seqexp.reporting.tables import backtest_table, spread_table

    group = train_backtest(
        cfg,
        tests=tests,
        runs_dir=runs_dir,
        say=say_for(quiet),
        on_end=tracker(cfg.tracking == "mlflow", runs_dir, quiet),
    )
    if not quiet:
        out.print(backtest_table(group.summary["cutoffs"]))
        out.print(spread_table(group.summary))
    result(group.run_dir)
