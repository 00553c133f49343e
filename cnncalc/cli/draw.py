"""`cnncalc draw SPEC -o net.svg`: the network as boxes, the way the slides draw it."""

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
    width: int = typer.Option(1500, min=300, help="Wrap onto a new line past this many pixels."),
) -> None:
    """Draw each volume as a box sized by its shape, left to right, with residual/concat paths stacked."""
    from cnncalc.engine.propagate import analyze
    from cnncalc.report import draw as drawing

    suffix = output.suffix.lower()
    if suffix != ".svg" and suffix not in MATPLOTLIB_SUFFIXES:
        raise SpecError(f"cannot draw to `{output}`.", hint="Use a .svg, .png or .pdf file name.")
    picture = drawing.layout(analyze(load(spec)), depth, width)
    try:
        if suffix == ".svg":
            output.write_text(drawing.to_svg(picture), encoding="utf-8")
        else:
            drawing.save_with_matplotlib(picture, str(output))
    except OSError as exc:
        raise SpecError(f"cannot write `{output}` ({exc.strerror}).") from None
    typer.echo(f"wrote {output}")
