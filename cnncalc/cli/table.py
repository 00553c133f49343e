"""`cnncalc table SPEC`: the per-layer table with totals."""

from __future__ import annotations

from enum import Enum

import typer

from cnncalc.cli.common import STDIN, Layout, OutputFormat, handles_errors, load, max_file_size_option
from cnncalc.engine.dtypes import DTYPE_BYTES
from cnncalc.errors import SpecError


class SortKey(str, Enum):
    macs = "macs"
    params = "params"
    flops = "flops"
    activations = "activations"


class Units(str, Enum):
    exact = "exact"
    human = "human"


# The choices are the memory estimate's own list, so the option can offer no dtype it does not know.
DType = Enum("DType", [(name, name) for name in DTYPE_BYTES], type=str)  # type: ignore[misc]
*_OTHERS, _LAST = DTYPE_BYTES


@handles_errors
def table(
    specs: list[str] = typer.Argument(
        ...,
        help="Spec files, names of shipped specs (see `cnncalc list`), or - to read standard input.",
        show_default=False,
    ),
    # The choices are in the help text: as a placeholder they would not fit an 80-column --help.
    format: OutputFormat = typer.Option(
        OutputFormat.table, "--format", "-f", metavar="FORMAT", help="Output format: table, json, markdown or csv."
    ),
    layout: Layout = typer.Option(Layout.chw, help="Shape order for display: chw [96, 55, 55] or hwc 55x55x96."),
    explain: bool = typer.Option(False, "--explain", help="Show each layer's formulas with the numbers filled in."),
    columns: str = typer.Option(None, help="Comma-separated columns, e.g. name,output,params."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings (e.g. a stride that drops rows) as errors."),
    sort: SortKey = typer.Option(
        None,
        metavar="FIGURE",
        help="Sort the layers by this figure (macs, params, flops or activations), largest first (blocks hidden).",
    ),
    depth: int = typer.Option(None, min=0, help="Collapse blocks nested deeper than N into one row (0 = top level)."),
    dtype: DType = typer.Option(  # type: ignore[valid-type]
        DType("float32"),
        metavar="DTYPE",
        help=f"Bytes per value for the memory figures: {', '.join(_OTHERS)} or {_LAST}.",
    ),
    batch: int = typer.Option(1, min=1, help="Batch size for the activation memory."),
    memory: bool = typer.Option(False, "--memory", help="Show the memory estimate (inference, training) footer."),
    wide: bool = typer.Option(False, "--wide", help="Never shorten names to fit the terminal's width."),
    units: Units = typer.Option(
        Units.exact, help="Counts and bytes in the table: exact integers, or human (25.6M, 4.09G, 98.0 MB)."
    ),
    max_file_size: str = max_file_size_option(),
) -> None:
    """Print every layer's output shape, parameters and MACs, with totals; one table per spec."""
    from cnncalc.engine.propagate import analyze
    from cnncalc.report.table_output import TableOptions, parse_columns, print_tables

    if specs.count(STDIN) > 1:
        raise SpecError("standard input (`-`) can be read once; give it once.")
    options = TableOptions(
        parse_columns(columns),
        layout.value,
        explain,
        sort.value if sort is not None else None,
        depth,
        dtype.value,
        batch,
        memory,
        wide,
        units.value,
    )
    loaded = [load(spec) for spec in specs]  # every file is checked before anything is printed
    analyses = [analyze(spec, strict=strict) for spec in loaded]
    if format is OutputFormat.table:
        print_tables(analyses, options)
    else:
        from cnncalc.report.table_output import render_text
        from cnncalc.report.warning_text import print_warnings

        typer.echo(render_text(analyses, format.value, options), nl=False)
        print_warnings(analyses)
