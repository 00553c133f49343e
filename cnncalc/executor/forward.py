"""Run a spec's graph with real arrays and record what each node produced."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnncalc.errors import EXIT_CHECK_FAILED, CnncalcError
from cnncalc.executor import ops, winograd
from cnncalc.executor.ops import op_for, op_input
from cnncalc.executor.weights import ParamStore
from cnncalc.graph import Node
from cnncalc.layers import Layer, Structure
from cnncalc.layers.conv import Conv
from cnncalc.layers.elementwise import ReLU
from cnncalc.layers.normalization import BatchNorm
from cnncalc.layers.pooling import MaxPool
from cnncalc.layers.structure import SumMerge
from cnncalc.spec.model import Spec


class ExecutionError(CnncalcError):
    """The forward pass failed on a spec the engine accepted: a disagreement, so a failed check."""

    exit_code = EXIT_CHECK_FAILED


@dataclass
class LayerRecord:
    """What one graph node produced: shape without batch, its own params, maybe its values."""

    node: Node
    shape: tuple[int, ...] = ()
    params: int = 0
    values: np.ndarray | None = None

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def kind(self) -> str:
        return self.node.kind


# A conv's weights and bias (maybe with a batchnorm folded in), or instead of the weights its Winograd filters,
# made at prepare time.
PreparedConv = tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]

# Ops whose result is an array of their own (never a view of an input): when one is read by a single node,
# that node may overwrite it (relu, batchnorm, the residual add work in place).
FRESH_RESULT = (Conv, BatchNorm, ReLU, SumMerge, MaxPool)


class Executor:
    """Runs a spec's graph forward on [N, C, *spatial] arrays; parameters are created once and kept.

    Unless the values are kept (for `run` or a backward pass), `prepare` folds each batchnorm into the conv
    before it and transforms 3x3 stride-1 filters for Winograd's algorithm, and relu, batchnorm and the
    residual add overwrite arrays only they read; every node still gets its record, shaped by an array.
    """

    def __init__(
        self,
        seed: int = 0,
        dtype: Any = np.float32,
        keep_values: bool = False,
        on_layer: Callable[[LayerRecord], None] | None = None,
    ):
        self.seed = seed
        self.dtype = np.dtype(dtype)
        self.params = ParamStore(seed, self.dtype)
        self.keep_values = keep_values
        self.on_layer = on_layer
        self.records: list[LayerRecord] = []  # one per node after the input, in execution order
        self.outputs: list[np.ndarray] = []
        self.spec_layers: list[Layer] = []  # the tree of the spec last run, to report rows by
        self.owns_input = False  # read by ops: True while the node being run may overwrite its (first) input
        self._fast: tuple[Any, dict[int, PreparedConv], set[int], list[bool]] | None = None

    @property
    def prepared_nbytes(self) -> int:
        """Bytes of the fast path's own weight copies (convs with a batchnorm folded in, Winograd filters)."""
        if self._fast is None:
            return 0
        params = {id(a) for a in self.params.arrays.values()}
        return sum(a.nbytes for conv in self._fast[1].values() for a in conv if a is not None and id(a) not in params)

    def make_input(self, spec: Spec, batch: int = 1) -> np.ndarray:
        """The spec's input values (repeated over the batch), else seeded standard normals."""
        if spec.input_values is not None:
            one = np.asarray(spec.input_values, dtype=self.dtype).reshape(spec.input_shape)
            return np.broadcast_to(one, (batch, *one.shape)).copy()
        rng = np.random.default_rng([self.seed, 1])  # apart from the weights' stream
        return rng.standard_normal((batch, *spec.input_shape), dtype=np.float32).astype(self.dtype, copy=False)

    def prepare(self, spec: Spec) -> None:
        """Create every parameter with an empty batch, so a timed forward pass does no set-up."""
        on_layer, self.on_layer = self.on_layer, None
        try:
            self.forward(spec, np.zeros((0, *spec.input_shape), self.dtype))
        finally:
            self.on_layer = on_layer
        if not self.keep_values:
            self._fast = (spec.graph, *self._fast_plan(spec))

    def _fast_plan(self, spec: Spec) -> tuple[dict[int, PreparedConv], set[int], list[bool]]:
        """Convs with prepared weights (a batchnorm they alone feed folded in; Winograd filters of a 3x3 conv),
        the folded batchnorms, and which nodes' arrays their one reader may overwrite. Read from the
        parameters `prepare` made."""
        graph = spec.graph
        readers = graph.consumers()
        outputs = {i for _, i in graph.outputs}
        alone = [len(readers[i]) == 1 and i not in outputs for i in range(len(graph.nodes))]
        convs: dict[int, PreparedConv] = {}
        folded: set[int] = set()
        for node in graph.nodes[1:]:
            op = node.op
            if type(op) is not BatchNorm or len(node.inputs) != 1:
                continue
            source = graph.nodes[node.inputs[0]]
            if type(source.op) is not Conv or not alone[source.index] or source.index in convs:
                continue
            weight = self.params.arrays.get((source.op.path, "weights"))
            if weight is None or weight.ndim < 3:
                continue
            scale, shift = ops.batch_norm_affine(op, weight.shape[0], self.dtype, self)
            bias = ops.conv_bias(source.op, self)
            w = (weight * scale.reshape(-1, *(1,) * (weight.ndim - 1))).astype(self.dtype)
            b = (shift if bias is None else bias * scale + shift).astype(self.dtype)
            convs[source.index] = (w, b, None)
            folded.add(node.index)
        shapes = {record.node.index: record.shape for record in self.records}  # of prepare's empty batch
        shapes[0] = tuple(spec.input_shape)
        for node in graph.nodes[1:]:
            op = node.op
            if type(op) is not Conv or not op.uses_winograd(shapes[node.inputs[0]]):
                continue
            w, b, _ = convs.get(node.index) or (self.params.arrays.get((op.path, "weights")), None, None)
            if w is None:
                continue
            if node.index not in convs:
                b = ops.conv_bias(op, self)
            convs[node.index] = (None, b, winograd.filter_transform(w))  # the filters replace a folded copy
        owned = [i > 0 and alone[i] and isinstance(n.op, FRESH_RESULT) for i, n in enumerate(graph.nodes)]
        return convs, folded, owned

    def forward(self, spec: Spec, x: np.ndarray) -> np.ndarray:
        """Run the graph on `x` [N, *input_shape]; returns the first output (`self.outputs` holds all)."""
        graph = spec.graph
        self.records = []
        self.spec_layers = spec.layers
        values: list[np.ndarray | None] = [x]
        frees: dict[int, list[int]] = {}
        if not self.keep_values:  # free each array after its last reader (topology only, no shapes)
            for i, end in enumerate(graph.last_use()):
                frees.setdefault(end, []).append(i)
        fast = self._fast if self._fast is not None and self._fast[0] is graph and x.shape[0] else None
        # IEEE arithmetic without NumPy's warnings, as torch computes: a -inf pad or a huge weight gives
        # inf or NaN values in the output, not RuntimeWarnings on stderr.
        with np.errstate(all="ignore"):
            for node in graph.nodes[1:]:
                inputs = [values[i] for i in node.inputs]
                if fast is not None:
                    values.append(self._apply_fast(node, inputs, *fast[1:]))  # type: ignore[arg-type]
                else:
                    values.append(self.apply(node, inputs))  # type: ignore[arg-type]
                for i in frees.get(node.index, ()):
                    values[i] = None
        self.outputs = [values[i] for _, i in graph.outputs]  # type: ignore[misc]
        return self.outputs[0]

    def _apply_fast(
        self,
        node: Node,
        inputs: list[np.ndarray],
        convs: dict[int, PreparedConv],
        folded: set[int],
        owned: list[bool],
    ) -> np.ndarray:
        if node.index in folded:  # its conv applied it: pass that array on, recorded as this node's
            return self._record(node, inputs[0])
        if node.index in convs:
            return self._record(node, ops.prepared_conv(node.op, inputs[0], *convs[node.index]))  # type: ignore[arg-type]
        self.owns_input = bool(node.inputs) and owned[node.inputs[0]]
        try:
            return self.apply(node, inputs)
        finally:
            self.owns_input = False

    def apply(self, node: Node, inputs: list[np.ndarray]) -> np.ndarray:
        op = node.op
        fn = op_for(op)
        if fn is None:
            kind = getattr(op, "kind", type(op).__name__)
            raise ExecutionError(
                f"layer `{node.name}`: the executor has no forward function for kind `{kind}`.",
                op.source if op is not None else None,
                "Register one in cnncalc/executor/ops.py.",
            )
        try:
            y = fn(op, op_input(op, inputs), self)
        except CnncalcError:
            raise
        except (ValueError, TypeError, IndexError, FloatingPointError) as exc:
            shown = ", ".join(str(list(a.shape[1:])) for a in inputs)
            kind = node.kind
            source = op.source if op is not None else None
            raise ExecutionError(f"layer `{node.name}` ({kind}) failed on input {shown}: {exc}", source) from exc
        return self._record(node, y)

    def _record(self, node: Node, y: np.ndarray) -> np.ndarray:
        op = node.op
        record = LayerRecord(node, tuple(y.shape[1:]))
        if isinstance(op, Layer) and not isinstance(op, Structure):
            record.params = self.params.trainable.get(op.path, 0)
        if self.keep_values:
            record.values = y
        self.records.append(record)
        if self.on_layer is not None:
            self.on_layer(record)
        return y


def run_spec(spec: Spec, seed: int = 0, batch: int = 1, dtype: Any = np.float32) -> tuple[Executor, np.ndarray]:
    """Forward the spec's input (or a seeded random one), keeping every layer's values."""
    executor = Executor(seed, dtype, keep_values=True)
    executor.prepare(spec)
    return executor, executor.forward(spec, executor.make_input(spec, batch))
