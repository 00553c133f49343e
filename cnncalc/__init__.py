"""cnncalc: the output volume, parameters and compute of every layer of a CNN.

Library API (what the CLI and the tests call):
    spec = load_spec("specs/resnet50.yaml")
    analysis = analyze(spec)          # rows, totals, warnings
Names are imported on first use, so `import cnncalc` stays cheap for the CLI.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Analysis": "cnncalc.engine.propagate",
    "LayerRow": "cnncalc.engine.propagate",
    "analyze": "cnncalc.engine.propagate",
    "CnncalcError": "cnncalc.errors",
    "LayerError": "cnncalc.errors",
    "Position": "cnncalc.errors",
    "SpecError": "cnncalc.errors",
    "load_spec": "cnncalc.spec.build",
    "parse_spec": "cnncalc.spec.build",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'cnncalc' has no attribute {name!r}")
