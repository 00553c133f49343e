"""Prose wraps at spaces in a terminal, not mid-word; anything that is not a terminal gets every line whole."""

import io
import sys

import pytest

from cnncalc.cli import terminal
from cnncalc.cli.terminal import WrappingStream, prose, terminal_width, wrapped

# The error QA saw broken mid-word (`must be a whole numb` / `er; got 'sixteen'`) in an 80-column terminal.
ERROR = "/tmp/s/bad.yaml:4:26: error: `conv` argument `out_channels` must be a whole number; got 'sixteen'."


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_line_breaks_at_spaces_within_the_width():
    lines = wrapped(ERROR, 80).split("\n")
    assert lines == [
        "/tmp/s/bad.yaml:4:26: error: `conv` argument `out_channels` must be a whole",
        "number; got 'sixteen'.",
    ]
    assert " ".join(lines) == ERROR  # nothing lost, nothing added


def test_short_lines_words_longer_than_the_width_and_styled_lines_stay_as_they_are():
    assert wrapped("fits", 80) == "fits"
    long_word = "x" * 100
    assert wrapped(f"see {long_word}", 80) == f"see\n{long_word}"  # broken at the space, the word kept whole
    styled = "\x1b[33m" + "warning " * 20 + "\x1b[0m"  # rich's own output: rich fitted it
    assert wrapped(styled, 80) == styled


def test_continuation_lines_keep_the_indentation():
    assert wrapped("  hint: " + "word " * 20, 40).split("\n")[1].startswith("  word")


def test_the_stream_wraps_whole_lines_and_flushes_a_partial_one_as_it_is():
    inner = Terminal()
    stream = WrappingStream(inner, 80)
    stream.write(ERROR)
    assert inner.getvalue() == ""  # nothing until the line is whole
    stream.write("\nnext")
    assert inner.getvalue() == wrapped(ERROR, 80) + "\n"
    stream.flush()
    assert inner.getvalue().endswith("\nnext")
    assert stream.isatty()  # rich asks the stream underneath


def test_only_a_terminal_has_a_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert terminal_width(io.StringIO()) is None
    assert terminal_width(Terminal()) == 80


def test_prose_on_stdout_wraps_only_in_a_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert prose(ERROR) == ERROR  # piped: whole, for grep and CI logs
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert prose(ERROR) == wrapped(ERROR, 80)


@pytest.mark.parametrize("tty", [True, False])
def test_stderr_is_wrapped_only_when_it_is_a_terminal(monkeypatch, tty):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(sys, "stderr", Terminal() if tty else io.StringIO())
    terminal.wrap_standard_error()
    assert isinstance(sys.stderr, WrappingStream) is tty
    terminal.wrap_standard_error()  # once: never a wrapper around a wrapper
    assert not isinstance(getattr(sys.stderr, "inner", None), WrappingStream)
