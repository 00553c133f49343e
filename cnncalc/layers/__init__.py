"""Layer kinds: one pydantic model per kind, each owning its arithmetic."""

from cnncalc.layers import conv, dense, elementwise, pooling  # noqa: F401  (fill the registry)
from cnncalc.layers.base import LAYER_KINDS, Layer, Shape, Structure
from cnncalc.layers.structure import BlockCall, Concat, Repeat, Residual

STRUCTURE_KINDS = {"residual": Residual, "concat": Concat, "repeat": Repeat}

__all__ = ["LAYER_KINDS", "STRUCTURE_KINDS", "BlockCall", "Concat", "Layer", "Repeat", "Residual", "Shape", "Structure"]
