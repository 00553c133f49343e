"""Markdown and CSV tables (for READMEs, homework write-ups and spreadsheets)."""

from __future__ import annotations

import csv
import io

from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.report.columns import COLUMNS, Column, Layout, inputs_text
from cnncalc.shown import shown


def _rows(analysis: Analysis, columns: list[str], layout: Layout) -> list[list[str]]:
    rows = []
    for row in analysis.leaves:
        cells = [COLUMNS[c].cell(row, layout) for c in columns]
        if columns[0] == "name" and row.referenced and "from" not in columns:
            cells[0] += f" <- {inputs_text(row)}"
        rows.append([_markdown_cell(cell) for cell in cells])
    return rows


def _markdown_cell(text: str) -> str:
    """Control characters escaped (cnncalc.shown); a `|` would end the cell."""
    return shown(text).replace("|", "\\|")


def render_markdown(analysis: Analysis, columns: list[str], layout: Layout = "chw") -> str:
    cols = [COLUMNS[c] for c in columns]
    lines = [
        "| " + " | ".join(c.header for c in cols) + " |",
        "|" + "|".join("---:" if c.numeric else "---" for c in cols) + "|",
    ]
    lines += ["| " + " | ".join(cells) + " |" for cells in _rows(analysis, columns, layout)]
    totals = [c.total(analysis) if c.total else "" for c in cols]
    totals[0] = "**Total**"
    lines.append("| " + " | ".join(totals) + " |")
    return "\n".join(lines) + "\n"


def render_csv(analysis: Analysis, columns: list[str], layout: Layout = "chw") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in analysis.leaves:
        # Raw integers (no thousands separators) so spreadsheets read numbers.
        cells = [_raw(COLUMNS[c], row, layout) for c in columns]
        writer.writerow(cells)
    return out.getvalue()


def _raw(column: Column, row: LayerRow, layout: Layout) -> object:
    """The unformatted value where the column has one, else the displayed text (escaped: cnncalc.shown)."""
    return column.raw(row) if column.raw is not None else shown(column.cell(row, layout))
