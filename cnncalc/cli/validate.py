"""`cnncalc validate PATH...`: check many spec files at once, for CI and pre-commit."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from cnncalc.cli.common import handles_errors, max_file_size_option, max_memory_option


class ValidateFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


@handles_errors
def validate(
    paths: list[str] = typer.Argument(..., help="Spec files, folders (searched for *.yaml, *.yml) or globs."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings (e.g. a stride that drops rows) as errors."),
    execute: bool = typer.Option(
        False, "--execute", help="Also run the NumPy forward pass and compare its shapes and params."
    ),
    format: ValidateFormat = typer.Option(
        ValidateFormat.text, "--format", "-f", help="text, json, or github (Actions annotations)."
    ),
    junit: Path = typer.Option(None, "--junit", help="Also write a JUnit XML report to this file."),
    max_memory: str = max_memory_option(),
    max_file_size: str = max_file_size_option(),
    jobs: int = typer.Option(
        None, "--jobs", "-j", min=1, help="Processes validating files at once (default: the number of cores)."
    ),
) -> None:
    """Parse, propagate and check the `expect:` of every spec; exit 0 all pass, 1 a check failed, 2 unusable."""
    from cnncalc.report.validation import counts, github_lines, summary_line, text_lines, write_junit
    from cnncalc.validation import discover, exit_code, validate_many

    found = discover(paths)
    if junit is not None:  # refused before any file is validated or written
        from cnncalc.output_file import check_output

        check_output(
            junit, [item if isinstance(item, Path) else item.path for item in found], (".xml",), "the JUnit report"
        )
    results = validate_many(found, strict, execute, jobs, (max_file_size, max_memory))
    if format is ValidateFormat.json:
        from cnncalc.report.json_text import dumps

        typer.echo(dumps({"files": [r.to_dict() for r in results], "summary": counts(results)}))
    elif format is ValidateFormat.text:
        from cnncalc.cli.terminal import prose

        typer.echo(
            prose("\n".join([*(line for result in results for line in text_lines(result)), summary_line(results)]))
        )
    else:  # workflow commands stay one line each, whatever the terminal
        for result in results:
            for line in github_lines(result):
                typer.echo(line)
        typer.echo(summary_line(results))
    if junit is not None:
        write_junit(results, junit)
    raise typer.Exit(exit_code(results))
