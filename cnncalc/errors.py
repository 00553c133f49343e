"""Errors that carry a source position and the exit code the CLI should use."""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL_ERROR = 3  # a bug in cnncalc: an exception nobody expected (never 1 or 2)
TRACEBACK_ENV = "CNNCALC_TRACEBACK"  # set to 1 to see an internal error's traceback


@dataclass(frozen=True)
class Position:
    """A place in a spec file; line and column are 1-based, as editors show them (0: the file as a whole,
    e.g. one that does not exist, shown as just its name)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file


class CnncalcError(Exception):
    """A problem the user can fix; rendered as one paragraph, never a traceback."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, position: Position | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.position = position
        self.hint = hint

    def render(self) -> str:
        """One line, every character from the spec or a file name escaped visibly (cnncalc.shown)."""
        from cnncalc.shown import shown

        where = f"{self.position}: " if self.position else ""
        hint = f" {self.hint}" if self.hint else ""
        return shown(f"{where}error: {self.message}{hint}")

    def __str__(self) -> str:
        return self.render()


class SpecError(CnncalcError):
    """The spec file cannot be read, parsed or validated (exit code 2)."""


class LayerError(SpecError):
    """A layer cannot be applied to its input (impossible shape, bad channels...)."""


class StrictWarning(SpecError):
    """A warning promoted to an error by --strict."""


def approximate(n: int) -> str:
    """An integer for a message: exact up to 15 digits, else `8.0e+300` (huge ints cannot always be printed)."""
    if abs(n) < 10**15:
        return f"{n:,}"
    return f"{float(n):.1e}" if abs(n) < 10**308 else "more than 1e+308"


def out_of_memory(error: MemoryError) -> CnncalcError:
    """A forward pass too big for this machine, as a one-paragraph error rather than NumPy's traceback."""
    return CnncalcError(
        f"not enough memory to run this spec in NumPy ({error}).",
        None,
        "`cnncalc table` gives its shapes without running it; or use a smaller input or --batch.",
    )


class SpecErrors(SpecError):
    """Several independent problems of one file, reported at once in file order (one paragraph each)."""

    def __init__(self, errors: list[SpecError]):
        first = errors[0]
        super().__init__(first.message, first.position, first.hint)
        self.errors = errors

    def render(self) -> str:
        return "\n".join(error.render() for error in self.errors)


def all_errors(error: CnncalcError) -> list[CnncalcError]:
    """The problems an error stands for: itself, or each of a SpecErrors."""
    return list(getattr(error, "errors", [error]))
