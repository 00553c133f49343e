"""`cnncalc import MODEL.onnx` (or `--torch MODULE:FACTORY`): a readable spec for an existing model."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cnncalc.cli.common import handles_errors
from cnncalc.errors import EXIT_CHECK_FAILED


@handles_errors
def import_model(
    model: str | None = typer.Argument(
        None, help="An .onnx file (weights are not loaded: shapes are enough). Not with --torch."
    ),
    torch_target: str | None = typer.Option(
        None,
        "--torch",
        metavar="MODULE:FACTORY",
        help="Instead of a file: import MODULE (dotted, or a path/to/file.py), call FACTORY() with no arguments "
        "and export the nn.Module to ONNX in memory (needs torch). This RUNS THAT CODE: use only code you trust.",
    ),
    input_dims: str | None = typer.Option(
        None, "--input", metavar="C,H,W", help="With --torch: the input's sizes without the batch (batch 1)."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the spec here instead of stdout."),
    name: str | None = typer.Option(
        None, help="The spec's `name:` (default: the model's, the file name, or FACTORY's name)."
    ),
) -> None:
    """Write the spec of an ONNX model (or of a PyTorch model, with --torch): layers named after its nodes."""
    from cnncalc.errors import CnncalcError
    from cnncalc.interchange.files import write_output
    from cnncalc.shown import shown

    usage = "Give an .onnx file, or `--torch MODULE:FACTORY --input C,H,W` for a PyTorch model."
    if model is not None and torch_target is not None:
        raise CnncalcError(f"give either the file `{model}` or --torch `{torch_target}`, not both.", None, usage)
    inputs: list[str | Path]
    if torch_target is not None:
        from cnncalc.interchange.torch_import import import_torch, parse_input, parse_target

        if input_dims is None:
            raise CnncalcError(
                "--torch needs --input: the shape to export the model at.", None, "For example `--input 3,224,224`."
            )
        target = parse_target(torch_target)
        dims = parse_input(input_dims)
        if output is not None:  # checked again before writing, with the imported module's own file
            from cnncalc.output_file import refuse_inputs

            refuse_inputs(output, target.inputs(), "the output")  # before running any of the user's code
        result, sources = import_torch(target, dims, name)
        source, inputs = torch_target, [*target.inputs(), *sources]
    elif model is not None:
        from cnncalc.interchange.onnx_import import import_onnx

        if input_dims is not None:
            raise CnncalcError("--input is for --torch: an ONNX file carries its own input shape.", None, usage)
        result, source, inputs = import_onnx(model, name), model, [model]
    else:
        raise CnncalcError("nothing to import.", None, usage)
    if output is None:
        sys.stdout.write(result.text)
    else:
        write_output(output, result.text, inputs)
        typer.echo(shown(f"wrote {output}"))  # as draw and plot say
    for line in result.mismatches:  # the importer checks itself against ONNX shape inference
        print(f"{shown(source)}: error: shape differs from ONNX shape inference: {shown(line)}", file=sys.stderr)
    if result.mismatches:
        raise typer.Exit(EXIT_CHECK_FAILED)
