"""ONNX in: a model file becomes a readable spec, from initializer shapes alone.

Each data node maps onto a cnncalc kind (a few patterns fuse: MatMul + Add is a linear, x *
sigmoid(x) a silu, Mul + Add by per-channel constants an affine, the ReduceMean ... Div (or ...
Reciprocal, Mul) of a decomposed LayerNorm a layernorm, torch's Reshape / InstanceNormalization /
Reshape a groupnorm).
Params then come from the layers' own arithmetic, one count per use, whatever the exporter shared behind Identity nodes.
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
from cnncalc.layers import LAYER_KINDS
from cnncalc.shown import shown

MERGE_KINDS = tuple(kind for kind, cls in LAYER_KINDS.items() if cls.takes_from_list)  # `add: {from: [a, b]}`
# Ops that may read a channels-last tensor: torch's LayerNorm2d and ConvNeXt's channels-last MLP.
CHANNELS_LAST_OK = {
    *("Transpose", "LayerNormalization", "MatMul", "Add", "Mul", "Div", "Erf", "Gelu", "Relu", "Sigmoid", "Tanh"),
    *("ReduceMean", "Sub", "Pow", "Sqrt", "Reciprocal"),  # a LayerNorm decomposed (opset < 17) between the Transposes
    *("HardSwish", "HardSigmoid", "Mish", "Elu", "Selu", "Celu", "Softplus", "Clip", "LeakyRelu", "Identity"),
}
RESIZE_MODES = {("linear", 1): "linear", ("linear", 2): "bilinear", ("linear", 3): "trilinear", ("cubic", 2): "bicubic"}
PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


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

    def render(self) -> str:
        """One node a line (each line escaped, as every error is), not the one line of other errors."""
        return "\n".join(shown(line) for line in f"error: {self.message}{self.hint}".splitlines())


@dataclass
class ImportResult:
    """The spec text, the loaded spec, and where its shapes disagree with ONNX shape inference."""

    text: str
    spec: Any
    tensors: dict[str, str] = field(default_factory=dict)  # spec layer path -> ONNX tensor
    mismatches: list[str] = field(default_factory=list)
    channels_last: set[str] = field(default_factory=set)  # tensors laid out [N, *spatial, C] (after a Transpose)


def import_onnx(path: str, name: str | None = None) -> ImportResult:
    """Read `path` (an .onnx file, weights not loaded) and make the equivalent spec."""
    from cnncalc.interchange.onnx_support import load_model

    return import_model(load_model(path), path, name)


def import_model(model: Any, file: str = "<model>", name: str | None = None, origin: str | None = None) -> ImportResult:
    """The spec for an in-memory ModelProto; `origin` says where it came from (default: the file's name)."""
    from cnncalc.spec.build import parse_spec

    graph = read_graph(model, file)
    importer = _Importer(graph, file)
    items = importer.run()
    _collapse(items, importer.output_items())
    _loose_sections(items, file)
    generic = model.graph.name in ("", "main_graph", "torch_jit", "torch-jit-export")
    title = name or (Path(file).stem if generic else model.graph.name)
    producer = " ".join(p for p in (model.producer_name, model.producer_version) if p)
    description = (
        f"Imported from {origin or Path(file).name} (ONNX opset {graph.opset}{', ' + producer if producer else ''})."
    )
    entries, outputs = _entries(items, importer.output_items())
    text = write_spec(title, description, graph.input_dims[1:], entries, outputs)
    spec = parse_spec(text, f"{file} (imported)", Path(file).stem)
    result = ImportResult(text, spec)
    result.tensors = {path: tensor for path, tensor in _paths(entries, items)}
    result.channels_last = importer.last
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


def _grouping(shape: tuple[int, ...], out: tuple[int, ...]) -> bool:
    """[N, C, *spatial] -> [N, G, C / G * prod(spatial)]: the channels in G groups, each one row."""
    if len(shape) < 3 or len(out) != 3 or out == shape or out[0] != shape[0]:
        return False
    return shape[1] % out[1] == 0 and prod(out) == prod(shape)


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
        self.last: set[str] = set()  # channels-last tensors: between torch's Transpose pair around a LayerNorm2d
        self.last_origin: dict[str, Unsupported] = {}  # the Transpose each came from (an error if never undone)
        self.from_last: set[str] = set()  # tensors transposed back to channels-first
        self.whole: set[int] = set()  # items complete as they are (a hint said so): no fusing into them
        self.decomposed: dict[int, str] = {}  # norms matched from their parts -> the flag their Mul/Add sets

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
        if self.hint().get("trainable") is False:  # cnncalc's export of a frozen layer
            args = {**args, "trainable": False}
        item = Item(
            len(self.items), kind, args, inputs or [self.data_input()], self.name_for(kind), self.node.output[0]
        )
        self.items.append(item)
        self.producer[self.node.output[0]] = item.index
        return item

    def pending(self, op: str, reason: str, inputs: list[int] | None = None, **values: Any) -> Item:
        """Half of a pattern (a Neg before a max pool, the Div that starts an Erf GELU): an error unless completed."""
        node = self.node
        args = {"op": op, "reason": reason, "position": self.position, "node": node.name or "(unnamed)", **values}
        args["op_type"] = node.op_type
        item = Item(len(self.items), "_pending", args, inputs or [self.data_input()], None, node.output[0])
        self.items.append(item)
        self.producer[node.output[0]] = item.index
        return item

    @staticmethod
    def carried(item: Item) -> dict[str, Any]:
        """What a pending item carries on to the next step of its pattern (not its error's fields)."""
        return {k: v for k, v in item.args.items() if k not in ("op", "reason", "position", "node", "op_type")}

    def pending_source(self, op: str, tensor: str | None = None) -> Item | None:
        """The pending `op` item this node reads (its only reader), or None."""
        item = self.items[self.producer[tensor if tensor is not None else self.data_inputs()[0]]]
        if item.kind == "_pending" and item.args["op"] == op and self.only_reader(item.tensor):
            return item
        return None

    def hint(self) -> dict[str, Any]:
        """What cnncalc's own export wrote in the node's doc_string (the arguments ONNX cannot carry)."""
        import json

        text = self.node.doc_string or ""
        if not text.startswith("cnncalc {"):
            return {}
        try:
            found = json.loads(text[len("cnncalc ") :])
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}

    def scalar(self) -> float | None:
        """The value of the node's one-element constant operand, if it has one."""
        consts = [n for n in self.node.input if n and self.g.is_const(n)]
        if len(consts) != 1 or prod(self.g.const_shape.get(consts[0]) or (1,)) != 1:
            return None
        value = self.g.value(consts[0])
        return float(value.reshape(-1)[0]) if value is not None else None

    def const_operand(self) -> str:
        return next(n for n in self.node.input if n and self.g.is_const(n))

    def channel_axis(self, tensor: str) -> int:
        """Where a tensor's channels are: last after a Transpose to channels-last, else axis 1."""
        shape = self.g.shape(tensor)
        return len(shape) - 1 if tensor in self.last and shape else 1

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
            last = any(name in self.last for name in self.data_inputs())
            if last and node.op_type not in CHANNELS_LAST_OK:
                self.fail("it reads a channels-last tensor (after a Transpose); cnncalc's layers are channels-first")
                continue
            try:
                handler()
            except _MissingKind as missing:
                self.fail(f"needs the kind `{missing.kind}`, which this cnncalc does not have")
            except _Refused as refused:
                self.fail(str(refused))
            else:
                if last and node.op_type != "Transpose":  # elementwise and per-channel ops keep the layout
                    origin = next(self.last_origin[n] for n in self.data_inputs() if n in self.last)
                    for out in node.output:
                        if out:
                            self.last.add(out)
                            self.last_origin[out] = origin
        for out in self.g.outputs:
            if out in self.last:
                self.unsupported.append(self.last_origin[out])
        for item in self.items:
            if item.kind == "_pending" and not item.nested:  # half a pattern: the node on its own has no kind
                a = item.args
                self.unsupported.append(Unsupported(a["position"], a["node"], a["op_type"], a["reason"]))
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
        shape, x = self.in_shape(), self.data_inputs()[0]
        axes = attribute(self.node, "axes")
        if axes is None and len(self.node.input) > 1:
            value = self.g.value(self.node.input[1])
            axes = value.tolist() if value is not None else None
        if shape is None or axes is None or attribute(self.node, "keepdims", 1) != 1:
            raise _Refused("only a mean/max over all spatial axes that keeps the dims is a global pool")
        over = sorted(a % len(shape) for a in axes)
        if kind == "global_avgpool" and self.layernorm_mean(over):
            return
        if x in self.last or over != list(range(2, len(shape))):
            raise _Refused(f"a reduction over axes {axes} is not a global pool")
        self.emit(kind, {})

    def op_ReduceMean(self) -> None:
        self.reduce("global_avgpool")

    # A LayerNorm decomposed (torch before opset 17, ConvNeXt's channels-first LayerNorm), in steps:
    # mean = ReduceMean(x), d = Sub(x, mean), Pow(d, 2), ReduceMean, Add(eps), Sqrt, Div(d, std).
    # The square may be Mul(d, d) (torch's `d * d` and `torch.square`), and the division Reciprocal(std)
    # or Div(1, std) then Mul(d, ...) (torch's `1 / sqrt`, `rsqrt`). Each step is pending until the Div
    # or Mul completes it; a Mul / Add by per-channel weights follows.
    def layernorm_mean(self, over: list[int]) -> bool:
        """The first or the second mean of a decomposed layer norm (both over the channels)."""
        x = self.data_inputs()[0]
        square = self.pending_source("ln_square")
        if square is not None:
            if over != square.args["axes"]:
                raise _Refused(f"a mean of squared deviations over axes {over}, the mean's were {square.args['axes']}")
            reason = "a variance that is not part of a layer norm"
            self.pending("ln_var", reason, [square.index], **self.carried(square))
            return True
        if over != [self.channel_axis(x)]:
            return False
        reason = "a mean over the channels that is not part of a layer norm"
        self.pending("ln_mean", reason, root=self.data_input(), axes=over)
        return True

    def op_Sub(self) -> None:
        data = self.data_inputs()
        if len(data) == 2 and list(self.node.input[:2]) == data:
            mean = self.pending_source("ln_mean", data[1])
            if mean is not None and mean.args["root"] == self.producer[data[0]]:
                reason = "x - mean(x) that is not part of a layer norm"
                self.pending("ln_centred", reason, [mean.index], root=mean.args["root"], axes=mean.args["axes"])
                return
        raise _Refused("a subtraction (only x - mean(x) inside a layer norm has a cnncalc kind)")

    def layernorm_square(self, reads: int) -> bool:
        """Pow(d, 2) (`reads` 1) or Mul(d, d) (2) of a layer norm's deviations d = x - mean(x)."""
        centred = self.items[self.data_input()]
        if centred.kind != "_pending" or centred.args["op"] != "ln_centred":
            return False
        args = {"root": centred.args["root"], "axes": centred.args["axes"], "centred": centred.index, "reads": reads}
        self.pending("ln_square", "a square that is not part of a layer norm", [centred.index], **args)
        return True

    def op_Pow(self) -> None:
        if self.scalar() == 2.0 and self.layernorm_square(1):
            return
        raise _Refused("a power (only the square of x - mean(x) inside a layer norm has a cnncalc kind)")

    def op_Sqrt(self) -> None:
        var = self.pending_source("ln_var_eps")
        if var is None:
            raise _Refused("a square root (only the one of a layer norm's variance plus epsilon has a cnncalc kind)")
        reason = "a standard deviation that is not part of a layer norm"
        self.pending("ln_std", reason, [var.index], **self.carried(var))

    def op_Reciprocal(self) -> None:
        if not self.layernorm_inverse():
            raise _Refused("a reciprocal (only the one of a layer norm's standard deviation has a cnncalc kind)")

    def layernorm_inverse(self) -> bool:
        """Reciprocal(std) or Div(1, std): the layer norm's 1 / std, for a Mul by the deviations to complete."""
        std = self.pending_source("ln_std")
        if std is None:
            return False
        reason = "an inverse standard deviation that is not part of a layer norm"
        self.pending("ln_inverse", reason, [std.index], **self.carried(std))
        return True

    def layernorm_done(self) -> bool:
        """Div(x - mean, std): the decomposed layer norm is whole; its parts become one layernorm."""
        data = self.data_inputs()
        if len(data) != 2 or list(self.node.input[:2]) != data:
            return False
        std = self.pending_source("ln_std", data[1])
        return std is not None and self.layernorm_whole(data[0], std)

    def layernorm_whole(self, deviations: str, std: Item) -> bool:
        """`deviations` divided by (or times the inverse of) `std` completes the norm: its parts become one layer."""
        centred = self.items[self.producer[deviations]]
        if std.args["centred"] != centred.index or self.g.consumers.get(deviations) != std.args["reads"] + 1:
            return False  # the deviations feed the square and this division, nothing else
        part = std
        while part.index != std.args["root"]:
            part.nested = True
            part = self.items[part.inputs[0]]
        eps = std.args["eps"]
        args: dict[str, Any] = {"eps": round(eps, 9)} if abs(eps - 1e-5) > 1e-12 else {}
        made = self.emit("layernorm", {**args, "elementwise_affine": False}, [std.args["root"]])
        self.decomposed[made.index] = "elementwise_affine"
        return True

    def absorb_affine(self, affine: Item) -> None:
        """A decomposed norm's per-channel Mul and Add (just fused into `affine`) are its weight and bias."""
        norm = self.items[affine.inputs[0]]
        flag = self.decomposed.get(norm.index)
        if flag is not None and self.only_reader(norm.tensor):
            del norm.args[flag]  # the default: with weight and bias
            affine.nested = True
            self.alias(norm.index)

    def neutral_fill(self, neutral: float) -> bool:
        """torch exports GroupNorm(affine=False) with a Mul by a Constant 1 and an Add of 0: no layer, no params."""
        source = self.items[self.data_input()]
        const = self.const_operand()
        if source.index not in self.decomposed or not self.only_reader(source.tensor) or const in self.g.weights:
            return False
        if self.scalar() != neutral:
            return False
        self.alias(source.index)
        return True

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
        rearranged = self.pending_source("transpose")
        if rearranged is not None and out is not None:
            self.rearranged(rearranged, out)
            return
        normed = self.pending_source("gn_norm")
        if normed is not None and out is not None:
            self.groupnorm_done(normed, out)
            return
        if shape is not None and out is not None and _grouping(shape, out):  # GroupNorm's [N, G, -1]
            reason = f"a reshape from {list(shape)} to {list(out)} is not a flatten"
            self.pending("gn_groups", reason, groups=out[1], src=shape)
            return
        if shape is not None and out is not None and len(out) > len(shape) and prod(out) == prod(shape):
            self.pending(
                "reshape", f"a reshape from {list(shape)} to {list(out)} is not a flatten", src=shape, dims=out
            )
            return
        self.flatten_or_alias(out)

    def rearranged(self, moved: Item, final: tuple[int, ...]) -> None:
        """Reshape -> Transpose -> Reshape: torch's channel_shuffle, pixel_shuffle and pixel_unshuffle."""
        split_item = self.items[moved.inputs[0]]
        src, split, perm = tuple(split_item.args["src"]), tuple(split_item.args["dims"]), list(moved.args["perm"])
        rest = list(range(3, len(split)))
        found: tuple[str, dict[str, Any]] | None = None
        if len(split) == len(src) + 1 and perm == [0, 2, 1, *rest] and final == src and split[3:] == src[2:]:
            found = ("channel_shuffle", {"groups": split[1]})
        elif len(src) == 4 and len(split) == 6:
            n, c, h, w = src
            r = split[3]
            if (
                perm == [0, 1, 3, 5, 2, 4]
                and split == (n, c, h // r, r, w // r, r)
                and final[1:] == (c * r * r, h // r, w // r)
            ):
                found = ("pixel_unshuffle", {"downscale_factor": r})
            r = split[2]
            if (
                perm == [0, 1, 4, 2, 5, 3]
                and split == (n, c // (r * r), r, r, h, w)
                and final[1:] == (c // (r * r), h * r, w * r)
            ):
                found = ("pixel_shuffle", {"upscale_factor": r})
        if found is None:
            raise _Refused(
                f"a reshape, transpose {perm} and reshape to {list(final)} is no channel shuffle or pixel shuffle"
            )
        moved.nested = split_item.nested = True
        self.emit(found[0], found[1], list(split_item.inputs))

    def groupnorm_done(self, normed: Item, final: tuple[int, ...]) -> None:
        """The Reshape back to the input's shape completes torch's GroupNorm export."""
        if final != tuple(normed.args["src"]):
            raise _Refused(f"a grouped instance norm reshaped to {list(final)}, not back to {list(normed.args['src'])}")
        grouped = self.items[normed.inputs[0]]
        normed.nested = grouped.nested = True
        args = {"num_groups": normed.args["groups"], **{k: v for k, v in normed.args.items() if k == "eps"}}
        made = self.emit("groupnorm", {**args, "affine": False}, list(grouped.inputs))
        self.decomposed[made.index] = "affine"

    def op_Transpose(self) -> None:
        """torch's LayerNorm2d: to channels-last and back; or the middle of a channel/pixel shuffle."""
        perm, x = list(attribute(self.node, "perm", [])), self.data_inputs()[0]
        rank = len(perm)
        split = self.pending_source("reshape")
        if split is not None:
            self.pending("transpose", f"a transpose {perm}", perm=perm)
            return
        if rank > 2 and x not in self.last and perm == [0, *range(2, rank), 1]:
            self.producer[self.node.output[0]] = self.data_input()
            self.last.add(self.node.output[0])
            reason = "a transpose to channels-last that is not transposed back (cnncalc's layers are channels-first)"
            self.last_origin[self.node.output[0]] = Unsupported(
                self.position, self.node.name or "(unnamed)", "Transpose", reason
            )
        elif rank > 2 and x in self.last and perm == [0, rank - 1, *range(1, rank - 1)]:
            self.alias(self.data_input())
            self.from_last.add(self.node.output[0])
        else:
            raise _Refused(f"a transpose {perm} of the data (only channels-last and back, around a layer norm)")

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
        if shape is not None and len(shape) > 2 and len(w) == 2 and self.data_inputs()[0] in self.last:
            # ConvNeXt's channels-last nn.Linear: a 1x1 convolution of the channels-first tensor
            self.emit("conv", {"out_channels": w[1], "kernel_size": 1, "bias": False})
            return
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
        hint = self.hint()
        if hint.get("kind") == "instancenorm":  # cnncalc's export of an instance norm with running statistics
            self.emit(
                "instancenorm",
                {
                    **{k: v for k, v in args.items() if k == "eps"},
                    "affine": bool(hint.get("affine")),
                    "track_running_stats": True,
                },
            )
            return
        if hint.get("kind") == "batchnorm":  # a frozen or partial batchnorm (cnncalc's own export)
            flags = {k: bool(hint[k]) for k in ("affine", "frozen", "scale", "center") if k in hint}
            args.update({k: v for k, v in flags.items() if v != (k != "frozen")})
        self.emit("batchnorm", args)

    def norm_args(self) -> dict[str, Any]:
        eps = attribute(self.node, "epsilon", 1e-5)
        return {"eps": round(eps, 9)} if abs(eps - 1e-5) > 1e-12 else {}

    def op_LayerNormalization(self) -> None:
        shape, x = self.in_shape(), self.data_inputs()[0]
        if shape is None:
            raise _Refused("the input's shape is not known")
        axis = attribute(self.node, "axis", -1) % len(shape)
        over_channels = (x in self.last and axis == len(shape) - 1) or (len(shape) == 2 and axis == 1)
        if not over_channels:
            raise _Refused(
                f"a layer norm over the axes from {axis} on; cnncalc's layernorm is over the channels "
                "(torchvision's LayerNorm2d, a Transpose either side) or a vector's features"
            )
        args = self.norm_args()
        if self.hint().get("elementwise_affine") is False:
            args["elementwise_affine"] = False
        self.emit("layernorm", args)

    def op_GroupNormalization(self) -> None:
        shape, groups = self.in_shape(), attribute(self.node, "num_groups")
        scale = self.weight_shape(1)
        if shape is None or prod(scale) != shape[1]:
            raise _Refused(
                f"a scale of shape {list(scale)}: opset 18-20's GroupNormalization scales per group, torch per channel"
            )
        args = {"num_groups": groups, **self.norm_args()}
        if self.hint().get("affine") is False:
            args["affine"] = False
        self.emit("groupnorm", args)

    def op_InstanceNormalization(self) -> None:
        grouped = self.pending_source("gn_groups")
        if grouped is not None:  # torch's GroupNorm: Reshape to [N, G, -1], this, Reshape back, Mul, Add
            if any(name in self.g.weights for name in self.node.input[1:]):
                raise _Refused("an instance norm of grouped channels with stored weights (a per-group scale)")
            reason = "an instance norm of channel groups not reshaped back"
            self.pending("gn_norm", reason, [grouped.index], **self.carried(grouped), **self.norm_args())
            return
        args = {**self.norm_args(), "affine": self.hint().get("affine", True)}  # its scale and shift are weights
        self.emit("instancenorm", args)

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
        alpha, gamma = (
            attribute(self.node, "alpha", 1.67326319217681884765625),
            attribute(self.node, "gamma", 1.05070102214813232421875),
        )
        if abs(alpha - 1.6732632) > 1e-5 or abs(gamma - 1.0507010) > 1e-5:
            raise _Refused(f"Selu with alpha {alpha}, gamma {gamma} is not torch's SELU")
        self.emit("selu", {})

    def op_Celu(self) -> None:
        alpha = attribute(self.node, "alpha", 1.0)
        self.emit("celu", {"alpha": round(alpha, 9)} if alpha != 1.0 else {})

    def op_Softplus(self) -> None:
        scaled = self.pending_source("scale")
        if scaled is not None:  # torch's Softplus(beta): Mul(beta), Softplus, Div(beta)
            self.pending("softplus", "a softplus of a scaled input", [scaled.index], beta=scaled.args["factor"])
            return
        self.emit("softplus", {})

    def op_PRelu(self) -> None:
        count = prod(self.weight_shape(1))
        self.emit("prelu", {"num_parameters": count} if count != 1 else {})

    def op_LogSoftmax(self) -> None:
        shape = self.in_shape()
        rank = len(shape) if shape else 2
        axis = attribute(self.node, "axis", 1 if self.g.opset < 13 else -1) % rank
        if (self.g.opset < 13 and axis != rank - 1) or axis == 0:
            raise _Refused("a log-softmax over the batch, or (before opset 13) over flattened axes")
        self.emit("log_softmax", {"dim": axis - 1} if axis != 1 else {})

    def op_Pad(self) -> None:
        shape = self.in_shape()
        if shape is None:
            raise _Refused("the input's shape is not known")
        rank, node = len(shape), self.node
        value = 0.0
        if self.g.opset < 11:
            pads, value = attribute(node, "pads"), attribute(node, "value", 0.0)
        else:
            inputs = [*node.input, "", "", ""]
            found = self.g.value(inputs[1])
            pads = found.tolist() if found is not None else None
            if inputs[2]:
                fill = self.g.value(inputs[2])
                value = float(fill.reshape(-1)[0]) if fill is not None and fill.size else 0.0
            if inputs[3] and pads is not None:  # opset 18: pads for the listed axes only
                axes = self.g.value(inputs[3])
                if axes is None:
                    raise _Refused("pad axes that are not constants")
                full = [0] * (2 * rank)
                for i, axis in enumerate(a % rank for a in axes.tolist()):
                    full[axis], full[rank + axis] = pads[i], pads[len(axes) + i]
                pads = full
        if pads is None:
            raise _Refused("pads that are not constants")
        if any(pads[i] or pads[rank + i] for i in (0, 1)):
            raise _Refused("padding the batch or the channels")
        if min(pads) < 0:
            raise _Refused("negative pads (a crop)")
        mode = attribute(node, "mode", "constant")
        if mode not in PAD_MODES:
            raise _Refused(f"`{mode}` padding")
        args: dict[str, Any] = {"padding": _pads(pads[2:rank] + pads[rank + 2 :], rank - 2)}
        if mode != "constant":
            args["mode"] = PAD_MODES[mode]
        elif value:
            args["value"] = value
        self.emit("pad", args)

    def op_DepthToSpace(self) -> None:
        # DCR (ONNX's default, TensorFlow's) orders the channels differently from torch's CRD; shapes agree.
        self.emit("pixel_shuffle", {"upscale_factor": attribute(self.node, "blocksize")})

    def op_SpaceToDepth(self) -> None:
        self.emit("pixel_unshuffle", {"downscale_factor": attribute(self.node, "blocksize")})

    def section(self, start: int, stop: int, output: str) -> None:
        """A channel slice: half of a `split` structure, if the sections meet again in one concat."""
        node = self.node
        args = {"start": start, "stop": stop, "position": self.position, "node": node.name or "(unnamed)"}
        item = Item(len(self.items), "_section", args, [self.data_input()], None, output)
        self.items.append(item)
        self.producer[output] = item.index

    def op_Slice(self) -> None:
        shape, node = self.in_shape(), self.node
        if shape is None:
            raise _Refused("the input's shape is not known")
        if self.g.opset < 10:
            starts, ends, axes, steps = (
                attribute(node, "starts"),
                attribute(node, "ends"),
                attribute(node, "axes"),
                None,
            )
        else:
            inputs = [*node.input, "", ""]
            values = [self.g.value(n) if n else None for n in inputs[1:5]]
            if values[0] is None or values[1] is None:
                raise _Refused("slice bounds that are not constants")
            starts, ends = values[0].tolist(), values[1].tolist()
            axes = values[2].tolist() if values[2] is not None else None
            steps = values[3].tolist() if values[3] is not None else None
        axes = axes if axes is not None else list(range(len(starts)))
        if [a % len(shape) for a in axes] != [1] or (steps and steps != [1]):
            raise _Refused("a slice that is not one range of channels")
        start, stop, _ = slice(starts[0], ends[0]).indices(shape[1])
        self.section(start, stop, node.output[0])

    def op_Split(self) -> None:
        shape, node = self.in_shape(), self.node
        if shape is None or attribute(node, "axis", 0) % len(shape) != 1:
            raise _Refused("a split along an axis other than the channels")
        sizes = attribute(node, "split")
        if sizes is None and len(node.input) > 1 and node.input[1]:
            found = self.g.value(node.input[1])
            sizes = found.tolist() if found is not None else None
        outputs = [o for o in node.output]
        if sizes is None:
            sizes = [-(-shape[1] // len(outputs))] * len(outputs)
        start = 0
        for size, output in zip(sizes, outputs):
            stop = min(start + size, shape[1])
            if output:
                self.section(start, stop, output)
            start = stop

    def op_Erf(self) -> None:
        """GELU as torch writes it without the Gelu op: x * (1 + erf(x / sqrt(2))) * 0.5."""
        scaled = self.pending_source("scale")
        if scaled is None or abs(scaled.args["factor"] - 0.5**0.5) > 1e-5:
            raise _Refused("an error function that is not part of a GELU")
        self.pending("erf", "an error function that is not part of a GELU", [scaled.index], root=scaled.inputs[0])

    def op_Div(self) -> None:
        if self.layernorm_done():
            return
        c = self.scalar()
        data = self.data_inputs()
        if c == 1.0 and len(data) == 1 and self.node.input[1] == data[0] and self.layernorm_inverse():
            return  # torch's legacy export of rsqrt(v): Div(1, Sqrt(v))
        if len(self.data_inputs()) != 1 or c is None or self.node.input[0] != self.data_inputs()[0] or c == 0:
            raise _Refused("a division that is not by a constant number")
        soft = self.pending_source("softplus")
        if soft is not None and abs(soft.args["beta"] - c) < 1e-6 * max(1.0, abs(c)):
            soft.nested = self.items[soft.inputs[0]].nested = True
            self.emit("softplus", {"beta": round(c, 9)}, list(self.items[soft.inputs[0]].inputs))
            return
        self.pending("scale", f"a division by the constant {c:g}", factor=1 / c)

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
        hint = self.hint()
        if hint.get("kind") in ("stochastic_depth", "dropout2d", "dropout3d"):  # all the identity at inference
            self.emit(hint["kind"], {k: v for k, v in hint.items() if k in ("p", "mode") and v != "row"})
            return
        self.emit("dropout", {"p": round(float(ratio), 6)} if abs(ratio - 0.5) > 1e-9 else {})

    def op_Neg(self) -> None:
        """-maxpool(-x) is a min pool (what cnncalc's export writes); a lone negation is refused later."""
        source = self.items[self.data_input()]
        if source.kind == "maxpool" and self.only_reader(source.tensor) and source.inputs[0]:
            neg = self.items[source.inputs[0]]
            if neg.kind == "_pending" and neg.args["op"] == "neg" and self.only_reader(neg.tensor):
                neg.nested, source.kind, source.inputs = True, "minpool", neg.inputs
                self.alias(source.index)
                return
        self.pending("neg", "a negation")

    def op_Identity(self) -> None:
        self.emit("identity", {})

    def op_Resize(self) -> None:
        self.upsample()

    def op_Upsample(self) -> None:
        self.upsample()

    def upsample(self) -> None:
        """Resize / Upsample: nearest as torch exports it (asymmetric, floor), linear and cubic modes."""
        node, shape, out = self.node, self.in_shape(), self.g.shape(self.node.output[0])
        if shape is None or out is None or out[:2] != shape[:2]:
            raise _Refused("the resize's output shape is not known, or it changes the batch or the channels")
        ndim, mode = len(shape) - 2, attribute(node, "mode", "nearest")
        legacy = node.op_type == "Upsample" or self.g.opset < 11
        ctm = "asymmetric" if legacy else attribute(node, "coordinate_transformation_mode", "half_pixel")
        args: dict[str, Any] = {}
        if mode == "nearest":
            nearest = "floor" if legacy else attribute(node, "nearest_mode", "round_prefer_floor")
            if ctm != "asymmetric" or nearest != "floor":
                raise _Refused(f"nearest resizing with {ctm} / {nearest}: cnncalc's is PyTorch's (asymmetric, floor)")
        else:
            if (mode, ndim) not in RESIZE_MODES:
                raise _Refused(f"`{mode}` resizing of a {ndim}-D volume")
            if ctm not in ("align_corners", "half_pixel", "pytorch_half_pixel"):
                raise _Refused(f"{mode} resizing with coordinate_transformation_mode {ctm} (PyTorch has no such mode)")
            if mode == "cubic" and abs(attribute(node, "cubic_coeff_a", -0.75) + 0.75) > 1e-6:
                raise _Refused("cubic resizing with a coefficient other than torch's -0.75")
            args["mode"] = RESIZE_MODES[(mode, ndim)]
            if ctm == "align_corners":
                args["align_corners"] = True
        inputs = [*node.input, "", "", ""]
        sizes = inputs[3] if not legacy else ""
        scales_name = inputs[1] if legacy else inputs[2]
        scales = self.g.value(scales_name) if scales_name else None
        if legacy and scales is None:
            found = attribute(node, "scales")
            scales = None if found is None else __import__("numpy").array(found)
        if sizes or scales is None or not scales.size:
            target: dict[str, Any] = {"size": _ints(list(out[2:]))}
        else:
            factors = [float(f) for f in scales.tolist()][-ndim:]  # [N, C, *spatial], or the `axes` only
            if [int(n * f) for n, f in zip(shape[2:], factors)] != list(out[2:]):
                raise _Refused(f"scales {factors} do not give the inferred size {list(out[2:])}")
            whole: list[Any] = [int(f) if f == int(f) else f for f in factors]
            target = {"scale_factor": _ints(whole)}
        self.emit("upsample", {**target, **args})

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
        """(data item, constant) when one operand is a per-channel constant: [C, 1, ...] / [1, C, 1, ...]
        channels-first, [C] / [1, ..., C] channels-last or on a vector."""
        data, consts = self.data_inputs(), [n for n in self.node.input if n and self.g.is_const(n)]
        shape = self.in_shape()
        if len(data) != 1 or len(consts) != 1 or shape is None or len(shape) < 2:
            return None
        const, c = self.g.const_shape[consts[0]], shape[-1] if data[0] in self.last else shape[1]
        if data[0] in self.last or len(shape) == 2:
            return (self.producer[data[0]], consts[0]) if prod(const) == c and const[-1:] == (c,) else None
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
        conv = item.kind == "conv" and not item.args["bias"] and self.only_reader(item.tensor)
        if conv and item.tensor in self.last and prod(shape) == item.args["out_channels"]:  # channels-last Linear
            item.args["bias"] = True
            self.alias(source)
            return
        if self.neutral_fill(0.0):
            return
        var = self.pending_source("ln_var")
        eps = self.scalar()
        if var is not None and eps is not None and eps > 0:
            reason = "a variance plus epsilon outside a layer norm"
            self.pending("ln_var_eps", reason, [var.index], **self.carried(var), eps=eps)
            return
        erf = self.pending_source("erf")
        if erf is not None and self.scalar() == 1.0:
            self.pending("erf1", "1 + erf(...) that is not part of a GELU", [erf.index], root=erf.args["root"])
            return
        found = self.per_channel()
        if found is None:
            raise _Refused(f"adding a constant of shape {list(shape)}; only a per-channel shift is a layer (`affine`)")
        whole = item.index in self.whole  # cnncalc's export of a scale-only affine: not half of one
        if item.kind == "affine" and not item.args["bias"] and self.only_reader(item.tensor) and not whole:
            item.args["bias"] = True
            self.alias(source)
            self.absorb_affine(item)
            return
        self.emit("affine", {"scale": False, "bias": True})

    def op_Mul(self) -> None:
        data = self.data_inputs()
        if len(data) == 2:
            if data[0] == data[1] and self.layernorm_square(2):
                return
            a, b = (self.items[self.producer[n]] for n in data)
            for inverse, other in ((b, data[0]), (a, data[1])):  # (x - mean) * (1 / std), either way round
                pending = inverse.kind == "_pending" and inverse.args["op"] == "ln_inverse"
                if pending and self.only_reader(inverse.tensor) and self.layernorm_whole(other, inverse):
                    return
            for gate, other in ((a, data[1]), (b, data[0])):  # x * sigmoid(x): torch's export of SiLU
                if gate.kind == "sigmoid" and gate.inputs == [self.producer[other]] and self.only_reader(gate.tensor):
                    gate.kind, gate.name = "silu", gate.name
                    self.alias(gate.index)
                    return
            for half, other in ((a, data[1]), (b, data[0])):  # x * (1 + erf(x / sqrt(2))), then * 0.5
                erf1 = half.kind == "_pending" and half.args["op"] == "erf1"
                if erf1 and half.args["root"] == self.producer[other] and self.only_reader(half.tensor):
                    root = half.args["root"]
                    self.pending("gelu", "x * (1 + erf(x / sqrt(2))) without the 0.5", [half.index], root=root)
                    return
            self.merge("multiply")
            return
        if self.neutral_fill(1.0):
            return
        c = self.scalar()
        if c is not None:
            gelu = self.pending_source("gelu")
            if gelu is not None and c == 0.5:
                chain = [gelu]
                while chain[-1].inputs[0] != gelu.args["root"]:
                    chain.append(self.items[chain[-1].inputs[0]])
                for part in chain:
                    part.nested = True
                self.emit("gelu", {}, [gelu.args["root"]])
                return
            self.pending("scale", f"a multiplication by the constant {c:g}", factor=c)
            return
        found = self.per_channel()
        if found is None:
            const = next(n for n in self.node.input if n and self.g.is_const(n))
            raise _Refused(
                f"multiplying by a constant of shape {list(self.g.const_shape[const])}; "
                "only a per-channel scale is a layer (`affine`)"
            )
        hint = self.hint()
        if hint.get("kind") == "layer_scale" or self.data_inputs()[0] in self.from_last:
            # ConvNeXt's layer scale: the gamma after the channels-last MLP (or cnncalc's own export of one)
            self.emit("layer_scale", {"init": hint["init"]} if "init" in hint else {})
            return
        made = self.emit("affine", {"scale": True, "bias": False})
        if hint.get("kind") == "affine":
            self.whole.add(made.index)


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
        sectioned = [bool(chain) and chain[0].kind == "_section" for chain in chains]
        if any(sectioned):
            if len(forks) == 1 and all(sectioned) and merge.kind == "concat" and _contiguous(chains, items):
                _make_split(merge, chains, forks.pop())
            continue
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


def _contiguous(chains: list[list[Item]], items: list[Item]) -> bool:
    """The sections cover the channels in order, from 0 (the merge's channel order is the input's)."""
    start = 0
    for chain in chains:
        if chain[0].args["start"] != start:
            return False
        start = chain[0].args["stop"]
    return True


def _make_split(merge: Item, chains: list[list[Item]], fork: int) -> None:
    sizes = [chain[0].args["stop"] - chain[0].args["start"] for chain in chains]
    for chain in chains:
        for item in chain:
            item.nested = True
        chain[0].kind = "_section_used"
    merge.kind, merge.groups, merge.inputs = "split", [chain[1:] for chain in chains], [fork]
    merge.args = {"sections": len(sizes) if len(set(sizes)) == 1 else sizes}


def _loose_sections(items: list[Item], file: str) -> None:
    """A channel slice outside a clean split -> concat has no cnncalc kind."""
    found = [
        Unsupported(
            i.args["position"],
            i.args["node"],
            "Slice",
            "a channel slice outside a split whose sections meet in one concat",
        )
        for i in items
        if i.kind == "_section"
    ]
    if found:
        raise UnsupportedOps(file, found)


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
        if item.kind == "split":
            args["sections"] = item.args["sections"]
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
    defaults: dict[str, Any] = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True, "ceil_mode": False}
    if kind in ("maxpool", "avgpool", "lppool"):
        defaults = {"padding": 0, "dilation": 1, "ceil_mode": False, "count_include_pad": True}
        if args.get("stride") == args.get("kernel_size"):
            args = {k: v for k, v in args.items() if k != "stride"}
    if kind == "conv_transpose":
        defaults["output_padding"] = 0
    if kind == "affine":
        defaults = {"scale": True, "bias": True}
    if kind == "pad":
        defaults = {"mode": "constant", "value": 0.0}
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
        if onnx_shape is not None and tensor in result.channels_last:  # [N, *spatial, C] -> [N, C, *spatial]
            onnx_shape = (onnx_shape[0], onnx_shape[-1], *onnx_shape[1:-1])
        if row is not None and onnx_shape is not None and tuple(row.output_shape) != tuple(onnx_shape[1:]):
            found.append(f"{path}: cnncalc {list(row.output_shape)}, ONNX {list(onnx_shape[1:])}")
    return found
