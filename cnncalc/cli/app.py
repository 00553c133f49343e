"""The typer app: wiring only. Each command lives in its own module, imported only when it runs."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from cnncalc.cli.plain_params import install, plain_coercion

# name -> (module, function). Order is the order of `cnncalc --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "table": ("table", "table"),
    "list": ("zoo_list", "list_specs"),
    "draw": ("draw", "draw"),
    "plot": ("plot", "plot"),
    "verify": ("verify", "verify"),
    "run": ("run", "run"),
    "check": ("check", "check"),
    "validate": ("validate", "validate"),
    "schema": ("schema", "schema"),
    "quiz": ("quiz", "quiz"),
    "import": ("import_", "import_model"),
    "export": ("export", "export"),
    "diff": ("diff", "diff"),
}


def command(name: str) -> Any:
    """The click command `name`, built from its module (imported now, not at start-up)."""
    module, function = COMMANDS[name]
    callback = getattr(importlib.import_module(f"cnncalc.cli.{module}"), function)
    single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    single.command(name)(callback)
    built = typer.main.get_command(single)
    install(built)
    return built


class LazyGroup(TyperGroup):
    """Knows every command's name; builds (and imports) only the one that is run, or asked for help."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        plain_coercion(self, ctx)  # here: typer adds the completion options after building the group
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = command(cmd_name)
        return self.commands.get(cmd_name)


app = typer.Typer(
    name="cnncalc",
    cls=LazyGroup,
    help="What a convolutional network does to its input: shapes, parameters and compute, layer by layer.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from cnncalc import __version__

        typer.echo(f"cnncalc {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print cnncalc's version and exit."
    ),
) -> None:
    """What a convolutional network does to its input: shapes, parameters and compute, layer by layer."""


def main() -> None:
    """The console script: run the command, then leave without tearing the interpreter down."""
    from cnncalc.cli.terminal import wrap_standard_error

    wrap_standard_error()
    try:
        app()
        code: object = 0
    except SystemExit as leaving:
        code = leaving.code
    leave(code)


def leave(code: object) -> None:
    """Exit with `code` as `sys.exit` would, but skip freeing every module and object, which takes a fifth of
    a `cnncalc table` run (~30 ms; mypy's `hard_exit` does the same). atexit handlers still run and the
    standard streams are flushed; with other threads alive it exits normally, so that they finish."""
    import atexit
    import threading

    if threading.active_count() > 1:
        raise SystemExit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): the message to stderr, status 1
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError, OSError):  # a reader that went away, or a closed stream
            status = status or 141  # as a shell reports SIGPIPE
    os._exit(status)
