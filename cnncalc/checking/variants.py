"""What a layer would give under a classic mistake: padding dropped, ceil or round instead of floor.

The arithmetic is the layer's own (its geometry or pooling window); only one ingredient changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.layers import Shape
from cnncalc.layers.conv import Conv, ConvTranspose
from cnncalc.layers.window import SlidingWindow

Rounding = Callable[[Fraction], int]


# One spatial dim of a sliding window: (size, kernel, stride, pad_before, pad_after, dilation).
WindowDim = tuple[int, int, int, int, int, int]


def window_dims(row: LayerRow) -> list[WindowDim] | None:
    """The sliding-window geometry of a conv or window pool, or None for other kinds."""
    layer = row.layer
    if isinstance(layer, SlidingWindow) and not isinstance(layer, ConvTranspose):
        return layer.geometry(row.input_shape).dims
    return None


def window_shape(
    row: LayerRow,
    padded: bool = True,
    rounding: Rounding = math.floor,
    plus_one: int = 1,
    strided: bool = True,
    dilated: bool = True,
) -> Shape | None:
    """`[C, rounding((in + pads - d*(k-1) - 1) / s) + plus_one, ...]` for a conv or pool row,
    with one ingredient left out or changed as a student might."""
    dims = window_dims(row)
    if dims is None:
        return None
    sizes = []
    for size, k, s, before, after, d in dims:
        pads = before + after if padded else 0
        span = (d if dilated else 1) * (k - 1) + 1
        sizes.append(rounding(Fraction(size + pads - span, s if strided else 1)) + plus_one)
    return (row.output_shape[0], *sizes)


def macs_for_shape(row: LayerRow, output_shape: Shape | None) -> int | None:
    """The row's MACs had its output been `output_shape` (None when not a leaf or no shape)."""
    if output_shape is None or not row.leaf or min(output_shape, default=0) < 1:
        return None
    return row.layer.macs(row.input_shape, output_shape)


def params_without_bias(analysis: Analysis, row: LayerRow | None) -> int:
    """Params of a row (or the whole network) with every bias left out."""
    total = 0
    for leaf in leaves_under(analysis, row):
        layer = leaf.layer
        if getattr(layer, "bias", False) is True:
            layer = layer.model_copy(update={"bias": False})
        total += layer.param_count(leaf.input_shape)
    return total


def params_without_input_channels(row: LayerRow) -> tuple[int, ...]:
    """A conv's params counted as F*F*K (+ K biases), as if the input had one channel per group."""
    layer = row.layer
    if not isinstance(layer, Conv):
        return ()
    one_channel = (layer.groups, *row.input_shape[1:])
    with_bias = layer.param_count(one_channel)
    return (with_bias, with_bias - layer.out_channels) if layer.bias else (with_bias,)


def leaves_under(analysis: Analysis, row: LayerRow | None) -> list[LayerRow]:
    """The leaf rows a row sums (itself for a leaf; all leaves for None, the whole network)."""
    if row is None:
        return analysis.leaves
    if row.leaf:
        return [row]
    out = []
    for other in analysis.rows[analysis.rows.index(row) + 1 :]:
        if other.depth <= row.depth:  # rows are in execution order, children deeper than their parent
            break
        if other.leaf:
            out.append(other)
    return out


def running_total(analysis: Analysis, row: LayerRow, quantity: str) -> int:
    """Sum of `quantity` over the leaves from the first layer up to and including `row`."""
    total = 0
    mine = leaves_under(analysis, row)
    last = mine[-1] if mine else row
    for leaf in analysis.leaves:
        total += getattr(leaf, quantity)
        if leaf is last:
            break
    return total
