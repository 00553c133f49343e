"""ONNX in: a model file becomes a readable spec, from initializer shapes alone.

Each data node maps onto a cnncalc kind (a few patterns fuse: MatMul + Add is a linear, x *
sigmoid(x) a silu, Mul + Add by per-channel constants an affine). Params then come from the
layers' own arithmetic, one count per use, whatever the exporter shared behind Identity nodes.
Where a merge's inputs are clean chains from one fork it becomes a `residual` / `concat` / `add`
/ `multiply` structure; elsewhere the spec says `from:`. A node with no kind is an error listing
every such node at once: nothing is dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from typing import Any

from cnncalc.errors import CnncalcError
from cnncalc.interchange.onnx_graph import OnnxGraph, attribute, read_graph
from cnncalc.interchange.spec_writer import Entry, write_spec
from cnncalc.shown import shown

MERGE_KINDS = ("add", "multiply", "concat")


@dataclass
class Item:
    """One layer of the spec being made: a kind with its arguments, reading other items (0 = input)."""

    index: int
    kind: str
    args: dict[str, Any]
    inputs: list[int]
    name: str | None
    tensor: str = ""  # the ONNX tensor holding its output (for the shape check)
    groups: list[list[Item]] | None = None  # a structure's chains
    nested: bool = False


@dataclass
class Unsupported:
    position: int
    node: str
    op_type: str
    reason: str

    def line(self) -> str:
        return f"node {self.position} `{shown(self.node)}` ({shown(self.op_type)}): {self.reason}"


class UnsupportedOps(CnncalcError):
    """Some nodes have no cnncalc kind; all are listed."""

    def __init__(self, file: str, found: list[Unsupported]):
        lines = "\n".join(f"  {u.line()}" for u in found)
        super().__init__(
            f"{shown(file)}: {len(found)} ONNX node{'s' if len(found) > 1 else ''} cannot become cnncalc layers:\n"
            f"{lines}\n",
            None,
            "cnncalc imports only what it can count exactly; the README says which ONNX ops become which kinds.",
        )
        self.found = found


@dataclass
class ImportResult:
    """The spec text, the loaded spec, and where its shapes disagree with ONNX shape inference."""

    text: str
    spec: Any
    tensors: dict[str, str] = field(default_factory=dict)  # spec layer path -> ONNX tensor
    mismatches: list[str] = field(default_factory=list)


def import_onnx(path: str, name: str | None = None) -> ImportResult:
    """Read `path` (an .onnx file, weights not loaded) and make the equivalent spec."""
    from cnncalc.interchange.onnx_support import load_model

    return import_model(load_model(path), path, name)


def import_model(model: Any, file: str = "<model>", name: str | None = None) -> ImportResult:
    """The spec for an in-memory ModelProto."""
    from cnncalc.spec.build import parse_spec

    graph = read_graph(model, file)
    importer = _Importer(graph, file)
    items = importer.run()
    _collapse(items, importer.output_items())
    generic = model.graph.name in ("", "main_graph", "torch_jit", "torch-jit-export")
    title = name or (Path(file).stem if generic else model.graph.name)
    producer = " ".join(p for p in (model.producer_name, model.producer_version) if p)
    description = f"Imported from {Path(file).name} (ONNX opset {graph.opset}{', ' + producer if producer else ''})."
    entries, outputs = _entries(items, importer.output_items())
    text = write_spec(title, description, graph.input_dims[1:], entries, outputs)
    spec = parse_spec(text, f"{file} (imported)", Path(file).stem)
    result = ImportResult(text, spec)
    result.tensors = {path: tensor for path, tensor in _paths(entries, items)}
    result.mismatches = _check_shapes(result, graph)
    return result


# --- ONNX nodes -> items ---------------------------------------------------------------------------


def _ints(values: list[int]) -> int | list[int]:
    """One value for every dim when they agree, else one per dim."""
    return values[0] if len(set(values)) == 1 else list(values)


def _pads(pads: list[int] | None, ndim: int) -> Any:
    """ONNX's [b1.., e1..] as cnncalc padding: an int, one per dim, or [before, after] pairs."""
    if not pads:
        return 0
    before, after = pads[:ndim], pads[ndim:]
    if before == after:
        return _ints(before)
    return [[b, a] for b, a in zip(before, after)]


