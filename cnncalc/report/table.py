"""The layer table with a totals footer, and the worked formulas (--explain).

The grid is drawn here rather than with rich.Table: every cell is a short known string,
and rich's per-cell measuring took ~70 ms for ResNet-50, a third of the command's time.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.text import Text

from cnncalc.engine.propagate import Analysis
from cnncalc.report.columns import COLUMNS, Layout, format_count, format_shape, inputs_text
from cnncalc.report.warning_text import warning_lines
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
    max_width: int | None = None,
    with_warnings: bool = True,
    with_note: bool = True,
) -> RenderableType:
    """Rows indented by nesting depth; structure rows dimmed, showing their sums (`with_warnings=False`: the
    layers' warnings are left to the caller, e.g. for stderr; see `warning_lines`).

    With `max_width` (a terminal's), long names are shortened in the middle so the grid fits; numbers stay whole.
    """
    spec = analysis.spec
    cols = [COLUMNS[key] for key in columns]
    body = []
    for row in analysis.rows:
        cells = [col.cell(row, layout) for col in cols]
        if columns[0] == "name" and row.parent is not None:
            # Named relative to the enclosing row: a shortcut's `shortcut.conv1` stays apart from the body's `conv1`.
            cells[0] = row.name[len(row.parent.name) + 1 :]
        if columns[0] == "name" and row.referenced and "from" not in columns:
            cells[0] += f" <- {inputs_text(row)}"
        body.append((cells, None if row.leaf else "dim"))
    footer = ["Total", *(col.total(analysis) if col.total else "" for col in cols[1:])]
    if columns[0] == "name":
        step, cap = indentation(analysis, body, [c.header for c in cols], footer, max_width)
        for row, (cells, _) in zip(analysis.rows, body):
            cells[0] = " " * min(step * row.depth, cap) + cells[0]
    grids = fitted_grids(
        f"{spec.name}  (input {format_shape(spec.input_shape, layout)})",
        [col.header for col in cols],
        body,
        footer,
        [col.numeric for col in cols],
        max_width,
        [col.shrinks for col in cols],
    )
    parts: list[RenderableType] = [*grids, Text(summary_line(analysis, layout))]
    if with_note:  # a run of several tables prints it once, after the last (see cli/table.py)
        parts.append(Text(FLOPS_NOTE, style="dim"))
    if explain:
        parts.append(render_explanations(analysis, layout))
    if with_warnings:
        parts.extend(Text(line, style="yellow") for line in warning_lines(analysis))
    return Group(*parts)


MIN_SHRUNK = 10  # a shortened column keeps at least this many cells
MIN_LATER = 12  # a kind or `from` column gives way to the names down to this width (`stocha…depth`)
MIN_NAME = 10  # a shortened name keeps at least this many cells beside its indentation


def ellipsized(text: str, width: int) -> str:
    """`text` shortened in the middle to `width` cells (`layer3.5.…conv2`): both ends say the most."""
    if cell_len(text) <= width:
        return text
    head, tail = width - 1 - (width - 1) // 2, (width - 1) // 2
    while head + tail > 0 and cell_len(text[:head]) + 1 + cell_len(text[len(text) - tail :] if tail else "") > width:
        head, tail = (head - 1, tail) if head >= tail else (head, tail - 1)  # wide (CJK) characters take two cells
    return text[:head] + "…" + (text[len(text) - tail :] if tail else "")


def fitted_widths(widths: list[int], shrinks: list[bool], max_width: int) -> list[int]:
    """Narrow the shrinkable columns until the grid (borders included) fits: first the ones after the names
    (kinds, `from` lists) down to MIN_LATER, as the names say more; then leftmost first, down to MIN_SHRUNK."""
    widths = list(widths)
    excess = sum(w + 3 for w in widths) + 1 - max_width  # each cell has a space either side and one border
    shrinkable = [i for i, s in enumerate(shrinks) if s]
    for i, floor in [*((i, MIN_LATER) for i in shrinkable[1:]), *((i, MIN_SHRUNK) for i in shrinkable)]:
        step = max(0, min(excess, widths[i] - floor))
        widths[i] -= step
        excess -= step
    return widths


def indentation(
    analysis: Analysis,
    body: list[tuple[list[str], str | None]],
    headers: list[str],
    footer: list[str],
    max_width: int | None,
) -> tuple[int, int]:
    """Spaces per nesting level in the name column (2, or 1 if that fits the terminal), and the most
    indentation any row gets: in a very deep network the deepest rows line up at that column."""
    if max_width is None or not body:
        return 2, 10**6
    others = column_widths(headers, body, footer)[1:]
    budget = max(MIN_SHRUNK, max_width - sum(w + 3 for w in others) - 4)
    rows = list(zip(analysis.rows, body))
    for step in (2, 1):
        if max(row.depth * step + cell_len(cells[0]) for row, (cells, _) in rows) <= budget:
            return step, 10**6
    longest = max(cell_len(cells[0]) for _, (cells, _) in rows)
    return 1, max(0, budget - min(longest, budget - 4))


def fitted_name(cell: str, width: int) -> str:
    """A name cell in `width`: the indentation (nesting depth) gives way first, then the name's middle."""
    name = cell.lstrip(" ")
    indent = len(cell) - len(name)
    if indent + cell_len(name) <= width:
        return cell
    if cell_len(name) <= width:  # the deepest rows lose some indentation, never their name
        return " " * (width - cell_len(name)) + name if indent else name
    # Too long even alone: it keeps some indentation (else a nested row reads as a top-level one), the
    # name at least MIN_NAME cells, shortened in the middle.
    keep = min(indent, max(0, width - MIN_NAME))
    return " " * keep + ellipsized(name, width - keep)


def column_widths(headers: list[str], body: list[tuple[list[str], str | None]], footer: list[str] | None) -> list[int]:
    return [
        max(cell_len(headers[i]), cell_len(footer[i]) if footer else 0, *(cell_len(cells[i]) for cells, _ in body))
        for i in range(len(headers))
    ]


def fitted_grids(
    title: str,
    headers: list[str],
    body: list[tuple[list[str], str | None]],
    footer: list[str] | None,
    right_aligned: list[bool],
    max_width: int | None,
    shrinks: list[bool],
) -> list[Text]:
    """One grid, or (when even shortened names leave it too wide) the columns in several grids, each
    repeating the first column, as pandas prints a wide frame: every number stays whole."""
    if max_width is None:
        return [draw_grid(title, headers, body, footer, right_aligned)]
    widths = fitted_widths(column_widths(headers, body, footer), shrinks, max_width)
    groups: list[list[int]] = [[]]
    used = 1 + widths[0] + 3
    for i in range(1, len(headers)):
        if groups[-1] and used + widths[i] + 3 > max_width:
            groups.append([])
            used = 1 + widths[0] + 3
        groups[-1].append(i)
        used += widths[i] + 3
    grids = []
    for n, group in enumerate(groups):
        keep = [0, *group]

        def pick(cells: list[str], keep: list[int] = keep) -> list[str]:
            return [cells[i] for i in keep]

        grids.append(
            draw_grid(
                title if n == 0 else f"{title} (continued)",
                pick(headers),
                [(pick(cells), style) for cells, style in body],
                pick(footer) if footer else None,
                [right_aligned[i] for i in keep],
                max_width,
                [shrinks[i] for i in keep],
            )
        )
    return grids


def draw_grid(
    title: str,
    headers: list[str],
    body: list[tuple[list[str], str | None]],
    footer: list[str] | None,
    right_aligned: list[bool],
    max_width: int | None = None,
    shrinks: list[bool] | None = None,
    name_column: int = 0,
) -> Text:
    """A heavy-headed box table as Text; lines are never wrapped (a grid too wide for `max_width` has its
    shrinkable text columns shortened with an ellipsis, the indented names of `name_column` by fitted_name;
    without `max_width`, wide tables scroll, not fold).

    Every cell and the title are shown with control characters escaped (cnncalc.shown).
    """
    title = shown(title)
    headers = [shown(cell) for cell in headers]
    body = [([shown(cell) for cell in cells], style) for cells, style in body]
    footer = [shown(cell) for cell in footer] if footer is not None else None
    widths = column_widths(headers, body, footer)
    if max_width is not None and shrinks is not None:
        widths = fitted_widths(widths, shrinks, max_width)
        body = [
            (
                [
                    fitted_name(c, w) if i == name_column else ellipsized(c, w)
                    for i, (c, w) in enumerate(zip(cells, widths))
                ],
                style,
            )
            for cells, style in body
        ]
        headers = [ellipsized(c, w) for c, w in zip(headers, widths)]
        title = ellipsized(title, max_width)

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
    if len(analysis.outputs) > 1:
        shown = ", ".join(f"{name} {format_shape(shape, layout)}" for name, shape in analysis.outputs)
        outputs = f"Outputs {shown}"
    else:
        outputs = f"Output {format_shape(analysis.output_shape, layout)}"
    frozen = f", non-trainable {format_count(analysis.non_trainable_params)}" if analysis.non_trainable_params else ""
    return (
        f"{outputs} | params {format_count(analysis.params)}"
        f" (trainable {format_count(analysis.trainable_params)}{frozen}){buffers} | MACs {format_count(analysis.macs)}"
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
