"""Output files: never one of the inputs, always written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cnncalc.checking.escape import clean
from cnncalc.errors import CnncalcError


def write_output(path: str | Path, data: str | bytes, inputs: list[str | Path]) -> None:
    """Write `data` to `path` through a temporary file and a rename; refuse to overwrite an input."""
    target = Path(path)
    for source in inputs:
        if Path(source).exists() and target.exists() and target.resolve() == Path(source).resolve():
            raise CnncalcError(
                f"the output {clean(path)} is the input file; refusing to overwrite it.",
                None,
                "Give another path with -o.",
            )
    if not target.parent.is_dir():
        raise CnncalcError(f"the folder of {clean(path)} does not exist.", None, "Create it first, or give another -o.")
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data.encode() if isinstance(data, str) else data)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def load_network(source: str):
    """A spec file or shipped name, or an .onnx file (imported); returns (spec, display name)."""
    if source.lower().endswith(".onnx"):
        from cnncalc.interchange.onnx_import import import_onnx

        return import_onnx(source).spec, source
    from cnncalc.cli.common import load

    return load(source), source
