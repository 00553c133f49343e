"""An ONNX graph read for its structure: tensor shapes, folded constants, and which tensors are data.

Weights are never loaded: an initializer's dims are its shape, and only small integer tensors
(reshape targets, axes, pads) are read for their values. Constant subgraphs (Shape -> Gather ->
Concat -> Reshape around a flatten, ConstantOfShape, a Reshape of a weight) are folded here, so
the importer sees only the nodes that compute on the network's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import prod
from typing import Any

import numpy as np

from cnncalc.errors import CnncalcError
from cnncalc.shown import shown

Dims = tuple[int, ...]
MAX_VALUE_SIZE = 4096  # constants read for their numbers (shapes, axes, pads); weights never are

# Input slots that hold weights, per op: a graph input used only there is a weight (older files list them).
WEIGHT_SLOTS = {
    "Conv": (1, 2),
    "ConvTranspose": (1, 2),
    "Gemm": (1, 2),
    "MatMul": (1,),
    "BatchNormalization": (1, 2, 3, 4),
    "PRelu": (1,),
    "InstanceNormalization": (1, 2),
    "LayerNormalization": (1, 2),
    "GroupNormalization": (1, 2),
    "Mul": (1,),  # a per-channel scale or shift (cnncalc's export writes the data first)
    "Add": (1,),
}


@dataclass
class OnnxGraph:
    """The model's graph with every tensor classified: data (with a shape) or constant."""

    model: Any
    opset: int
    input_name: str
    input_dims: Dims
    shapes: dict[str, Dims] = field(default_factory=dict)  # every tensor whose shape is known
    const_shape: dict[str, Dims] = field(default_factory=dict)
    const_value: dict[str, np.ndarray] = field(default_factory=dict)
    data_nodes: list[tuple[int, Any]] = field(default_factory=list)  # (position, node) computing on data
    consumers: dict[str, int] = field(default_factory=dict)  # how many data-node inputs read each tensor
    weights: set[str] = field(default_factory=set)  # constants made from stored tensors, not Constant nodes

    def is_const(self, name: str) -> bool:
        return name in self.const_shape

    def shape(self, name: str) -> Dims | None:
        return self.shapes.get(name)

    def value(self, name: str) -> np.ndarray | None:
        return self.const_value.get(name)

    @property
    def outputs(self) -> list[str]:
        return [o.name for o in self.model.graph.output]


def _dims(type_proto: Any) -> Dims | None:
    """A tensor type's dims; a symbolic batch (first) dim counts as 1; other symbolic dims: None."""
    if not type_proto.HasField("tensor_type") or not type_proto.tensor_type.HasField("shape"):
        return None
    dims = []
    for i, d in enumerate(type_proto.tensor_type.shape.dim):
        if d.HasField("dim_value"):
            dims.append(d.dim_value)
        elif i == 0:
            dims.append(1)
        else:
            return None
    return tuple(dims)


def _tensor_value(onnx: Any, tensor: Any) -> np.ndarray | None:
    """The numbers of a small tensor stored in the file; None for weights and external data."""
    if tensor.data_location == onnx.TensorProto.EXTERNAL or prod(tensor.dims) > MAX_VALUE_SIZE:
        return None
    try:
        from onnx import numpy_helper

        return numpy_helper.to_array(tensor)
    except Exception:  # data stripped or malformed: the shape is still known from the dims
        return None


