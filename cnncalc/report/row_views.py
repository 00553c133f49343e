"""Views of an analysis for display: blocks collapsed below a depth, leaf rows sorted by a figure."""

from __future__ import annotations

from dataclasses import replace

from cnncalc.engine.propagate import Analysis, LayerRow


def _with_rows(analysis: Analysis, rows: list[LayerRow]) -> Analysis:
    return replace(analysis, rows=rows)


def collapse_below(analysis: Analysis, depth: int) -> Analysis:
    """Blocks nested at `depth` become one row with their sums; anything deeper is hidden.

    Depth 0 is the top level, so `--depth 0` shows one row per top-level layer or block.
    Totals are unchanged: a collapsed block's row already sums its leaves.
    """
    rows = []
    for row in analysis.rows:
        if row.depth > depth:
            continue
        rows.append(replace(row, leaf=True) if row.depth == depth and not row.leaf else row)
    return _with_rows(analysis, rows)


def sort_value(row: LayerRow, key: str) -> int:
    if key == "activations":
        return row.memory.activations if row.memory is not None else 0
    value: int = getattr(row, key)
    return value


def sort_leaves(analysis: Analysis, key: str) -> Analysis:
    """Leaf rows only, largest first (ties keep execution order), shown with their full dotted names."""
    ordered = sorted(analysis.leaves, key=lambda row: sort_value(row, key), reverse=True)
    return _with_rows(analysis, [replace(row, depth=0, parent=None) for row in ordered])  # named from the top
