"""The optional `onnx` dependency: imported only by the commands that need it."""

from __future__ import annotations

from typing import Any

from cnncalc.errors import CnncalcError

INSTALL_HINT = 'Install it with `pip install "cnncalc[onnx]"`.'


def require_onnx() -> Any:
    """The onnx module, or a one-paragraph error saying how to install it."""
    try:
        import onnx
    except ImportError:
        raise CnncalcError(
            "this command needs the `onnx` package, which is not installed.", None, INSTALL_HINT
        ) from None
    return onnx


def load_model(path: str) -> Any:
    """Read an ONNX file without its external weight data (shapes are enough)."""
    from pathlib import Path

    from cnncalc.shown import shown

    onnx = require_onnx()
    file = Path(path)
    if not file.is_file():
        raise CnncalcError(f"no such ONNX file: {shown(path)}.")
    try:
        return onnx.load(str(file), load_external_data=False)
    except Exception as error:  # protobuf's DecodeError and friends: the file is not an ONNX model
        raise CnncalcError(
            f"{shown(path)} is not a readable ONNX model ({type(error).__name__}).",
            None,
            "Check that the file is a complete .onnx export.",
        ) from None