def read_graph(model: Any, file: str) -> OnnxGraph:
    """Classify the tensors of `model`'s main graph and fold its constant subgraphs."""
    import onnx

    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 9)
    inferred: dict[str, Dims] = {}
    try:
        typed = onnx.shape_inference.infer_shapes(model, data_prop=True)
        for info in (*typed.graph.value_info, *typed.graph.input, *typed.graph.output):
            dims = _dims(info.type)
            if dims is not None:
                inferred[info.name] = dims
    except Exception:  # shape inference refuses some files; the declared shapes may still do
        for info in (*graph.value_info, *graph.input, *graph.output):
            dims = _dims(info.type)
            if dims is not None:
                inferred[info.name] = dims

    const_shape: dict[str, Dims] = {}
    const_value: dict[str, np.ndarray] = {}
    for tensor in graph.initializer:
        const_shape[tensor.name] = tuple(tensor.dims)
        value = _tensor_value(onnx, tensor)
        if value is not None:
            const_value[tensor.name] = value

    candidates = [i for i in graph.input if i.name not in const_shape]
    if len(candidates) > 1:  # older exporters list the weights as graph inputs: those used only as weights
        in_weight_slot: dict[str, bool] = {}
        for node in graph.node:
            slots = WEIGHT_SLOTS.get(node.op_type, ())
            for slot, name in enumerate(node.input):
                in_weight_slot[name] = in_weight_slot.get(name, True) and slot in slots
        for info in candidates:
            dims = _dims(info.type)
            if in_weight_slot.get(info.name, False) and dims is not None:
                const_shape[info.name] = dims
        candidates = [i for i in candidates if i.name not in const_shape]
    if len(candidates) != 1:
        names = ", ".join(f"`{shown(i.name)}`" for i in candidates) or "none"
        raise CnncalcError(
            f"{shown(file)}: a cnncalc spec has exactly one input, but the model's data inputs are {names}.",
            None,
            "Export the model with a single input tensor.",
        )
    source = candidates[0]
    input_dims = _dims(source.type)
    if input_dims is None or len(input_dims) < 2:
        raise CnncalcError(
            f"{shown(file)}: the input `{shown(source.name)}` has no fixed shape [N, C, ...].",
            None,
            "Export with a concrete example input (e.g. 1x3x224x224) and no dynamic spatial axes.",
        )
    g = OnnxGraph(model, opset, source.name, input_dims, dict(inferred), const_shape, const_value)
    g.shapes[source.name] = input_dims
    g.weights = {t.name for t in graph.initializer} | {i.name for i in graph.input if i.name in const_shape}
    made = {source.name}
    for position, node in enumerate(graph.node):
        inputs = [name for name in node.input if name]
        unmade = next((name for name in inputs if name not in made and not g.is_const(name)), None)
        if unmade is not None:  # ONNX requires nodes in topological order; a cycle cannot be in it
            raise CnncalcError(
                f"{shown(file)}: node {position} `{shown(node.name or '(unnamed)')}` ({shown(node.op_type)}) reads "
                f"`{shown(unmade)}` before any node makes it: the graph is not in topological order, or has a cycle.",
                None,
                "Save the model with its nodes sorted, as ONNX requires (onnx.checker.check_model says so too).",
            )
        made.update(name for name in node.output if name)
        if node.op_type == "Constant" or node.op_type == "Shape" or all(g.is_const(name) for name in inputs):
            _fold(g, node)
            continue
        g.data_nodes.append((position, node))
        for name in inputs:
            if not g.is_const(name):
                g.consumers[name] = g.consumers.get(name, 0) + 1
    for name in g.outputs:
        g.consumers[name] = g.consumers.get(name, 0) + 1  # a network output is read by the caller
    return g


def attribute(node: Any, name: str, default: Any = None) -> Any:
    """A node attribute as a Python value (ints, floats, strings, lists), or `default`."""
    from onnx import helper

    for attr in node.attribute:
        if attr.name == name:
            value = helper.get_attribute_value(attr)
            return value.decode() if isinstance(value, bytes) else value
    return default


def _fold(g: OnnxGraph, node: Any) -> None:
    """Evaluate a node whose inputs are all constants (or a Shape of a known tensor); record its outputs."""
    out = node.output[0]
    if any(name in g.weights for name in node.input):
        g.weights.update(name for name in node.output if name)
    value = _evaluate(g, node)
    if value is not None:
        g.const_value[out] = value
        g.const_shape[out] = tuple(value.shape)
        g.shapes[out] = tuple(value.shape)
        return
    shape = _fold_shape(g, node)
    if shape is None:
        shape = g.shapes.get(out)
    g.const_shape[out] = shape if shape is not None else ()
    if shape is not None:
        g.shapes[out] = shape
    for extra in node.output[1:]:
        g.const_shape[extra] = g.shapes.get(extra, ())


