"""`cnncalc plot SPEC -o cost.png`: parameters and MACs per layer as bars."""

from __future__ import annotations

from pathlib import Path

import typer

from cnncalc.cli.common import handles_errors, load, max_file_size_option, spec_inputs
from cnncalc.shown import shown

PICTURE_SUFFIXES = (".png", ".pdf", ".svg")


@handles_errors
def plot(
    spec: str = typer.Argument(
        ..., help="A spec file, the name of a shipped spec (see `cnncalc list`), or - to read standard input."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Image file (.png, .pdf, .svg), written by matplotlib."),
    log: bool = typer.Option(False, "--log", help="Logarithmic x axes, so small layers stay visible."),
    depth: int = typer.Option(None, min=0, help="One bar per block nested at depth N (0 = top level)."),
    skip_zero_macs: bool = typer.Option(
        False, "--skip-zero-macs", help="Leave out layers without MACs (batchnorm), keeping the chart short."
    ),
    max_file_size: str = max_file_size_option(),
) -> None:
    """Bar chart of each layer's parameters and MACs, in K/M/G (needs the `plot` extra: matplotlib)."""
    from cnncalc.engine.propagate import analyze
    from cnncalc.output_file import check_output
    from cnncalc.report.plot import import_pyplot, save_costs
    from cnncalc.report.row_views import collapse_below

    check_output(output, spec_inputs(spec), PICTURE_SUFFIXES, "the plot")
    import_pyplot()  # fail before the analysis if matplotlib is missing
    analysis = analyze(load(spec))
    save_costs(analysis if depth is None else collapse_below(analysis, depth), output, log, skip_zero_macs)
    typer.echo(shown(f"wrote {output}"))
