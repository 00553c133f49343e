"""`cnncalc check SPEC [--answers FILE]`: mark homework answers (or a spec's `expect:`) right or wrong."""

from __future__ import annotations

from enum import Enum

import typer

from cnncalc.cli.common import handles_errors, load, max_file_size_option
from cnncalc.errors import EXIT_CHECK_FAILED, SpecError


class CheckFormat(str, Enum):
    table = "table"
    json = "json"


@handles_errors
def check(
    spec: str = typer.Argument(..., help="A spec file, or the name of a shipped spec (see `cnncalc list`)."),
    answers: str = typer.Option(
        None, "--answers", "-a", help="A YAML file of answers in the form of `expect:`; default: the spec's own."
    ),
    format: CheckFormat = typer.Option(CheckFormat.table, "--format", "-f", help="Output format."),
    max_file_size: str = max_file_size_option(),
) -> None:
    """Mark each answer right or wrong, with the worked formula and a hint for classic mistakes."""
    from cnncalc.checking import check_expect, load_answers
    from cnncalc.engine.propagate import analyze

    loaded = load(spec)
    if answers is not None:
        expect, raw = load_answers(answers)
    elif loaded.expect is not None:
        expect, raw = loaded.expect, loaded.expect_raw
    else:
        raise SpecError(
            f"`{spec}` has no `expect:` block and no answers file was given.",
            loaded.source,
            "Pass `--answers answers.yaml`, or add `expect:` to the spec.",
        )
    result = check_expect(analyze(loaded), expect, raw)
    if format is CheckFormat.json:
        import json  # here, not at the top: every command module loads at start-up

        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        from rich.console import Console

        from cnncalc.checking.render import render_check

        Console().print(render_check(result))
    if not result.passed:
        raise typer.Exit(EXIT_CHECK_FAILED)
