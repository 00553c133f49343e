"""`cnncalc diff A B`: do two networks (specs or ONNX files) agree on shapes, params and MACs?"""

from __future__ import annotations

import sys
from enum import Enum

import typer

from cnncalc.cli.common import handles_errors, max_file_size_option
from cnncalc.errors import EXIT_CHECK_FAILED


class DiffFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    github = "github"


@handles_errors
def diff(
    a: str = typer.Argument(..., help="A spec file, a shipped spec's name, or an .onnx file."),
    b: str = typer.Argument(..., help="The same kinds of file, to compare with A."),
    format: DiffFormat = typer.Option(
        DiffFormat.text, "--format", "-f", metavar="FORMAT", help="Output format: text, json, markdown or github."
    ),
    max_file_size: str = max_file_size_option(),
) -> None:
    """Compare two networks layer by layer; exit 0 when they agree, 1 when they differ."""
    from cnncalc.engine.diff import diff as compare
    from cnncalc.engine.propagate import analyze
    from cnncalc.interchange.files import load_network
    from cnncalc.report.diff import RENDERERS

    spec_a, name_a = load_network(a)
    spec_b, name_b = load_network(b)
    result = compare(analyze(spec_a), analyze(spec_b), name_a, name_b)
    text = RENDERERS[format.value](result)
    if format is DiffFormat.text:
        from cnncalc.cli.terminal import prose

        text = prose(text)  # in a terminal, long lines break at spaces, not mid-word
    sys.stdout.write(text)
    if not result.same:
        raise typer.Exit(EXIT_CHECK_FAILED)
