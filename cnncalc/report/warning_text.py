"""An analysis's warnings as the lines every text format prints to stderr (no rich: JSON's path needs it too)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from cnncalc.shown import shown

if TYPE_CHECKING:
    from cnncalc.engine.propagate import Analysis
    from cnncalc.errors import Position


def warning_line(warning: str, where: Position | None) -> str:
    """`file:line:column: warning: ...` (or `warning: ...` without a place), escaped."""
    return shown(f"{where}: warning: {warning}" if where else f"warning: {warning}")


def warning_lines(analysis: Analysis) -> list[str]:
    """Every warning, the input's first, as `file:line:column: warning: ...`, escaped."""
    return [warning_line(warning, where) for warning, where in analysis.located_warnings()]


def print_warnings(analyses: list[Analysis]) -> None:
    """Each analysis's warning lines on stderr, so that stdout holds the report alone."""
    for analysis in analyses:
        for line in warning_lines(analysis):
            print(line, file=sys.stderr)
