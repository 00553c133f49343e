"""`import --torch MODULE:FACTORY`: a PyTorch model exported to ONNX in memory, then read by the ONNX importer.

torch is optional and imported only here. Importing MODULE and calling FACTORY() runs the user's code;
whatever it prints goes to stderr, so that a spec written to stdout stays a spec.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnncalc.errors import CnncalcError

TORCH_HINT = (
    "Install it with `pip install torch` (pytorch.org lists the build for your machine), "
    "and `pip install torchvision` for torchvision's models."
)
OPSET = 17  # as tests/data/onnx/make_fixtures.py: LayerNormalization is one node from 17 on


@dataclass(frozen=True)
class Target:
    """MODULE:FACTORY as given: a dotted module or a .py file, and the attribute to call."""

    text: str
    module: str
    factory: str

    @property
    def is_file(self) -> bool:
        return self.module.endswith(".py") or "/" in self.module or os.sep in self.module

    def inputs(self) -> list[str]:
        """The files an output must never replace (the model's source, when given as a path)."""
        return [self.module] if self.is_file else []


def parse_target(text: str) -> Target:
    """`torchvision.models:resnet50` or `path/to/file.py:build` (the last colon splits, so `C:\\...` works)."""
    module, colon, factory = text.rpartition(":")
    if not colon or not module or not factory:
        raise CnncalcError(
            f"--torch wants MODULE:FACTORY, got `{text}`.",
            None,
            "For example `--torch torchvision.models:resnet50` or `--torch path/to/model.py:build`.",
        )
    return Target(text, module, factory)


def parse_input(text: str) -> tuple[int, ...]:
    """`3,224,224` -> (3, 224, 224): the input without its batch dim, every size a positive integer."""
    parts = [p.strip() for p in text.split(",")]
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        dims = ()
    if not dims or any(d < 1 for d in dims):
        raise CnncalcError(
            f"--input wants the input's sizes without the batch, such as `3,224,224`; got `{text}`.",
            None,
            "Give positive integers separated by commas (C,H,W, or more dims).",
        )
    return dims


def require_torch() -> Any:
    """The torch module, or a one-paragraph error saying how to install it."""
    try:
        import torch  # type: ignore[import-not-found, unused-ignore]  # optional: no stubs without it
    except ImportError:
        raise CnncalcError("`import --torch` needs PyTorch, which is not installed.", None, TORCH_HINT) from None
    return torch


def _detail(error: BaseException) -> str:
    """`TypeError: first line of the message`, short enough for one paragraph."""
    first = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
    if len(first) > 300:
        first = first[:297] + "..."
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def _load_module(target: Target) -> Any:
    """Import MODULE (a dotted name, found from the current folder too, or a .py file by its path)."""
    try:
        if target.is_file:
            path = Path(target.module)
            if not path.is_file():
                raise CnncalcError(f"--torch `{target.text}`: no such file `{target.module}`.")
            name = f"cnncalc_torch_model_{abs(hash(str(path.resolve())))}"
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise CnncalcError(f"--torch `{target.text}`: `{target.module}` cannot be imported as Python.")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            sys.path.insert(0, str(path.resolve().parent))  # as `python file.py`: its sibling modules import
            try:
                spec.loader.exec_module(module)
            finally:
                sys.path.remove(str(path.resolve().parent))
            return module
        if "" not in sys.path and os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())  # `cnncalc` as a console script would not see ./models.py otherwise
        return importlib.import_module(target.module)
    except CnncalcError:
        raise
    except (Exception, SystemExit) as error:
        raise CnncalcError(
            f"--torch `{target.text}`: importing `{target.module}` failed ({_detail(error)}).",
            None,
            'Check that the module imports in this Python (`python -c "import ..."`) or give a path to a .py file.',
        ) from None


