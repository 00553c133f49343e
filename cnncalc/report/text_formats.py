"""Markdown and CSV tables (for READMEs, homework write-ups and spreadsheets)."""

from __future__ import annotations

import csv
import io

from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.report.columns import COLUMNS, Column, Layout, format_shape, inputs_text
from cnncalc.shown import shown, shown_markdown


def _rows(analysis: Analysis, columns: list[str], layout: Layout) -> list[list[str]]:
    rows = []
    for row in analysis.leaves:
        cells = [COLUMNS[c].cell(row, layout) for c in columns]
        if columns[0] == "name" and row.referenced and "from" not in columns:
            cells[0] += f" <- {inputs_text(row)}"
        rows.append([_markdown_cell(cell) for cell in cells])
    return rows


def _markdown_cell(text: str) -> str:
    """Control characters and markup escaped (cnncalc.shown): a `|` would end the cell, a `<img>` show an image."""
    return shown_markdown(text)


def render_markdown(analysis: Analysis, columns: list[str], layout: Layout = "chw", titled: bool = False) -> str:
    """A GitHub table of the leaf layers with a totals row; `titled`: under a heading naming the spec."""
    cols = [COLUMNS[c] for c in columns]
    title = f"### {_markdown_cell(analysis.spec.name)} (input {format_shape(analysis.spec.input_shape, layout)})"
    lines = [title, ""] if titled else []
    lines += [
        "| " + " | ".join(c.header for c in cols) + " |",
        "|" + "|".join("---:" if c.numeric else "---" for c in cols) + "|",
    ]
    lines += ["| " + " | ".join(cells) + " |" for cells in _rows(analysis, columns, layout)]
    totals = [c.total(analysis) if c.total else "" for c in cols]
    totals[0] = "**Total**"
    lines.append("| " + " | ".join(totals) + " |")
    return "\n".join(lines) + "\n"


def render_csv(analyses: Analysis | list[Analysis], columns: list[str], layout: Layout = "chw") -> str:
    """One row per leaf layer; several specs make one sheet, with a first `spec` column naming each row's."""
    several = isinstance(analyses, list) and len(analyses) > 1
    analyses = analyses if isinstance(analyses, list) else [analyses]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["spec", *columns] if several else columns)
    for analysis in analyses:
        first = [shown(analysis.spec.name)] if several else []
        for row in analysis.leaves:
            # Raw integers (no thousands separators) so spreadsheets read numbers.
            writer.writerow([*first, *(_raw(COLUMNS[c], row, layout) for c in columns)])
    return out.getvalue()


def _raw(column: Column, row: LayerRow, layout: Layout) -> object:
    """The unformatted value where the column has one, else the displayed text (escaped: cnncalc.shown)."""
    return column.raw(row) if column.raw is not None else shown(column.cell(row, layout))
