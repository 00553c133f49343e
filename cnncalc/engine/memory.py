"""Memory estimates: activations and parameters per layer, inference peak and training totals.

Definitions (also printed by `cnncalc table --memory`):
- activations of a layer: the elements of its output, times the batch; every leaf output counts
  as its own tensor (no in-place ReLU, no views), so figures are upper estimates.
- inference: params + the peak of activations alive at once, for a framework that frees a
  tensor as soon as nothing needs it: a layer's input and output, plus, inside residual/concat
  blocks, the block input and finished branch outputs still waiting to be merged.
- training: input + params + gradients (one copy of the params) + optimizer state (SGD with
  momentum one more copy, Adam two) + every activation, since backward needs them all.
- torchinfo's "Forward/backward pass size" is 2 x the outputs of the leaf layers that have
  parameters (torchinfo/model_statistics.py); given for comparison only.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.layers import Layer, Structure

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
OPTIMIZER_COPIES = {"sgd": 0, "sgd_momentum": 1, "adam": 2}

EXPLANATION = (
    "Memory: activations = output elements x batch, every layer output counted as its own tensor (upper estimate). "
    "Inference = params + peak of activations alive at once (a layer's input and output, plus the block input and "
    "finished branches waiting inside residual/concat blocks). Training = input + params + gradients + optimizer "
    "state (SGD momentum: 1 copy of the params, Adam: 2) + all activations, kept for the backward pass. "
    "torchinfo's 'Forward/backward pass size' is 2 x the outputs of layers with parameters, shown for comparison."
)


@dataclass(frozen=True)
class LayerMemory:
    """One row's output elements (times the batch) and its bytes, and its parameters' bytes."""

    activations: int
    activation_bytes: int
    param_bytes: int


@dataclass
class MemoryEstimate:
    """Per-row figures and network totals for one dtype and batch size, in bytes."""

    dtype: str
    batch: int
    by_name: dict[str, LayerMemory]
    input_bytes: int
    param_bytes: int
    activation_bytes: int
    peak_activation_bytes: int
    torchinfo_forward_backward_bytes: int

    @property
    def inference_bytes(self) -> int:
        return self.param_bytes + self.peak_activation_bytes

    @property
    def torchinfo_total_bytes(self) -> int:
        """torchinfo's "Estimated Total Size": input + forward/backward pass size + params."""
        return self.input_bytes + self.torchinfo_forward_backward_bytes + self.param_bytes

    def training_bytes(self, optimizer: str = "adam") -> int:
        copies = 2 + OPTIMIZER_COPIES[optimizer]  # the params, their gradients, the optimizer's state
        return self.input_bytes + copies * self.param_bytes + self.activation_bytes

    def totals(self) -> dict[str, int | str]:
        """The JSON `memory` totals."""
        return {
            "dtype": self.dtype,
            "batch": self.batch,
            "input_bytes": self.input_bytes,
            "param_bytes": self.param_bytes,
            "activation_bytes": self.activation_bytes,
            "peak_activation_bytes": self.peak_activation_bytes,
            "inference_bytes": self.inference_bytes,
            "training_sgd_momentum_bytes": self.training_bytes("sgd_momentum"),
            "training_adam_bytes": self.training_bytes("adam"),
            "torchinfo_forward_backward_bytes": self.torchinfo_forward_backward_bytes,
            "torchinfo_total_bytes": self.torchinfo_total_bytes,
        }

    def footer(self) -> str:
        """One line in torchinfo's spirit, in MB (10^6 bytes, as torchinfo)."""
        return (
            f"Memory ({self.dtype}, batch {self.batch}): input {mb(self.input_bytes)} | params "
            f"{mb(self.param_bytes)} | all activations {mb(self.activation_bytes)} | inference "
            f"{mb(self.inference_bytes)} (peak activations {mb(self.peak_activation_bytes)}) | training "
            f"SGD-momentum {mb(self.training_bytes('sgd_momentum'))}, Adam {mb(self.training_bytes('adam'))} | "
            f"torchinfo's forward/backward pass size {mb(self.torchinfo_forward_backward_bytes)} "
            f"(its estimated total {mb(self.torchinfo_total_bytes)})"
        )


