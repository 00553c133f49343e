"""The peak memory of a NumPy forward pass, estimated from the engine's figures before anything is allocated.

`verify`, `run` and `validate --execute` call `check_forward_pass` first: a pass that would need more
than the memory available (or than `--max-memory`) is refused with exit 2, naming the layer that
needs the most, instead of allocating until the machine swaps or NumPy gives up.

Estimate, in bytes of the executor's dtype (float32):
    weights (params + buffers), and unless every value is kept, the fast path's prepared copies (each kind's
    `prepared_elements`: convs with a batchnorm folded in, Winograd filters)
  + the activations alive at once (engine/memory.py's peak, the input held throughout, times the batch), or
    every graph node's output when they are all kept (`cnncalc run` prints them)
  + the largest working copy one layer makes (each kind's `workspace_elements`): a convolution's padded
    input and im2col columns (input channels x kernel taps x output positions; Winograd's tiles where the
    fast path uses it, if more), a pooling's padded input and window copy, a temporary of the input's size
    for the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from cnncalc.engine.memory import peak_elements
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
    return row.layer.workspace_elements(row.input_shape, row.output_shape)


def prepared_elements(row: LayerRow) -> int:
    """Elements of the weight copies the executor's fast path keeps for one leaf (at most)."""
    return row.layer.prepared_elements(row.input_shape, row.output_shape)


def forward_pass_estimate(analysis: Analysis, batch: int = 1, keep_values: bool = False) -> PassEstimate:
    weights = (analysis.params + analysis.buffers) * ITEM_BYTES
    if keep_values:  # every node's array is kept: the leaves' outputs and the merges' of structures (a residual's sum)
        activations = batch * sum(prod(shape) for shape in analysis.graph.shapes()) * ITEM_BYTES
    else:  # the fast path's folded weights and Winograd filters; the caller's input stays alive through the
        # pass, though the graph is done with it after its readers
        weights += sum(prepared_elements(row) for row in analysis.leaves) * ITEM_BYTES
        activations = batch * peak_elements(analysis.graph, input_held=True) * ITEM_BYTES
    input_bytes = batch * prod(analysis.spec.input_shape) * ITEM_BYTES
    largest_row, largest, workspace, tensor = None, 0, 0, input_bytes
    for row in analysis.leaves:
        extra = workspace_elements(row) * batch * ITEM_BYTES
        need = (prod(row.input_shape) + prod(row.output_shape)) * batch * ITEM_BYTES + extra
        workspace = max(workspace, extra)
        tensor = max(tensor, prod(row.output_shape) * batch * ITEM_BYTES, extra, row.params * ITEM_BYTES)
        if largest_row is None or need > largest:
            largest_row, largest = row, need
    # The pass's own Python objects (a record and array headers per node, the executor): ~1 KiB a node, 1 MiB
    # besides; at a spec's exact peak (r3d_18: every array counted to the byte) they are what tips it over.
    python_objects = (1 << 20) + 1024 * len(analysis.graph.nodes)
    return PassEstimate(weights + activations + workspace + python_objects, largest_row, largest, tensor)


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
