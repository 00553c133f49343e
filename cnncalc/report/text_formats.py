"""Markdown and CSV tables (for READMEs, homework write-ups and spreadsheets)."""

from __future__ import annotations

import csv
import io

from cnncalc.engine.propagate import Analysis
from cnncalc.report.columns import COLUMNS, Layout
from cnncalc.shown import shown


def _rows(analysis: Analysis, columns: list[str], layout: Layout) -> list[list[str]]:
    return [[_markdown_cell(COLUMNS[c].cell(row, layout)) for c in columns] for row in analysis.leaves]


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
        cells = [COLUMNS[c].raw(row) if COLUMNS[c].raw else shown(COLUMNS[c].cell(row, layout)) for c in columns]
        if cells and isinstance(cells[0], str):  # it starts the line
            cells[0] = shown(cells[0])
        writer.writerow(cells)
    return out.getvalue()
