"""PyTorch's shape arithmetic as pure functions on ints (one spatial dimension each).

Sources: torch/nn/modules/conv.py and pooling.py docs, aten/src/ATen/native/Pool.h
(`pooling_output_shape`), AdaptivePooling.h; see shared/pytorch-arithmetic.md.
"""

from __future__ import annotations

import math


def conv_output_size(size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int) -> int:
    """`floor((in + pads - dilation*(k-1) - 1) / stride) + 1`; may be < 1 (caller reports)."""
    return (size + pad_before + pad_after - dilation * (kernel - 1) - 1) // stride + 1


def dropped_cells(size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int) -> int:
    """Input cells at the end that no window reads because the stride does not tile.

    Cells in the right padding don't count, nor does a tail no longer than the gap a stride
    larger than the window leaves between windows anyway (a 1x1 stride-2 shortcut skips every
    other row by design).
    """
    effective_kernel = dilation * (kernel - 1) + 1
    span = size + pad_before + pad_after - effective_kernel
    if span < 0:
        return 0
    regular_gap = max(0, stride - effective_kernel)
    # The unread tail can reach back into the left padding when the input is shorter than it.
    return max(0, min(size, span % stride - pad_after - regular_gap))


def same_padding(kernel: int, dilation: int) -> tuple[int, int]:
    """PyTorch's `padding='same'`: total dilation*(k-1), the odd one on the right."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def pool_output_size(
    size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int, ceil_mode: bool
) -> int:
    """aten `pooling_output_shape`: ceil_mode's last window must start inside input + left pad."""
    numerator = size + pad_before + pad_after - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad_before:
        out -= 1
    return out


def conv_transpose_output_size(
    size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int, output_padding: int
) -> int:
    """`(in - 1)*stride - pads + dilation*(k-1) + output_padding + 1`."""
    return (size - 1) * stride - pad_before - pad_after + dilation * (kernel - 1) + output_padding + 1


def adaptive_bins(size: int, out: int) -> list[tuple[int, int]]:
    """Bin i covers `[floor(i*in/out), ceil((i+1)*in/out))`; bins may overlap."""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def upsample_output_size(size: int, scale: float) -> int:
    """nn.Upsample(scale_factor) gives floor(in * scale)."""
    return math.floor(size * scale)
