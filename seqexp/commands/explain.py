"""``seqexp explain``: why a completed run's model scores as it does.

Global: permutation importance on the run's validation split, by feature and (sequences) by time
step, with figures. Per customer: the top K reasons with their direction, for the run's test split
or for new customers (INPUT, encoded with the run's schema as for predict). Everything goes to
``RUN/explanations/<timestamp>-<test|input name>/`` (docs/explain.md); the last line printed is
that folder. The work lives in ``seqexp.explain``, which ``predict --explain`` shares.
"""

from __future__ import annotations

from pathlib import Path


def run(
    run_dir: Path,
    source: Path | None,
    *,
    top: int,
    trust: bool,
    quiet: bool,
    repeats: int = 5,
) -> None:
    from seqexp.explain.explainer import explain_run
    from seqexp.reporting.console import result, say_for

    explanation = explain_run(run_dir, source, top=top, trust=trust, repeats=repeats)
    say = say_for(quiet)
    for note in explanation.notes:
        say(f"note: {note}")
    for line in explanation.lines():
        say(line)
    result(explanation.folder)
