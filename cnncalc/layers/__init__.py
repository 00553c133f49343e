"""Layer kinds: one pydantic model per kind, each owning its arithmetic."""

from cnncalc.layers import (  # noqa: F401  (fill the registry)
    activations,
    conv,
    dense,
    elementwise,
    normalization,
    pooling,
    rearrange,
)
from cnncalc.layers.base import LAYER_KINDS, Layer, Shape, Structure
from cnncalc.layers.structure import (
    STRUCTURE_KINDS,
    BlockCall,
    Concat,
    Merge,
    Repeat,
    Residual,
    Split,
    SplitSection,
    StructureKind,
)

__all__ = [
    "LAYER_KINDS",
    "STRUCTURE_KINDS",
    "BlockCall",
    "Concat",
    "Layer",
    "Merge",
    "Repeat",
    "Residual",
    "Shape",
    "Split",
    "SplitSection",
    "Structure",
    "StructureKind",
]
