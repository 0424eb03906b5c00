"""The shape of the house: no import circles, verbs apart from stages, modules of a readable size.

Imports are read from the source (``ast``), function-level ones included: a circle that only works
because one side imports inside a function is still a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "seqexp"
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _target(name: str) -> str | None:
    """The package module an imported name lives in (``seqexp.runfolder.files`` for
    ``from seqexp.runfolder import files``), or None outside the package."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> set[str]:
    """Every package module ``module`` imports, anywhere in its body. ``from seqexp.a import b``
    is an edge to ``seqexp.a.b`` when that is a module, else to ``seqexp.a``."""
    tree = ast.parse(MODULES[module].read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [
                f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            if name.split(".")[0] == "seqexp" and (target := _target(name)) and target != module:
                found.add(target)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    return out


def test_the_detector_finds_a_circle() -> None:
    """The checker itself: a made-up graph with a circle is reported."""
    global GRAPH
    saved = GRAPH
    try:
        GRAPH = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
        assert _cycles() == [["a", "b", "c"]]
    finally:
        GRAPH = saved


def test_no_import_circles() -> None:
    cycles = _cycles()
    assert not cycles, "import circles (function-level imports count):\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


def _wing(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_verb_imports_another_verb_and_no_stage_imports_a_verb() -> None:
    wrong = []
    for module, targets in GRAPH.items():
        for target in targets:
            if _wing(target) != "commands" or target == "seqexp.commands":
                continue
            if _wing(module) == "commands" and module != target:
                wrong.append(f"{module} imports the verb {target}")
            elif _wing(module) not in ("commands", "cli"):
                wrong.append(f"{module} (a stage) imports the verb {target}")
    assert not wrong, "\n".join(wrong)


def test_the_cli_only_wires_verbs() -> None:
    # the one error type, where it prints, and how its help reads
    allowed = {"seqexp.errors", "seqexp.reporting.console", "seqexp.reporting.cli_help"}
    extra = sorted(t for t in GRAPH["seqexp.cli"] if _wing(t) != "commands" and t not in allowed)
    assert not extra, f"seqexp/cli.py should reach the pipeline through commands/, not {extra}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_readable(module: str) -> None:
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{MODULES[module]}: {lines} lines; split it by job (limit {MAX_LINES})"