def _fold_shape(g: OnnxGraph, node: Any) -> Dims | None:
    """The shape of a constant whose numbers are unknown (a weight behind Identity, Reshape, Cast...)."""
    inputs = [name for name in node.input]
    first = g.const_shape.get(inputs[0]) if inputs else None
    op = node.op_type
    if op == "Constant":
        return next((tuple(a.t.dims) for a in node.attribute if a.name == "value"), None)
    if op in ("Identity", "Cast", "Neg", "Sqrt", "Reciprocal", "Relu", "Sigmoid", "Abs"):
        return first
    if op == "Reshape" and first is not None:
        target = g.value(inputs[1])
        if target is not None:
            dims = [int(d) if d != 0 else first[i] for i, d in enumerate(target.tolist())]
            if -1 in dims:
                known = prod(d for d in dims if d != -1)
                dims[dims.index(-1)] = prod(first) // known if known else 0
            return tuple(dims)
    if op == "Transpose" and first is not None:
        perm = attribute(node, "perm", list(reversed(range(len(first)))))
        return tuple(first[p] for p in perm)
    if op == "ConstantOfShape":
        target = g.value(inputs[0])
        return tuple(int(d) for d in target.tolist()) if target is not None else None
    if op in ("Add", "Sub", "Mul", "Div", "Pow") and all(g.const_shape.get(n) is not None for n in inputs):
        return tuple(np.broadcast_shapes(*(g.const_shape[n] for n in inputs)))
    return None


def _evaluate(g: OnnxGraph, node: Any) -> np.ndarray | None:
    """NumPy for the small integer ops exporters put around reshapes; None when not computable."""
    op = node.op_type
    if op == "Constant":
        import onnx

        for attr in node.attribute:
            if attr.name == "value":
                return _tensor_value(onnx, attr.t)
            if attr.name in ("value_int", "value_float"):
                return np.array(attr.i if attr.name == "value_int" else attr.f)
            if attr.name in ("value_ints", "value_floats"):
                return np.array(list(attr.ints) if attr.name == "value_ints" else list(attr.floats))
        return None
    if op == "Shape":
        dims = g.shapes.get(node.input[0]) or g.const_shape.get(node.input[0])
        if dims is None:
            return None
        start, end = attribute(node, "start", 0), attribute(node, "end", None)
        return np.array(dims[start:end], dtype=np.int64)
    values = [g.value(name) if name else None for name in node.input]
    if any(v is None for v, name in zip(values, node.input) if name):
        return None
    try:
        return _numpy_op(node, values, g.opset)
    except Exception:  # an op or a corner this folder does not know: the value stays unknown
        return None


def _numpy_op(node: Any, v: list[Any], opset: int) -> np.ndarray | None:
    op = node.op_type
    if op in ("Identity",):
        return v[0]
    if op == "Cast":
        import onnx

        return v[0].astype(onnx.helper.tensor_dtype_to_np_dtype(attribute(node, "to")))
    if op == "Gather":
        return np.take(v[0], v[1].astype(np.int64), axis=attribute(node, "axis", 0))
    if op in ("Unsqueeze", "Squeeze"):
        axes = attribute(node, "axes") if opset < 13 else (v[1].tolist() if len(v) > 1 and v[1] is not None else None)
        if op == "Squeeze":
            return np.squeeze(v[0], axis=tuple(axes) if axes is not None else None)
        out = v[0]
        if axes is None:
            return None
        rank = out.ndim + len(axes)
        for axis in sorted(a % rank for a in axes):
            out = np.expand_dims(out, axis)
        return out
    if op == "Concat":
        return np.concatenate([np.atleast_1d(x) for x in v], axis=attribute(node, "axis", 0))
    if op == "Slice":
        if opset < 10:
            starts, ends, axes = attribute(node, "starts"), attribute(node, "ends"), attribute(node, "axes")
            steps = None
        else:
            starts, ends = v[1].tolist(), v[2].tolist()
            axes = v[3].tolist() if len(v) > 3 and v[3] is not None else None
            steps = v[4].tolist() if len(v) > 4 and v[4] is not None else None
        axes = axes if axes is not None else list(range(len(starts)))
        steps = steps or [1] * len(starts)
        index = [slice(None)] * v[0].ndim
        for s, e, a, st in zip(starts, ends, axes, steps):
            index[a] = slice(s, e, st)
        return v[0][tuple(index)]
    if op == "Reshape":
        target = [int(d) if d != 0 else v[0].shape[i] for i, d in enumerate(v[1].tolist())]
        return v[0].reshape(target)
    if op in ("Add", "Sub", "Mul", "Div"):
        a, b = v[0], v[1]
        if op == "Div" and np.issubdtype(a.dtype, np.integer):
            return a // b
        return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op](a, b)
    if op == "ConstantOfShape":
        return None  # a weight-sized fill: only its shape matters (_fold_shape)
    if op in ("Floor", "Ceil"):
        return np.floor(v[0]) if op == "Floor" else np.ceil(v[0])
    if op == "Range":
        return np.arange(v[0], v[1], v[2])
    if op == "Transpose":
        return np.transpose(v[0], attribute(node, "perm"))
    return None
