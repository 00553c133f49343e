"""What every command shares: error handling, exit codes, spec loading."""

from __future__ import annotations

import errno
import functools
import os
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import typer

from cnncalc.errors import EXIT_INTERNAL_ERROR, TRACEBACK_ENV, CnncalcError, out_of_memory
from cnncalc.shown import shown

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


_PASSED_ON = tuple(getattr(typer, name) for name in ("Exit", "Abort", "BadParameter") if hasattr(typer, name))


def handles_errors(command: F) -> F:
    """Turn CnncalcError into a message and exit code; never a traceback.

    Anything else is a bug in cnncalc: one line saying so and how to report it, exit code 3
    (EXIT_INTERNAL_ERROR), so that it never reads as a failed check (1) or unusable input (2).
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from cnncalc import limits

        try:
            # Each command starts from the defaults (tests run many in one process), then its own options.
            limits.configure(kwargs.get("max_file_size"), kwargs.get("max_memory"))
            return command(*args, **kwargs)
        except CnncalcError as error:
            raise fail(error) from None
        except MemoryError as error:  # NumPy refusing a forward pass too big for this machine
            raise fail(out_of_memory(error)) from None
        except _PASSED_ON:  # exits and option errors, which typer reports itself
            raise
        except BrokenPipeError:  # the reader went away (`cnncalc table x | head`): nothing more to say
            _silence_stdout()
            raise typer.Exit(128 + 13) from None  # as a shell reports a process ended by SIGPIPE
        except OSError as error:
            if error.errno not in UNUSABLE_PATH or not error.filename:
                raise _internal(error) from None
            # a path the system refuses (too long, no permission, a read-only disk...): unusable input
            raise fail(CnncalcError(f"{shown(str(error.filename))}: {error.strerror}.")) from None
        except Exception as error:
            raise _internal(error) from None

    return wrapper  # type: ignore[return-value]


def _internal(error: Exception) -> typer.Exit:
    """The internal-error line (or, with CNNCALC_TRACEBACK set, the traceback itself) and exit code 3."""
    if os.environ.get(TRACEBACK_ENV):
        raise error
    print(internal_error_line(error), file=sys.stderr)
    return typer.Exit(EXIT_INTERNAL_ERROR)


# What the system says of a path the user gave, not of cnncalc's code: exit 2 with the path and the reason.
UNUSABLE_PATH = {
    getattr(errno, name)
    for name in ("ENAMETOOLONG", "EACCES", "EPERM", "EROFS", "ENOSPC", "EDQUOT", "ELOOP", "ENOTDIR", "EISDIR", "ENOENT")
    if hasattr(errno, name)
}


def internal_error_line(error: BaseException) -> str:
    """One line: what failed, that it is cnncalc's bug, and how to report it."""
    try:
        detail = str(error)
    except Exception:
        detail = ""
    detail = shown(detail)
    detail = detail if len(detail) <= 200 else detail[:197] + "..."
    what = type(error).__name__ + (f": {detail}" if detail else "")
    return (
        f"cnncalc: internal error ({what}). This is a bug in cnncalc, not a problem with your input: "
        f"please report it on cnncalc's issue tracker with the command you ran and the files it read "
        f"({TRACEBACK_ENV}=1 prints the traceback). Exit code {EXIT_INTERNAL_ERROR}."
    )


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so Python's exit flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def max_file_size_option() -> Any:
    return typer.Option(
        None,
        "--max-file-size",
        metavar="SIZE",
        help="Read spec and answers files up to this size (default 5MB; or set CNNCALC_MAX_FILE_SIZE).",
    )


def max_memory_option() -> Any:
    return typer.Option(
        None,
        "--max-memory",
        metavar="SIZE",
        help="Memory the forward pass may use, e.g. 64GB (default: the memory available; or CNNCALC_MAX_MEMORY).",
    )


STDIN = "-"


def load(spec: str):
    """Load a spec given as a path, a shipped name, or `-` (standard input)."""
    from cnncalc.spec.build import load_spec
    from cnncalc.zoo import resolve_spec, zoo_dir

    if spec == STDIN:
        return read_stdin_spec()

    path = resolve_spec(spec)
    display = spec if path.exists() and not path.is_relative_to(zoo_dir()) else str(path)
    return load_spec(path, display)


def spec_inputs(spec: str) -> list[Path]:
    """The file a spec argument reads (none for `-`): what an output must not replace."""
    from cnncalc.zoo import resolve_spec

    return [] if spec == STDIN else [resolve_spec(spec)]


def read_stdin_spec():
    """The spec on standard input, shown as `<stdin>` in messages; the file-size limit applies to it too."""
    from cnncalc import limits
    from cnncalc.errors import Position, SpecError
    from cnncalc.spec.build import parse_spec

    limit = limits.max_file_bytes()
    data = sys.stdin.buffer.read(limit + 1) if hasattr(sys.stdin, "buffer") else sys.stdin.read(limit + 1).encode()
    if len(data) > limit:
        raise SpecError(
            f"standard input holds more than {limit:,} bytes, the limit for a spec.",
            Position("<stdin>", 1, 1),
            "Raise it with --max-file-size (e.g. --max-file-size 50MB) or CNNCALC_MAX_FILE_SIZE.",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SpecError(
            f"standard input is not UTF-8 text (byte {error.start + 1}).", Position("<stdin>", 1, 1)
        ) from None
    return parse_spec(text, "<stdin>", default_name="stdin")
