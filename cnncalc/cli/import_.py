"""`cnncalc import MODEL.onnx`: a readable spec for an existing model."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cnncalc.cli.common import handles_errors
from cnncalc.errors import EXIT_CHECK_FAILED


@handles_errors
def import_model(
    model: str = typer.Argument(..., help="An .onnx file (weights are not loaded: shapes are enough)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the spec here instead of stdout."),
    name: str | None = typer.Option(None, help="The spec's `name:` (default: the model's, or the file name)."),
) -> None:
    """Write the spec of an ONNX model: layers named after its nodes, structures where the graph allows."""
    from cnncalc.interchange.files import write_output
    from cnncalc.interchange.onnx_import import import_onnx
    from cnncalc.shown import shown

    result = import_onnx(model, name)
    if output is None:
        sys.stdout.write(result.text)
    else:
        write_output(output, result.text, [model])
    for line in result.mismatches:  # the importer checks itself against ONNX shape inference
        print(f"{shown(model)}: error: shape differs from ONNX shape inference: {shown(line)}", file=sys.stderr)
    if result.mismatches:
        raise typer.Exit(EXIT_CHECK_FAILED)
