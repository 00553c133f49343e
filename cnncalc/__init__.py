"""cnncalc: the output volume, parameters and compute of every layer of a CNN.

Library API (what the CLI and the tests call):
    spec = load_spec("specs/resnet50.yaml")
    analysis = analyze(spec)          # rows, totals, warnings
"""

from cnncalc.engine.propagate import Analysis, LayerRow, analyze
from cnncalc.errors import CnncalcError, LayerError, Position, SpecError
from cnncalc.spec.build import load_spec, parse_spec

__all__ = [
    "Analysis",
    "CnncalcError",
    "LayerError",
    "LayerRow",
    "Position",
    "SpecError",
    "analyze",
    "load_spec",
    "parse_spec",
]
__version__ = "0.1.0"