def _same_pads(spatial: tuple[int, ...], kernel: list[int], stride: list[int], dilation: list[int], lower: bool):
    """auto_pad SAME_UPPER / SAME_LOWER resolved against the input (TF's rule)."""
    pads_b, pads_a = [], []
    for n, k, s, d in zip(spatial, kernel, stride, dilation):
        out = -(-n // s)
        total = max(0, (out - 1) * s + d * (k - 1) + 1 - n)
        small, big = total // 2, total - total // 2
        pads_b.append(big if lower else small)
        pads_a.append(small if lower else big)
    return pads_b + pads_a


def _module_name(node_name: str) -> str:
    """torch's `/layer1/layer1.0/conv1/Conv` -> `layer1_0_conv1`; other names made identifier-like."""
    if node_name.startswith("/"):
        parts = node_name.strip("/").split("/")
        path: list[str] = []
        for seg in parts[:-1] if len(parts) > 1 else parts:
            if path and seg.startswith(path[-1] + "."):
                path[-1] = seg
            else:
                path.append(seg)
        node_name = ".".join(path)
    name = re.sub(r"[^A-Za-z0-9_]+", "_", node_name).strip("_")
    if name and not (name[0].isalpha() or name[0] == "_"):
        name = "n" + name
    return name


class _Importer:
    def __init__(self, graph: OnnxGraph, file: str):
        self.g, self.file = graph, file
        self.items: list[Item] = [Item(0, "input", {}, [], "input", graph.input_name)]
        self.producer: dict[str, int] = {graph.input_name: 0}
        self.unsupported: list[Unsupported] = []
        self.names: set[str] = {"input"}
        self.node: Any = None
        self.position = 0

    # helpers
    def fail(self, reason: str) -> None:
        self.unsupported.append(Unsupported(self.position, self.node.name or "(unnamed)", self.node.op_type, reason))
        for out in self.node.output:  # later nodes go on reading something, so that every problem is found
            if out:
                self.producer[out] = self.data_input(0) if self.data_inputs() else 0

    def name_for(self, op_suffix: str = "") -> str:
        base = _module_name(self.node.name) or f"{self.node.op_type.lower()}_{self.position}"
        name = base
        if name in self.names and op_suffix:
            name = f"{base}_{op_suffix}"
        n = 1
        while name in self.names:
            n += 1
            name = f"{base}_{n}"
        self.names.add(name)
        return name

    def data_inputs(self) -> list[str]:
        return [n for n in self.node.input if n and not self.g.is_const(n)]

    def data_input(self, i: int = 0) -> int:
        return self.producer[self.data_inputs()[i]]

    def emit(self, kind: str, args: dict[str, Any], inputs: list[int] | None = None) -> Item:
        if kind not in _known_kinds():
            raise _MissingKind(kind)
        item = Item(
            len(self.items), kind, args, inputs or [self.data_input()], self.name_for(kind), self.node.output[0]
        )
        self.items.append(item)
        self.producer[self.node.output[0]] = item.index
        return item

    def alias(self, item: int) -> None:
        self.producer[self.node.output[0]] = item
        if item:
            self.items[item].tensor = self.node.output[0]

    def in_shape(self, i: int = 0) -> tuple[int, ...] | None:
        return self.g.shape(self.data_inputs()[i])

    def only_reader(self, tensor: str) -> bool:
        return self.g.consumers.get(tensor, 0) == 1

    def output_items(self) -> list[tuple[str, int]]:
        return [(name, self.producer[name]) for name in self.g.outputs if name in self.producer]

    def run(self) -> list[Item]:
        for position, node in self.g.data_nodes:
            self.node, self.position = node, position
            handler = getattr(self, f"op_{node.op_type}", None)
            if node.domain not in ("", "ai.onnx") or handler is None:
                self.fail("no cnncalc kind computes this op")
                continue
            try:
                handler()
            except _MissingKind as missing:
                self.fail(f"needs the kind `{missing.kind}`, which this cnncalc does not have")
            except _Refused as refused:
                self.fail(str(refused))
        for item in self.items:
            if item.kind == "_neg" and not item.nested:  # a Neg that is not half of a min pool
                self.unsupported.append(Unsupported(item.args["position"], item.args["node"], "Neg", "a negation"))
        self.unsupported.sort(key=lambda u: u.position)
        if self.unsupported:
            raise UnsupportedOps(self.file, self.unsupported)
        return self.items

    # windows
    def window(self, kernel: list[int]) -> dict[str, Any]:
        node, shape = self.node, self.in_shape()
        ndim = len(kernel)
        stride = attribute(node, "strides", [1] * ndim)
        dilation = attribute(node, "dilations", [1] * ndim)
        auto = attribute(node, "auto_pad", "NOTSET")
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            if shape is None:
                raise _Refused("auto_pad SAME needs the input's shape, which shape inference did not give")
            pads = _same_pads(shape[2:], kernel, stride, dilation, auto == "SAME_LOWER")
        elif auto == "VALID":
            pads = [0] * (2 * ndim)
        else:
            pads = attribute(node, "pads", [0] * (2 * ndim))
        return {
            "kernel_size": _ints(kernel),
            "stride": _ints(stride),
            "padding": _pads(pads, ndim),
            "dilation": _ints(dilation),
        }

    def weight_shape(self, slot: int) -> tuple[int, ...]:
        name = self.node.input[slot]
        shape = self.g.const_shape.get(name)
        if not shape:
            raise _Refused(f"its weight `{shown(name)}` has no known shape")
        return shape

    def op_Conv(self) -> None:
        w = self.weight_shape(1)
        args = {"out_channels": w[0], **self.window(list(w[2:])), "groups": attribute(self.node, "group", 1)}
        args["bias"] = len(self.node.input) > 2 and bool(self.node.input[2])
        self.emit("conv", args)

    def op_ConvTranspose(self) -> None:
        w = self.weight_shape(1)
        group = attribute(self.node, "group", 1)
        if attribute(self.node, "output_shape") is not None or attribute(self.node, "auto_pad", "NOTSET") != "NOTSET":
            raise _Refused("output_shape / auto_pad on a transposed conv: give explicit pads")
        args = {"out_channels": w[1] * group, **self.window(list(w[2:])), "groups": group}
        args["output_padding"] = _ints(attribute(self.node, "output_padding", [0] * (len(w) - 2)))
        args["bias"] = len(self.node.input) > 2 and bool(self.node.input[2])
        self.emit("conv_transpose", args)

    def pool(self, kind: str) -> dict[str, Any]:
        if len(self.node.output) > 1 and self.node.output[1] and self.g.consumers.get(self.node.output[1]):
            raise _Refused("its indices output is used; cnncalc pools give values only")
        args = self.window(list(attribute(self.node, "kernel_shape")))
        args["ceil_mode"] = bool(attribute(self.node, "ceil_mode", 0))
        return args

    def op_MaxPool(self) -> None:
        self.emit("maxpool", self.pool("maxpool"))

    def op_AveragePool(self) -> None:
        args = self.pool("avgpool")
        if args.pop("dilation") != 1:
            raise _Refused("dilated average pooling has no cnncalc kind")
        args["count_include_pad"] = bool(attribute(self.node, "count_include_pad", 0))
        self.emit("avgpool", args)

    def op_LpPool(self) -> None:
        args = self.pool("lppool")
        if args.pop("padding") != 0 or args.pop("dilation") != 1:
            raise _Refused("padded or dilated LpPool (torch's LPPool has neither)")
        args["norm_type"] = float(attribute(self.node, "p", 2))
        self.emit("lppool", args)

    def op_GlobalAveragePool(self) -> None:
        self.emit("global_avgpool", {})

    def op_GlobalMaxPool(self) -> None:
        self.emit("global_maxpool", {})

    def reduce(self, kind: str) -> None:
        shape = self.in_shape()
        axes = attribute(self.node, "axes")
        if axes is None and len(self.node.input) > 1:
            value = self.g.value(self.node.input[1])
            axes = value.tolist() if value is not None else None
        if shape is None or axes is None or attribute(self.node, "keepdims", 1) != 1:
            raise _Refused("only a mean/max over all spatial axes that keeps the dims is a global pool")
        if sorted(a % len(shape) for a in axes) != list(range(2, len(shape))):
            raise _Refused(f"a reduction over axes {axes} is not a global pool")
        self.emit(kind, {})

    def op_ReduceMean(self) -> None:
        self.reduce("global_avgpool")

    def op_ReduceMax(self) -> None:
        self.reduce("global_maxpool")

    # reshaping
    def op_Flatten(self) -> None:
        if attribute(self.node, "axis", 1) != 1:
            raise _Refused("Flatten with an axis other than 1 (the batch stays apart)")
        self.emit("flatten", {})

    def flatten_or_alias(self, out_shape: tuple[int, ...] | None) -> None:
        shape = self.in_shape()
        if shape is not None and out_shape is not None:
            if out_shape == shape:
                self.alias(self.data_input())
                return
            if len(out_shape) == 2 and len(shape) > 2 and out_shape[1] == prod(shape[1:]):
                self.emit("flatten", {})
                return
        raise _Refused(f"a reshape from {list(shape or ())} to {list(out_shape or ())} is not a flatten")

    def op_Reshape(self) -> None:
        out, target, shape = self.g.shape(self.node.output[0]), self.g.value(self.node.input[1]), self.in_shape()
        if out is None and target is not None and shape is not None:  # a target folded here, not by inference
            dims = [int(d) if d != 0 else shape[i] for i, d in enumerate(target.tolist())]
            if dims.count(-1) == 1:
                dims[dims.index(-1)] = prod(shape) // -prod(dims)
            out = tuple(dims)
        self.flatten_or_alias(out)

    def op_Squeeze(self) -> None:
        self.flatten_or_alias(self.g.shape(self.node.output[0]))

    # dense
    def op_Gemm(self) -> None:
        if attribute(self.node, "transA", 0):
            raise _Refused("Gemm with transA")
        b = self.weight_shape(1)
        out = b[0] if attribute(self.node, "transB", 0) else b[1]
        self.emit("linear", {"out_features": out, "bias": len(self.node.input) > 2 and bool(self.node.input[2])})

    def op_MatMul(self) -> None:
        shape = self.in_shape()
        if len(self.data_inputs()) != 1 or self.node.input[0] != self.data_inputs()[0]:
            raise _Refused("a product of two data tensors, or a constant on the left")
        w = self.weight_shape(1)
        if shape is None or len(shape) != 2 or len(w) != 2:
            raise _Refused(f"MatMul on a {list(shape or ())} tensor is not a linear layer on a flat input")
        self.emit("linear", {"out_features": w[1], "bias": False})

    # normalisation and activations
    def op_BatchNormalization(self) -> None:
        args: dict[str, Any] = {}
        eps = attribute(self.node, "epsilon", 1e-5)
        if abs(eps - 1e-5) > 1e-12:
            args["eps"] = round(eps, 9)
        momentum = round(1 - attribute(self.node, "momentum", 0.9), 6)  # ONNX keeps 1 - torch's momentum
        if momentum != 0.1:
            args["momentum"] = momentum
        if len([o for o in self.node.output if o]) > 1:
            raise _Refused("training-mode BatchNormalization (running statistics as outputs)")
        self.emit("batchnorm", args)

    def op_LRN(self) -> None:
        node = self.node
        self.emit(
            "lrn",
            {
                "size": attribute(node, "size"),
                "alpha": attribute(node, "alpha", 1e-4),
                "beta": attribute(node, "beta", 0.75),
                "k": attribute(node, "bias", 1.0),
            },
        )

    def op_Relu(self) -> None:
        self.emit("relu", {})

    def op_Sigmoid(self) -> None:
        self.emit("sigmoid", {})

    def op_Tanh(self) -> None:
        self.emit("tanh", {})

    def op_HardSwish(self) -> None:
        self.emit("hardswish", {})

    def op_HardSigmoid(self) -> None:
        alpha, beta = attribute(self.node, "alpha", 0.2), attribute(self.node, "beta", 0.5)
        if abs(alpha - 1 / 6) > 1e-6 or abs(beta - 0.5) > 1e-6:
            raise _Refused(f"HardSigmoid with alpha {alpha}, beta {beta} is not torch's Hardsigmoid (1/6, 0.5)")
        self.emit("hardsigmoid", {})

    def op_Mish(self) -> None:
        self.emit("mish", {})

    def op_Selu(self) -> None:
        self.emit("selu", {})

    def op_Elu(self) -> None:
        self.emit("elu", {"alpha": attribute(self.node, "alpha", 1.0)})

    def op_Gelu(self) -> None:
        approximate = attribute(self.node, "approximate", "none")
        self.emit("gelu", {"approximate": approximate} if approximate != "none" else {})

    def op_LeakyRelu(self) -> None:
        slope = attribute(self.node, "alpha", 0.01)
        self.emit("leaky_relu", {"negative_slope": round(slope, 9)} if abs(slope - 0.01) > 1e-9 else {})

    def op_Clip(self) -> None:
        if self.g.opset < 11:
            low, high = attribute(self.node, "min"), attribute(self.node, "max")
        else:
            inputs = [*self.node.input, "", ""]
            values = [self.g.value(n) if n else None for n in inputs[1:3]]
            if any(n and v is None for n, v in zip(inputs[1:3], values)):
                raise _Refused("Clip bounds that are not constants")
            low, high = (float(v) if v is not None else None for v in values)
        if low == 0 and high == 6:
            self.emit("relu6", {})
        elif low == 0 and high is None:
            self.emit("relu", {})
        else:
            self.emit("hardtanh", {"min_val": low, "max_val": high})

    def op_Softmax(self) -> None:
        shape = self.in_shape()
        rank = len(shape) if shape else 2
        axis = attribute(self.node, "axis", 1 if self.g.opset < 13 else -1) % rank
        if self.g.opset < 13 and axis != rank - 1:
            raise _Refused("Softmax before opset 13 flattens the axes after `axis`; only the last axis matches torch")
        if axis == 0:
            raise _Refused("a softmax over the batch")
        self.emit("softmax", {"dim": axis - 1} if axis != 1 else {})

    def op_Dropout(self) -> None:
        ratio = attribute(self.node, "ratio", 0.5)
        if len(self.node.input) > 1 and self.node.input[1]:
            value = self.g.value(self.node.input[1])
            ratio = float(value) if value is not None else 0.5
        self.emit("dropout", {"p": round(float(ratio), 6)} if abs(ratio - 0.5) > 1e-9 else {})

    def op_Neg(self) -> None:
        """-maxpool(-x) is a min pool (what cnncalc's export writes); a lone negation is refused later."""
        source = self.items[self.data_input()]
        if source.kind == "maxpool" and self.only_reader(source.tensor) and source.inputs[0]:
            neg = self.items[source.inputs[0]]
            if neg.kind == "_neg" and self.only_reader(neg.tensor):
                neg.nested, source.kind, source.inputs = True, "minpool", neg.inputs
                self.alias(source.index)
                return
        item = Item(len(self.items), "_neg", {}, [self.data_input()], None, self.node.output[0])
        item.args = {"position": self.position, "node": self.node.name or "(unnamed)"}
        self.items.append(item)
        self.producer[self.node.output[0]] = item.index

    def op_Identity(self) -> None:
        self.emit("identity", {})

    def op_Resize(self) -> None:
        self.upsample()

    def op_Upsample(self) -> None:
        self.upsample()

    def upsample(self) -> None:
        mode = attribute(self.node, "mode", "nearest")
        if mode != "nearest":
            raise _Refused(f"`{mode}` resizing: cnncalc's upsample is nearest-neighbour")
        shape, out = self.in_shape(), self.g.shape(self.node.output[0])
        if shape is None or out is None or out[:2] != shape[:2]:
            raise _Refused("the resize's output shape is not known, or it changes the channels")
        scales = [o / i for o, i in zip(out[2:], shape[2:])]
        if any(s != int(s) for s in scales):
            raise _Refused(f"a resize by {scales}: only whole scale factors are exact")
        self.emit("upsample", {"scale_factor": _ints([int(s) for s in scales])})

    # merges, and elementwise ops with a constant
    def merge(self, kind: str) -> None:
        consts = [n for n in self.node.input if n and self.g.is_const(n)]
        if consts:
            raise _Refused(f"{self.node.op_type} of data and a constant of shape {list(self.g.const_shape[consts[0]])}")
        self.emit(kind, {}, [self.producer[n] for n in self.data_inputs()])

    def op_Sum(self) -> None:
        if len(self.data_inputs()) == 1:
            self.alias(self.data_input())
        else:
            self.merge("add")

    def op_Concat(self) -> None:
        shape = self.in_shape()
        axis = attribute(self.node, "axis")
        if shape is None or axis % len(shape) != 1:
            raise _Refused(f"a concatenation along axis {axis}; cnncalc concatenates channels (axis 1)")
        self.merge("concat")

    def per_channel(self) -> tuple[int, str] | None:
        """(data item, constant) when one operand is a per-channel constant [C, 1, ...] / [1, C, 1, ...]."""
        data, consts = self.data_inputs(), [n for n in self.node.input if n and self.g.is_const(n)]
        shape = self.in_shape()
        if len(data) != 1 or len(consts) != 1 or shape is None or len(shape) < 3:
            return None
        const = self.g.const_shape[consts[0]]
        dims = const[1:] if len(const) == len(shape) else const
        if len(dims) == len(shape) - 1 and dims[0] == shape[1] and all(d == 1 for d in dims[1:]):
            return self.producer[data[0]], consts[0]
        return None

    def op_Add(self) -> None:
        if len(self.data_inputs()) > 1:
            self.merge("add")
            return
        source = self.producer[self.data_inputs()[0]]
        item = self.items[source]
        const = next(n for n in self.node.input if n and self.g.is_const(n))
        shape = self.g.const_shape[const]
        linear = item.kind == "linear" and not item.args["bias"] and self.only_reader(item.tensor)
        if linear and prod(shape) == item.args["out_features"]:  # MatMul + Add: a linear with bias
            item.args["bias"] = True
            self.alias(source)
            return
        found = self.per_channel()
        if found is None:
            raise _Refused(f"adding a constant of shape {list(shape)}; only a per-channel shift is a layer (`affine`)")
        if item.kind == "affine" and not item.args["bias"] and self.only_reader(item.tensor):
            item.args["bias"] = True
            self.alias(source)
            return
        self.emit("affine", {"scale": False, "bias": True})

    def op_Mul(self) -> None:
        data = self.data_inputs()
        if len(data) == 2:
            a, b = (self.items[self.producer[n]] for n in data)
            for gate, other in ((a, data[1]), (b, data[0])):  # x * sigmoid(x): torch's export of SiLU
                if gate.kind == "sigmoid" and gate.inputs == [self.producer[other]] and self.only_reader(gate.tensor):
                    gate.kind, gate.name = "silu", gate.name
                    self.alias(gate.index)
                    return
            self.merge("multiply")
            return
        found = self.per_channel()
        if found is None:
            const = next(n for n in self.node.input if n and self.g.is_const(n))
            raise _Refused(
                f"multiplying by a constant of shape {list(self.g.const_shape[const])}; "
                "only a per-channel scale is a layer (`affine`)"
            )
        self.emit("affine", {"scale": True, "bias": False})


class _MissingKind(Exception):
    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


class _Refused(Exception):
    """This node's form has no exact cnncalc equivalent (the message says why)."""


def _known_kinds() -> set[str]:
    from cnncalc.layers import LAYER_KINDS

    return set(LAYER_KINDS)


# --- clean merges -> structures -------------------------------------------------------------------


def _collapse(items: list[Item], outputs: list[tuple[str, int]]) -> None:
    """Merges whose inputs are single-reader chains from one fork become structures, innermost first."""
    is_output = {i for _, i in outputs}
    for merge in list(items):
        if merge.kind not in MERGE_KINDS or merge.nested or len(merge.inputs) < 2:
            continue
        readers: dict[int, int] = {}
        for item in items:
            if not item.nested:
                for i in item.inputs:
                    readers[i] = readers.get(i, 0) + 1
        chains, forks = [], set()
        for source in merge.inputs:
            chain: list[Item] = []
            cur = source
            while cur != 0 and readers.get(cur) == 1 and len(items[cur].inputs) == 1 and cur not in is_output:
                chain.insert(0, items[cur])
                cur = items[cur].inputs[0]
            forks.add(cur)
            chains.append(chain)
        if len(forks) != 1 or all(not chain for chain in chains):
            continue
        fork = forks.pop()
        for chain in chains:
            for item in chain:
                item.nested = True
        if merge.kind == "add" and len(chains) == 2:
            body, shortcut = chains if chains[0] else chains[::-1]
            merge.kind, merge.groups = "residual", [body, shortcut]
        else:
            merge.groups = chains
        merge.inputs = [fork]


# --- items -> spec entries ---------------------------------------------------------------------------


def _entries(items: list[Item], outputs: list[tuple[str, int]]) -> tuple[list[Entry], list[str]]:
    """The top-level entries (with `from:` where an item does not read the previous one) and `outputs:`."""
    top = [item for item in items[1:] if not item.nested]
    entries, previous = [], 0
    for item in top:
        entries.append(_entry(item, previous, ""))
        previous = item.index
    output_names = [items[i].name or "" for _, i in outputs]
    if len(outputs) == 1 and outputs[0][1] == previous:
        output_names = []
    return entries, output_names


def _entry(item: Item, previous: int, prefix: str) -> Entry:
    name = item.name or ""
    if prefix and name.startswith(prefix + "_") and len(name) > len(prefix) + 1:
        name = name[len(prefix) + 1 :]  # inside `layer1_0`, `layer1_0_conv1` is `conv1`
    args: dict[str, Any] = {"name": name}
    if item.groups is not None:
        groups = [[_entry(child, -1, item.name or "") for child in chain] for chain in item.groups]
        if item.kind == "residual":
            args["body"], args["shortcut"] = groups
        else:
            args["branches"] = groups
        if previous != -1 and item.inputs != [previous]:
            args["from"] = _ref(item.inputs[0], item)
        return Entry(item.kind, args, item.index)
    if item.kind in MERGE_KINDS:
        args["from"] = [_ref(i, item) for i in item.inputs]
    elif item.inputs != [previous] and previous != -1:
        args["from"] = _ref(item.inputs[0], item)
    args.update(_readable(item.kind, item.args))
    return Entry(item.kind, args, item.index)


def _ref(index: int, item: Item) -> str:
    return "input" if index == 0 else f"@{index}"  # resolved to names by the writer


def _readable(kind: str, args: dict[str, Any]) -> dict[str, Any]:
    """Leave out the arguments that equal their defaults."""
    defaults = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True, "ceil_mode": False}
    if kind in ("maxpool", "avgpool", "lppool"):
        defaults = {"padding": 0, "dilation": 1, "ceil_mode": False, "count_include_pad": True}
        if args.get("stride") == args.get("kernel_size"):
            args = {k: v for k, v in args.items() if k != "stride"}
    if kind == "conv_transpose":
        defaults["output_padding"] = 0
    if kind == "affine":
        defaults = {"scale": True, "bias": True}
    return {k: v for k, v in args.items() if defaults.get(k, object()) != v}