def mb(n_bytes: int) -> str:
    """Bytes in torchinfo's units (MB = 10^6 bytes), smaller units for small nets."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:,.2f} {unit}"
    return f"{n_bytes} B"


def estimate(analysis: Analysis, dtype: str = "float32", batch: int = 1) -> MemoryEstimate:
    """Every row's activations and parameter bytes, and the totals, for `dtype` and `batch`."""
    size = DTYPE_BYTES[dtype]
    by_name: dict[str, LayerMemory] = {}
    for row in analysis.rows:
        leaves = [row] if row.leaf else _leaves_under(analysis, row)
        elements = batch * sum(prod(leaf.output_shape) for leaf in leaves)
        by_name[row.name] = LayerMemory(elements, elements * size, row.params * size)
    leaves = analysis.leaves
    peak = _PeakWalker(analysis).peak_elements()
    return MemoryEstimate(
        dtype=dtype,
        batch=batch,
        by_name=by_name,
        input_bytes=batch * prod(analysis.spec.input_shape) * size,
        param_bytes=analysis.params * size,
        activation_bytes=batch * sum(prod(row.output_shape) for row in leaves) * size,
        peak_activation_bytes=batch * peak * size,
        torchinfo_forward_backward_bytes=2 * batch * sum(prod(r.output_shape) for r in leaves if r.params) * size,
    )


def annotate(analysis: Analysis, dtype: str = "float32", batch: int = 1) -> MemoryEstimate:
    """Attach each row's figures as `row.extras["memory"]`."""
    result = estimate(analysis, dtype, batch)
    for row in analysis.rows:
        row.extras["memory"] = result.by_name[row.name]
    return result


def _leaves_under(analysis: Analysis, row: LayerRow) -> list[LayerRow]:
    """The leaf rows that follow a structure row and are nested deeper than it."""
    start = next(i for i, r in enumerate(analysis.rows) if r is row)
    found = []
    for r in analysis.rows[start + 1 :]:
        if r.depth <= row.depth:
            break
        if r.leaf:
            found.append(r)
    return found


class _PeakWalker:
    """Largest number of activation elements alive at once (batch 1), see the module docstring."""

    def __init__(self, analysis: Analysis):
        self.analysis = analysis
        self.rows = {id(row.layer): row for row in analysis.rows}
        self.peak = 0

    def peak_elements(self) -> int:
        self.run(self.analysis.spec.layers, held=0, input_held=False)
        return self.peak

    def run(self, layers: list[Layer], held: int, input_held: bool) -> None:
        """`held`: elements kept alive by enclosing blocks; `input_held`: the input is among them."""
        for layer in layers:
            self.visit(layer, held, input_held)
            input_held = False  # the next layer's input is this layer's fresh output

    def visit(self, layer: Layer, held: int, input_held: bool) -> None:
        row = self.rows[id(layer)]
        x, out = prod(row.input_shape), prod(row.output_shape)
        if not isinstance(layer, Structure):
            self.peak = max(self.peak, held + (0 if input_held else x) + out)
            return
        groups = layer.children()
        if not layer.parallel:
            for group in groups:
                self.run(group, held, input_held)
                input_held = False
            return
        # Parallel paths: x stays alive until its last reader (the last path's first layer, or the merge
        # when a path is the identity); finished outputs wait for the merge.
        identity = any(not group for group in groups)
        paths = [group for group in groups if group]
        finished = 0
        for i, group in enumerate(paths):
            if i == len(paths) - 1 and not identity and not input_held:
                self.run(group, held + finished, input_held=False)  # x is freed once this path has read it
            else:
                self.run(group, (held if input_held else held + x) + finished, input_held=True)
            finished += prod(self.rows[id(group[-1])].output_shape)
        waiting_x = x if identity and not input_held else 0  # the identity path's output is x itself
        self.peak = max(self.peak, held + finished + waiting_x + out)
