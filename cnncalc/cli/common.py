"""What every command shares: error handling, exit codes, spec loading."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

import typer

from cnncalc.errors import CnncalcError, out_of_memory

F = TypeVar("F", bound=Callable[..., Any])


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    csv = "csv"


class Layout(str, Enum):
    chw = "chw"
    hwc = "hwc"


def fail(error: CnncalcError) -> typer.Exit:
    """Print the one-paragraph error to stderr and give the exit code to raise."""
    print(error.render(), file=sys.stderr)
    return typer.Exit(error.exit_code)


def handles_errors(command: F) -> F:
    """Turn CnncalcError into a message and exit code; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CnncalcError as error:
            raise fail(error) from None
        except MemoryError as error:  # NumPy refusing a forward pass too big for this machine
            raise fail(out_of_memory(error)) from None

    return wrapper  # type: ignore[return-value]


def load(spec: str):
    """Load a spec given as a path or a shipped name."""
    from cnncalc.spec.build import load_spec
    from cnncalc.zoo import resolve_spec, zoo_dir

    path = resolve_spec(spec)
    display = spec if path.exists() and not path.is_relative_to(zoo_dir()) else str(path)
    return load_spec(path, display)