def _paths(entries: list[Entry], items: list[Item]) -> list[tuple[str, str]]:
    """(spec path, ONNX tensor) of every leaf entry."""
    found: list[tuple[str, str]] = []

    def walk(entry: Entry, prefix: str) -> None:
        path = prefix + entry.args["name"]
        item = items[entry.item]
        if item.groups is None:
            if item.tensor:
                found.append((path, item.tensor))
            return
        if item.tensor:
            found.append((path, item.tensor))
        for key in ("body", "shortcut", "branches"):
            if key not in entry.args:
                continue
            groups = entry.args[key] if key == "branches" else [entry.args[key]]
            for i, group in enumerate(groups):
                inner = {"body": path, "shortcut": f"{path}.shortcut", "branches": f"{path}.{i}"}[key]
                for child in group:
                    walk(child, inner + ".")

    for entry in entries:
        walk(entry, "")
    return found


def _check_shapes(result: ImportResult, graph: OnnxGraph) -> list[str]:
    """Layers whose cnncalc shape differs from ONNX shape inference's (there should be none)."""
    from cnncalc.engine.propagate import analyze

    analysis = analyze(result.spec)
    found = []
    for path, tensor in result.tensors.items():
        row, onnx_shape = analysis.row(path), graph.shape(tensor)
        if row is not None and onnx_shape is not None and tuple(row.output_shape) != tuple(onnx_shape[1:]):
            found.append(f"{path}: cnncalc {list(row.output_shape)}, ONNX {list(onnx_shape[1:])}")
    return found
