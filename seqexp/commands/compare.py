"""``seqexp compare``: a leaderboard of run folders, one section per data set, and one self-contained
HTML report (figures embedded as base64, so the file can be mailed or archived alone).

Every kind of run folder seqexp writes is understood (runs, seeds / k-fold parents, tune folders
through their top runs, ensembles); runs that failed, were interrupted, are still running or cannot
be read are listed with their status, never crash the leaderboard, and sort below the completed ones.
"""

from __future__ import annotations

from pathlib import Path

from seqexp.errors import UserError
from seqexp.reporting.board import Leaderboard, build_leaderboard, find_runs
from seqexp.runfolder import atomic, files

FORMATS = ("table", "csv", "json")


def run(
    run_dirs: list[Path],
    *,
    all_runs: bool,
    runs_dir: Path,
    sort: str,
    out_dir: Path,
    quiet: bool,
    children: bool = False,
    fmt: str = "table",
) -> None:
    from seqexp.reporting.board_out import print_board, to_csv, to_document
    from seqexp.reporting.console import print_document, print_json, result, say_for, warn

    if fmt not in FORMATS:
        raise UserError(f"--format: '{fmt}' is not one of {', '.join(FORMATS)}")
    if bool(run_dirs) == all_runs:
        raise UserError("give run folders, or --all (with --runs-dir) for every run, not both")
    folders = find_runs(runs_dir) if all_runs else list(run_dirs)
    board, folder = compare_runs(
        folders, out_dir, sort, children=children, root=runs_dir if all_runs else None
    )
    if fmt == "table":
        if not quiet:
            print_board(board)
        result(folder)
        return
    if not quiet:
        for line in filter(None, [board.warning, *board.notes]):
            warn(line)
        say_for(quiet)(f"report: {folder}")
    if fmt == "csv":
        print_document(to_csv(board))
    else:
        print_json(to_document(board, folder))


def compare_runs(
    folders: list[Path],
    out_dir: Path,
    sort: str = "pr_auc",
    *,
    children: bool = False,
    root: Path | None = None,
) -> tuple[Leaderboard, Path]:
    """Write leaderboard.csv, the overlaid ROC / PR curves and report.html into ``out_dir``."""
    from seqexp.reporting.board_out import to_csv
    from seqexp.reporting.html_report import write_report

    board = build_leaderboard([Path(f) for f in folders], sort, children=children, root=root)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic.write_text(out_dir / files.LEADERBOARD_CSV, to_csv(board))
    write_report(board, out_dir)
    return board, out_dir
