"""`cnncalc draw SPEC -o net.svg`: the network's graph as boxes, the way the slides draw it."""

from __future__ import annotations

from pathlib import Path

import typer

from cnncalc.cli.common import handles_errors, load, max_file_size_option, spec_inputs
from cnncalc.shown import shown

MATPLOTLIB_SUFFIXES = (".png", ".pdf")


@handles_errors
def draw(
    spec: str = typer.Argument(
        ..., help="A spec file, the name of a shipped spec (see `cnncalc list`), or - to read standard input."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Picture file: .svg (no extra needed), .png or .pdf."),
    depth: int = typer.Option(None, min=0, help="Draw blocks nested deeper than N as one box (0 = top level)."),
    width: int = typer.Option(
        None,
        min=300,
        max=20_000,  # a PNG may be at most 65,536 px a side; a wider picture is no longer a picture to look at
        help="The picture's width in pixels (default: as wide as the network needs, at most 1500); the network "
        "wraps into lines.",
    ),
    max_file_size: str = max_file_size_option(),
) -> None:
    """Draw each volume as a box sized by its shape, the main path left to right, side paths in lanes below."""
    from cnncalc.engine.propagate import analyze
    from cnncalc.output_file import check_output
    from cnncalc.report import draw as drawing

    check_output(output, spec_inputs(spec), (".svg", *MATPLOTLIB_SUFFIXES), "the drawing")
    if output.suffix.lower() != ".svg":
        from cnncalc.report.plot import import_pyplot

        import_pyplot()  # fail before the analysis if matplotlib is missing
    picture = drawing.layout(analyze(load(spec)), depth, width or drawing.MAX_WIDTH, exact=width is not None)
    drawing.save(picture, output)
    typer.echo(shown(f"wrote {output}"))