def build_module(target: Target) -> tuple[Any, list[str]]:
    """Import MODULE, call FACTORY() with no arguments, check it gave an nn.Module: (model in eval mode, sources)."""
    torch = require_torch()
    module = _load_module(target)
    source = getattr(module, "__file__", None)
    found: Any = module
    for part in target.factory.split("."):
        if not hasattr(found, part):
            raise CnncalcError(
                f"--torch `{target.text}`: `{target.module}` has no `{target.factory}`.",
                None,
                "Name a function or class defined in that module, after the colon.",
            )
        found = getattr(found, part)
    if not callable(found):
        raise CnncalcError(
            f"--torch `{target.text}`: `{target.factory}` is a {type(found).__name__}, not something to call.",
            None,
            "FACTORY must be a function or class that returns the model when called with no arguments.",
        )
    try:
        model = found()
    except (Exception, SystemExit) as error:
        raise CnncalcError(
            f"--torch `{target.text}`: calling `{target.factory}()` failed ({_detail(error)}).",
            None,
            "cnncalc calls FACTORY with no arguments; wrap the model in a function that needs none.",
        ) from None
    if not isinstance(model, torch.nn.Module):
        raise CnncalcError(
            f"--torch `{target.text}`: `{target.factory}()` returned a {type(model).__name__}, not a torch.nn.Module.",
        )
    return model.eval(), [source] if isinstance(source, str) else []


def export_onnx(model: Any, target: Target, dims: tuple[int, ...]) -> Any:
    """The model as an in-memory ONNX ModelProto, exported so that the importer reads PyTorch's own figures.

    The legacy TorchScript exporter (dynamo=False), constant folding off, opset 17, eval mode, a zero
    input of batch 1: exactly how tests/data/onnx/make_fixtures.py made the committed fixtures. With
    folding on, each BatchNorm is folded into its conv (the spec would count conv biases instead of BN).
    dynamo=True (torch 2.14) was tried: its optimizer folds BatchNorm away even with folding off (ResNet-18
    9,600 params short), its nodes are named `node_Conv_292` rather than after the modules, at opset 17
    its version conversion fails, without its optimizer it leaves CastLike/Expand nodes that have no
    cnncalc kind, and it takes about ten times as long.
    """
    import io

    torch = require_torch()
    from cnncalc.interchange.onnx_support import require_onnx

    onnx = require_onnx()
    buffer = io.BytesIO()
    shape = [1, *dims]
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.filterwarnings(
                "ignore", message=".*legacy TorchScript-based ONNX export", category=DeprecationWarning
            )
            torch.onnx.export(
                model,
                (torch.zeros(shape),),
                buffer,
                dynamo=False,
                do_constant_folding=False,
                opset_version=OPSET,
            )
    except (Exception, SystemExit) as error:
        raise CnncalcError(
            f"--torch `{target.text}`: torch.onnx.export of `{target.factory}()` on an input of {shape} failed "
            f"({_detail(error)}).",
            None,
            "Check that --input is the shape the model's forward takes (without the batch dim).",
        ) from None
    return onnx.load_from_string(buffer.getvalue())


def import_torch(target: Target, dims: tuple[int, ...], name: str | None = None) -> tuple[Any, list[str]]:
    """`import --torch`: the ImportResult `cnncalc import` gives for the exported file, and the model's source files.

    The spec's name is FACTORY's (`resnet50`), as importing `resnet50.onnx` names it; only the description
    line, which says where the model came from, differs from that import.
    """
    from cnncalc.interchange.onnx_import import import_model
    from cnncalc.interchange.onnx_support import require_onnx

    require_torch()
    require_onnx()  # both before any of the user's code runs
    with contextlib.redirect_stdout(sys.stderr):  # the user's prints must not mix into a spec on stdout
        model, sources = build_module(target)
        proto = export_onnx(model, target, dims)
    origin = f"{target.text}() through torch.onnx.export"
    title = name or target.factory.rsplit(".", 1)[-1]
    return import_model(proto, target.text, title, origin=origin), sources
