"""`cnncalc draw SPEC -o net.svg`: the network's graph as boxes, the way the slides draw it."""

from __future__ import annotations

from pathlib import Path

import typer

from cnncalc.cli.common import handles_errors, load
from cnncalc.errors import SpecError

MATPLOTLIB_SUFFIXES = (".png", ".pdf")


@handles_errors
def draw(
    spec: str = typer.Argument(..., help="A spec file, or the name of a shipped spec (see `cnncalc list`)."),
    output: Path = typer.Option(..., "--output", "-o", help="Picture file: .svg (no extra needed), .png or .pdf."),
    depth: int = typer.Option(None, min=0, help="Draw blocks nested deeper than N as one box (0 = top level)."),
    width: int = typer.Option(1500, min=300, help="The picture's width in pixels; the network wraps into lines."),
) -> None:
    """Draw each volume as a box sized by its shape, the main path left to right, side paths in lanes below."""
    from cnncalc.checking.classroom import refuse_input
    from cnncalc.engine.propagate import analyze
    from cnncalc.report import draw as drawing

    suffix = output.suffix.lower()
    if suffix != ".svg" and suffix not in MATPLOTLIB_SUFFIXES:
        raise SpecError(f"cannot draw to `{output}`.", hint="Use a .svg, .png or .pdf file name.")
    refuse_input(output, [Path(spec)], "-o")
    if suffix != ".svg":
        from cnncalc.report.plot import import_pyplot

        import_pyplot()  # fail before the analysis if matplotlib is missing
    picture = drawing.layout(analyze(load(spec)), depth, width)
    drawing.save(picture, output)
    typer.echo(f"wrote {output}")
