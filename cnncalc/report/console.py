"""The rich console reports print to: a terminal's own width, else lines never wrapped or cut.

Piped or redirected, rich would assume 80 columns: it broke the summary line and the FLOPs note, and cut
`run`'s values to `-0.60…`. Those go to files and CI logs whole, one line each, like the tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

UNBOUNDED = 1_000_000  # columns for output that is not a terminal: wide enough never to wrap a line


def console(stderr: bool = False, **options: Any) -> Console:
    """A rich Console for stdout (or stderr): the terminal's width, or unbounded and soft-wrapped when piped."""
    from rich.console import Console

    out = Console(stderr=stderr, **options)
    if not out.is_terminal:
        out.width, out.soft_wrap = UNBOUNDED, True
    return out
