"""The peak memory of a NumPy forward pass, estimated from the engine's figures before anything is allocated.

`verify`, `run` and `validate --execute` call `check_forward_pass` first: a pass that would need more
than the memory available (or than `--max-memory`) is refused with exit 2, naming the layer that
needs the most, instead of allocating until the machine swaps or NumPy gives up.

Estimate, in bytes of the executor's dtype (float32):
    weights (params + buffers), and unless every value is kept, the fast path's prepared copies (convs with
    a batchnorm folded in, Winograd filters of 3x3 convs)
  + the activations alive at once (engine/memory.py's inference peak, times the batch), or every
    layer's output when they are all kept (`cnncalc run` prints them)
  + the largest working copy one layer makes: a convolution's padded input and im2col columns
    (input channels x kernel taps x output positions; Winograd's tiles for a 3x3 one, if more), a
    pooling's padded input and window copy, a temporary of the input's size for the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from cnncalc.engine.memory import estimate
from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.errors import CnncalcError, approximate
from cnncalc.layers.base import MAX_SIZE

ITEM_BYTES = 4  # the executor's float32


@dataclass(frozen=True)
class PassEstimate:
    total_bytes: int
    largest_row: LayerRow | None  # the leaf that needs the most (its input, output and working copies)
    largest_bytes: int
    largest_tensor_bytes: int  # the largest single array, which NumPy must be able to index


def workspace_elements(row: LayerRow) -> int:
    """Elements (per batch item) of the working copies one leaf layer makes besides its input and output."""
    from cnncalc.layers.conv import ConvTranspose, _ConvBase
    from cnncalc.layers.pooling import _WindowPool

    layer, x, y = row.layer, prod(row.input_shape), prod(row.output_shape)
    if isinstance(layer, _ConvBase) and len(row.input_shape) > 1:
        channels, spatial, out_spatial = row.input_shape[0], row.input_shape[1:], row.output_shape[1:]
        kernel = layer.per_dim(layer.kernel_size, len(spatial), "kernel_size")
        dilation = layer.per_dim(layer.dilation, len(spatial), "dilation")
        transpose = isinstance(layer, ConvTranspose)  # correlated at stride 1 once zero-stuffed
        if transpose:  # zero-stuffed, then padded by dilation * (kernel - 1)
            padded_sizes = tuple(o + d * (k - 1) for o, k, d in zip(out_spatial, kernel, dilation))
        else:
            padded_sizes = tuple(n + 2 * d * (k - 1) for n, k, d in zip(spatial, kernel, dilation))
        padded = channels * prod(padded_sizes)
        columns = channels * prod(kernel) * prod(out_spatial)
        stride = (1,) * len(spatial) if transpose else layer.per_dim(layer.stride, len(spatial), "stride")
        if len(spatial) == 2 and layer.groups == channels == row.output_shape[0]:
            # depthwise by flat offsets (ops.depthwise_flat): its stride phases, each tap's run and the wide
            # output, rows a phase wide (at most the output's width plus the kernel's overhang over the stride)
            width = out_spatial[1] + dilation[1] * (kernel[1] - 1) // stride[1] + 1
            phases = channels * prod(-(-n // s) * s for n, s in zip(padded_sizes, stride)) if max(stride) > 1 else 0
            return padded + phases + (prod(kernel) + 1) * channels * out_spatial[0] * width
        if kernel == (3, 3) and not transpose:  # maybe Winograd's (executor/winograd.py): its 4x4 input and
            # product tiles, their row temporaries and an odd size's cropped copy, over the output rounded up
            # to even sizes: at most 8 (C + C_out) values per position.
            even = prod(o + o % 2 for o in out_spatial)
            columns = max(columns, 8 * (channels + row.output_shape[0]) * even)
        return padded + columns
    if isinstance(layer, _WindowPool) and len(row.input_shape) > 1:
        # the padded input (ceil_mode's extra end padding is under a stride), then for max and min pools
        # (windows.reduce_separable) the input reduced over the first dim, else the window copy
        g = layer.geometry(row.input_shape)
        sizes = [n + before + after + s for n, s, (before, after) in zip(row.input_shape[1:], g.stride, g.pads)]
        return row.input_shape[0] * (prod(sizes) + row.output_shape[1] * prod(sizes[1:])) + y
    return max(x, y)


def prepared_elements(row: LayerRow) -> int:
    """Elements of the weight copies the executor's fast path keeps for one conv (at most): for a 2-D 3x3 kernel of
    stride and dilation 1, Winograd's 16 filter values per 9 weights, else its weights with a batchnorm folded in;
    and the bias."""
    from cnncalc.layers.conv import Conv

    layer = row.layer
    if type(layer) is not Conv or len(row.input_shape) < 2:
        return 0
    dims = len(row.input_shape) - 1
    kernel = layer.per_dim(layer.kernel_size, dims, "kernel_size")
    weights = row.output_shape[0] * (row.input_shape[0] // layer.groups) * prod(kernel)
    plain = layer.per_dim(layer.stride, dims, "stride") == layer.per_dim(layer.dilation, dims, "dilation") == (1, 1)
    return row.output_shape[0] + (-(-16 * weights // 9) if kernel == (3, 3) and plain else weights)


def forward_pass_estimate(analysis: Analysis, batch: int = 1, keep_values: bool = False) -> PassEstimate:
    memory = estimate(analysis, "float32", batch)
    weights = (analysis.params + analysis.buffers) * ITEM_BYTES
    if not keep_values:  # the fast path's folded weights and Winograd filters
        weights += sum(prepared_elements(row) for row in analysis.leaves) * ITEM_BYTES
    activations = memory.input_bytes + memory.activation_bytes if keep_values else memory.peak_activation_bytes
    largest_row, largest, workspace, tensor = None, 0, 0, memory.input_bytes
    for row in analysis.leaves:
        extra = workspace_elements(row) * batch * ITEM_BYTES
        need = (prod(row.input_shape) + prod(row.output_shape)) * batch * ITEM_BYTES + extra
        workspace = max(workspace, extra)
        tensor = max(tensor, prod(row.output_shape) * batch * ITEM_BYTES, extra, row.params * ITEM_BYTES)
        if largest_row is None or need > largest:
            largest_row, largest = row, need
    return PassEstimate(weights + activations + workspace, largest_row, largest, tensor)


def check_forward_pass(analysis: Analysis, batch: int = 1, keep_values: bool = False) -> PassEstimate:
    """Refuse (exit 2) a forward pass whose estimated peak exceeds the memory limit; else give the estimate."""
    from cnncalc import limits

    found = forward_pass_estimate(analysis, batch, keep_values)
    row = found.largest_row
    where = row.layer.source if row is not None else analysis.spec.source
    culprit = f"layer `{row.name}` ({row.kind}) needs the most: {_size(found.largest_bytes)}" if row else ""
    if found.largest_tensor_bytes > MAX_SIZE:
        raise CnncalcError(
            f"this forward pass cannot run in NumPy: one of its arrays would take {_size(found.largest_tensor_bytes)}, "
            f"beyond what NumPy can index ({_size(MAX_SIZE)}); {culprit}.",
            where,
            "`cnncalc table` gives its shapes, parameters and MACs without running it.",
        )
    limit, source = limits.max_memory_bytes()
    if found.total_bytes > limit:
        against = (
            f"the {_size(limit)} of memory available"
            if source == "available"
            else f"the limit of {_size(limit)} set by {source}"
        )
        raise CnncalcError(
            f"the forward pass would need about {_size(found.total_bytes)} (estimated before allocating), more than "
            f"{against}; {culprit}.",
            where,
            "`cnncalc table` gives its shapes without running it; or use a smaller input or --batch. To run it "
            f"anyway, raise the limit: `--max-memory 64GB` (or {limits.MEMORY_ENV}=64GB).",
        )
    return found


def _size(n_bytes: int) -> str:
    from cnncalc.limits import format_bytes

    return format_bytes(n_bytes) if n_bytes < 10**18 else f"{approximate(n_bytes)} bytes"
