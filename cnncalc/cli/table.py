"""`cnncalc table SPEC`: the per-layer table with totals."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

import typer

from cnncalc.cli.common import STDIN, Layout, OutputFormat, handles_errors, load, max_file_size_option
from cnncalc.engine.dtypes import DTYPE_BYTES
from cnncalc.errors import SpecError

if TYPE_CHECKING:
    from cnncalc.engine.propagate import Analysis
    from cnncalc.report.columns import Layout as ShapeOrder


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


def parse_columns(text: str | None, default: tuple[str, ...]) -> list[str]:
    from cnncalc.report.columns import COLUMNS
    from cnncalc.spec.messages import did_you_mean

    if not text:
        return list(default)
    chosen = [c.strip() for c in text.split(",") if c.strip()]
    for key in chosen:
        if key not in COLUMNS:
            guess = did_you_mean(key, COLUMNS)
            raise SpecError(
                f"unknown column `{key}`.",
                hint=f"Did you mean `{guess}`?" if guess else f"Columns: {', '.join(COLUMNS)}.",
            )
    return chosen


def _warn_channels_last(loaded) -> None:
    """To stderr, so that JSON, markdown and CSV on stdout stay clean."""
    import sys

    from cnncalc.shown import shown
    from cnncalc.spec.messages import channels_last_hint

    hint = channels_last_hint(loaded.input_shape)
    if hint:
        print(f"{shown(loaded.file)}: warning: {hint}", file=sys.stderr)


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
    from cnncalc.report.columns import BACKWARD_COLUMNS, DEFAULT_COLUMNS, MEMORY_COLUMNS, RF_COLUMNS

    if specs.count(STDIN) > 1:
        raise SpecError("standard input (`-`) can be read once; give it once.")
    chosen = parse_columns(columns, DEFAULT_COLUMNS)
    loaded = [load(spec) for spec in specs]  # every file is checked before anything is printed
    for spec in loaded:
        _warn_channels_last(spec)
    analyses = [analyze(spec, strict=strict) for spec in loaded]
    if format is OutputFormat.json:
        from cnncalc.report.json_report import render_json, render_json_list

        typer.echo(
            render_json(analyses[0], dtype.value, batch)
            if len(analyses) == 1
            else render_json_list(analyses, dtype.value, batch)
        )
        return
    # Receptive fields and memory are computed only when something shows them (start-up time).
    show_rf = any(key in RF_COLUMNS for key in chosen)
    show_memory = memory or sort is SortKey.activations or any(key in MEMORY_COLUMNS for key in chosen)
    views: list[tuple[Analysis, Any, Any]] = []
    for analysis in analyses:
        if any(key in BACKWARD_COLUMNS for key in chosen):
            from cnncalc.engine import backward_cost

            backward_cost.annotate(analysis)
        fields = estimate = None
        if show_rf:
            from cnncalc.engine import receptive_field

            fields = receptive_field.annotate(analysis)
        if show_memory:
            from cnncalc.engine import memory as memory_estimate

            estimate = memory_estimate.annotate(analysis, dtype.value, batch)
        if depth is not None or sort is not None:
            from cnncalc.report import row_views

            if depth is not None:
                analysis = row_views.collapse_below(analysis, depth)
            if sort is not None:
                analysis = row_views.sort_leaves(analysis, sort.value)
        views.append((analysis, fields, estimate))
    from cnncalc.report.columns import display_units

    with display_units(units.value):  # counts and bytes in the rendered table (CSV and JSON stay exact)
        if format is OutputFormat.markdown:
            from cnncalc.report.text_formats import render_markdown

            titled = len(views) > 1
            text = "\n".join(render_markdown(analysis, chosen, layout.value, titled) for analysis, _, _ in views)
            typer.echo(text, nl=False)
        elif format is OutputFormat.csv:
            from cnncalc.report.text_formats import render_csv

            typer.echo(render_csv([analysis for analysis, _, _ in views], chosen, layout.value), nl=False)
        else:
            _print_rich(
                views,
                chosen,
                layout.value,
                explain,
                wide,
                show_memory and (memory or any(key in MEMORY_COLUMNS for key in chosen)),
            )


def _print_rich(
    views: list[tuple[Analysis, Any, Any]],
    chosen: list[str],
    layout: ShapeOrder,
    explain: bool,
    wide: bool,
    footer: bool,
) -> None:
    """Each spec's table, its warnings (to stderr) and memory footer; the notes once, after the last table."""
    from rich.console import Console
    from rich.text import Text

    from cnncalc.report.table import render_table, warning_lines
    from cnncalc.shown import shown

    console = Console()
    errors = Console(stderr=True)  # warnings to stderr: stdout holds the tables only
    fit = None if wide or not console.is_terminal else console.width  # piped output keeps full names
    conventions: dict[str, None] = {}  # the notes explaining what is shown, each once, in order
    for number, (analysis, fields, estimate) in enumerate(views):
        if number:
            console.print()
        last = number == len(views) - 1  # the FLOPs note follows the last table's summary line only
        console.print(
            render_table(analysis, chosen, layout, explain, fit, with_warnings=False, with_note=last), crop=False
        )
        for line in warning_lines(analysis):
            errors.print(Text(line, style="yellow"), crop=False)
        if footer and estimate is not None:
            from cnncalc.report.notes import MEMORY_EXPLANATION, memory_footer

            console.print(Text(memory_footer(estimate)))
            conventions[MEMORY_EXPLANATION] = None
        if fields is not None:
            from cnncalc.report.notes import RF_CONVENTION

            conventions[RF_CONVENTION] = None
            for warning in fields.warnings:
                errors.print(Text(shown(f"warning: {warning}"), style="yellow"), crop=False)
    for note in conventions:
        console.print(Text(note, style="dim"))
