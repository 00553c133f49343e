"""`cnncalc list`: the shipped specs with a one-line description."""

from __future__ import annotations

import typer

from cnncalc.cli.common import handles_errors


@handles_errors
def list_specs() -> None:
    """List the shipped architecture specs (usable by name in every command)."""
    from rich.table import Table
    from rich.text import Text

    from cnncalc.report.console import console
    from cnncalc.shown import shown
    from cnncalc.zoo import describe, zoo_specs

    table = Table("Name", "Description", header_style="bold")
    for name, path in zoo_specs().items():
        table.add_row(Text(shown(name)), Text(shown(describe(path))))
    console().print(table)
    typer.echo("Use a name in place of a file, e.g. `cnncalc table resnet50`.")
