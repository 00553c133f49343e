"""Prose lines longer than the terminal wrap at spaces, not mid-word: an error paragraph, a warning, a summary.

Only a stream that is a terminal is wrapped, so piped and redirected output (CI logs, JSON, files) keeps every
line whole. Lines with escape sequences are rich's, which fits them itself.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO


def terminal_width(stream: TextIO) -> int | None:
    """The width of the terminal `stream` writes to (COLUMNS first, as rich reads it), or None if it is none."""
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):  # a replaced or closed stream
        return None
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return None


def wrapped(line: str, width: int) -> str:
    """`line` broken at spaces into lines of at most `width` characters (a word longer than that stays whole);
    continuation lines keep the first line's indentation."""
    if len(line) <= width or "\x1b" in line:
        return line
    import textwrap

    indent = line[: len(line) - len(line.lstrip(" "))]
    return textwrap.fill(
        line,
        width,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
        drop_whitespace=True,
        replace_whitespace=False,
    )


class WrappingStream:
    """A text stream that writes whole lines to `inner`, each wrapped to the terminal's width."""

    def __init__(self, inner: TextIO, width: int):
        self.inner = inner
        self.width = width
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        if "\n" in self.pending:
            *lines, self.pending = self.pending.split("\n")
            self.inner.write("".join(wrapped(line, self.width) + "\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        if self.pending:  # a line without its newline yet (a prompt): as it is
            self.inner.write(self.pending)
            self.pending = ""
        self.inner.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding...: the terminal's own
        return getattr(self.inner, name)


def wrap_standard_error() -> None:
    """Make stderr, where errors and warnings go, wrap its prose at the terminal's width (if it is a terminal)."""
    width = terminal_width(sys.stderr)
    if width is not None and not isinstance(sys.stderr, WrappingStream):
        sys.stderr = WrappingStream(sys.stderr, width)  # type: ignore[assignment]


def prose(text: str) -> str:
    """`text` for standard output: each line wrapped at the terminal's width if stdout is a terminal."""
    width = terminal_width(sys.stdout)
    return text if width is None else "\n".join(wrapped(line, width) for line in text.split("\n"))
