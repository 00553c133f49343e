"""The rich layer table with a totals footer, and the worked formulas (--explain)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cnncalc.engine.propagate import Analysis
from cnncalc.report.columns import COLUMNS, Layout, format_count, format_shape

FLOPS_NOTE = (
    "FLOPs = 2 x MACs, as torch.utils.flop_counter counts. torchvision's \"GFLOPS\", fvcore's "
    '"flops" and the slides\' H2*W2*F^2*D1*D2 count one multiply-add as one: those are the MACs here.'
)


def render_table(
    analysis: Analysis,
    columns: list[str],
    layout: Layout = "chw",
    explain: bool = False,
) -> RenderableType:
    """Rows indented by nesting depth; structure rows dimmed, showing their sums."""
    spec = analysis.spec
    table = Table(
        title=f"{spec.name}  (input {format_shape(spec.input_shape, layout)})",
        title_justify="left",
        show_footer=True,
        header_style="bold",
        footer_style="bold",
    )
    for key in columns:
        col = COLUMNS[key]
        footer = "Total" if key == columns[0] else (col.total(analysis) if col.total else "")
        table.add_column(col.header, footer=footer, justify="right" if col.numeric else "left", no_wrap=key == "name")
    for row in analysis.rows:
        cells = [COLUMNS[key].cell(row, layout) for key in columns]
        if columns[0] == "name":
            cells[0] = "  " * row.depth + row.name.rsplit(".", 1)[-1] if row.depth else row.name
        table.add_row(*cells, style=None if row.leaf else "dim")
    parts: list[RenderableType] = [table, Text(summary_line(analysis, layout)), Text(FLOPS_NOTE, style="dim")]
    if explain:
        parts.append(render_explanations(analysis, layout))
    for warning in analysis.warnings:
        parts.append(Text(f"warning: {warning}", style="yellow"))
    return Group(*parts)


def summary_line(analysis: Analysis, layout: Layout = "chw") -> str:
    buffers = f" (+ {format_count(analysis.buffers)} buffers)" if analysis.buffers else ""
    return (
        f"Output {format_shape(analysis.output_shape, layout)} | params {format_count(analysis.params)}"
        f" (trainable {format_count(analysis.trainable_params)}){buffers} | MACs {format_count(analysis.macs)}"
        f" | FLOPs {format_count(analysis.flops)}"
    )


def render_explanations(analysis: Analysis, layout: Layout = "chw") -> Text:
    """Each layer's formulas with its numbers, e.g. `H = floor((227 - 11 + 2*0) / 4) + 1 = 55`."""
    text = Text("\nWorked formulas\n", style="bold")
    for row in analysis.leaves:
        lines = row.explain()
        if not lines:
            continue
        shapes = f"{format_shape(row.input_shape, layout)} -> {format_shape(row.output_shape, layout)}"
        text.append(f"{row.name} ({row.kind}) {shapes}\n", style="bold")
        for line in lines:
            text.append(f"    {line}\n", style="cyan")
    return text
