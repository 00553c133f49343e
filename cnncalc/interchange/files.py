"""Where import, export and diff read networks from and write them to."""

from __future__ import annotations

from pathlib import Path


def write_output(path: str | Path, data: str | bytes, inputs: list[str | Path], what: str = "the output") -> None:
    """Write `data` to `path` atomically, refusing an input (cnncalc.output_file, as every writer)."""
    from cnncalc.output_file import refuse_inputs, write_atomically

    refuse_inputs(Path(path), inputs, what)
    write_atomically(Path(path), data)


def load_network(source: str):
    """A spec file or shipped name, or an .onnx file (imported); returns (spec, display name)."""
    if source.lower().endswith(".onnx"):
        from cnncalc.interchange.onnx_import import import_onnx

        return import_onnx(source).spec, source
    from cnncalc.cli.common import load

    return load(source), source
