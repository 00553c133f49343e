"""`cnncalc export SPEC --to pytorch|onnx`: the spec as a PyTorch module file or an ONNX model."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer

from cnncalc.cli.common import handles_errors, load, max_file_size_option
from cnncalc.errors import CnncalcError
from cnncalc.shown import shown


class Target(str, Enum):
    pytorch = "pytorch"
    onnx = "onnx"


@handles_errors
def export(
    spec: str = typer.Argument(..., help="A spec file, or the name of a shipped spec."),
    to: Target = typer.Option(..., "--to", help="pytorch: a standalone .py file; onnx: an .onnx model."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Output file (required for onnx)."),
    no_weights: bool = typer.Option(False, "--no-weights", help="ONNX: weight shapes only (as graph inputs)."),
    seed: int = typer.Option(0, help="Seed of the random weights (the NumPy executor's, as `cnncalc run`)."),
    max_file_size: str = max_file_size_option(),
) -> None:
    """Export a spec: PyTorch code to train, or ONNX for Netron and onnxruntime."""
    from cnncalc.interchange.files import write_output

    loaded = load(spec)
    if to is Target.pytorch:
        from cnncalc.interchange.pytorch_export import export_pytorch

        code = export_pytorch(loaded)
        if output is None:
            sys.stdout.write(code)
        else:
            write_output(output, code, [loaded.file])
            typer.echo(shown(f"wrote {output}"))  # as draw and plot say
        return
    if output is None:
        raise CnncalcError("`--to onnx` writes a binary file: give it with -o model.onnx.")
    from cnncalc.interchange.onnx_export import export_onnx, save_onnx

    save_onnx(export_onnx(loaded, weights=not no_weights, seed=seed), str(output), [loaded.file])
    typer.echo(shown(f"wrote {output}"))
