"""``seqexp list``: what each registry holds, one line about each entry."""

from __future__ import annotations

from seqexp.errors import UserError
from seqexp.reporting.console import out

FAMILIES = {"data": "data", "sources": "data", "balancers": "balance", "models": "model"}


def run(family: str) -> None:
    from rich.table import Table

    from seqexp.config.experiment import COMPONENT_SECTIONS

    if family != "all" and family not in FAMILIES:
        raise UserError(f"unknown family '{family}'; use models, balancers, data or all")
    for key, section in FAMILIES.items():
        if key == "sources" or (family != "all" and FAMILIES[family] != section):
            continue
        table = Table(title=f"{key} (config section '{section}')", title_justify="left")
        table.add_column("name", style="bold")
        table.add_column("description")
        for entry in COMPONENT_SECTIONS[section]:
            table.add_row(entry.name, entry.description)
        out.print(table)
