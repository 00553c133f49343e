"""The layer table with a totals footer, and the worked formulas (--explain).

The grid is drawn here rather than with rich.Table: every cell is a short known string,
and rich's per-cell measuring took ~70 ms for ResNet-50, a third of the command's time.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.text import Text

from cnncalc.engine.propagate import Analysis
from cnncalc.report.columns import COLUMNS, Layout, format_count, format_shape
from cnncalc.shown import shown

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
    cols = [COLUMNS[key] for key in columns]
    body = []
    for row in analysis.rows:
        cells = [col.cell(row, layout) for col in cols]
        if columns[0] == "name" and row.depth:
            cells[0] = "  " * row.depth + row.name.rsplit(".", 1)[-1]
        body.append((cells, None if row.leaf else "dim"))
    footer = ["Total", *(col.total(analysis) if col.total else "" for col in cols[1:])]
    grid = draw_grid(
        f"{spec.name}  (input {format_shape(spec.input_shape, layout)})",
        [col.header for col in cols],
        body,
        footer,
        [col.numeric for col in cols],
    )
    parts: list[RenderableType] = [grid, Text(summary_line(analysis, layout)), Text(FLOPS_NOTE, style="dim")]
    if explain:
        parts.append(render_explanations(analysis, layout))
    for row in analysis.leaves:
        for warning in row.warnings:
            where = f"{row.layer.source}: " if row.layer.source else ""
            parts.append(Text(shown(f"{where}warning: {warning}"), style="yellow"))
    return Group(*parts)


def draw_grid(
    title: str,
    headers: list[str],
    body: list[tuple[list[str], str | None]],
    footer: list[str] | None,
    right_aligned: list[bool],
) -> Text:
    """A heavy-headed box table as Text; lines are never wrapped (wide tables scroll, not fold).

    Every cell and the title are shown with control characters escaped (cnncalc.shown).
    """
    title = shown(title)
    headers = [shown(cell) for cell in headers]
    body = [([shown(cell) for cell in cells], style) for cells, style in body]
    footer = [shown(cell) for cell in footer] if footer is not None else None
    widths = [
        max(cell_len(headers[i]), cell_len(footer[i]) if footer else 0, *(cell_len(cells[i]) for cells, _ in body))
        for i in range(len(headers))
    ]

    def rule(left: str, fill: str, cross: str, right: str) -> str:
        return left + cross.join(fill * (w + 2) for w in widths) + right + "\n"

    def line(cells: list[str], edge: str, sep: str) -> str:
        padded = []
        for cell, width, right in zip(cells, widths, right_aligned):
            gap = " " * (width - cell_len(cell))
            padded.append(f" {gap}{cell} " if right else f" {cell}{gap} ")
        return edge + sep.join(padded) + edge + "\n"

    text = Text(no_wrap=True, overflow="ignore")
    text.append(title + "\n")
    text.append(rule("┏", "━", "┳", "┓"))
    text.append(line(headers, "┃", "┃"), style="bold")
    text.append(rule("┡", "━", "╇", "┩"))
    for cells, style in body:
        text.append(line(cells, "│", "│"), style=style)
    if footer is not None:
        text.append(rule("├", "─", "┼", "┤"))
        text.append(line(footer, "│", "│"), style="bold")
    text.append(rule("└", "─", "┴", "┘").rstrip("\n"))
    return text


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
        text.append(shown(f"{row.name} ({row.kind}) {shapes}") + "\n", style="bold")
        for line in lines:
            text.append(f"    {shown(line)}\n", style="cyan")
    return text
