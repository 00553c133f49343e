"""ONNX out: a spec's graph as an ONNX model (opset 21), with the NumPy executor's weights or shapes only.

One fold over `spec.graph.nodes`, as every other pass: each node becomes one ONNX node (a few
kinds several, written as torch's exporter writes them: silu is Sigmoid then Mul, minpool Neg,
MaxPool, Neg, a channels-first layernorm Transpose, LayerNormalization, Transpose), named by its
layer path. With weights, the arrays are the executor's own (`ParamStore`), so onnxruntime and
`cnncalc run` compute the same numbers. Where ONNX cannot say what cnncalc counts (a frozen
batchnorm's buffers, a layer scale rather than an affine), the node's doc_string carries
`cnncalc {"kind": ..., ...}`, which `cnncalc import` reads back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cnncalc.errors import CnncalcError
from cnncalc.graph import Node
from cnncalc.interchange.onnx_support import require_onnx
from cnncalc.layers import Layer, SplitSection
from cnncalc.layers.activations import (
    CELU,
    ELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSoftmax,
    Mish,
    PReLU,
    Softplus,
)
from cnncalc.layers.conv import Conv, ConvTranspose
from cnncalc.layers.dense import Flatten, Linear
from cnncalc.layers.elementwise import (
    GELU,
    LRN,
    Dropout,
    Dropout2d,
    Dropout3d,
    Identity,
    LeakyReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    StochasticDepth,
    Tanh,
    Upsample,
)
from cnncalc.layers.normalization import Affine, BatchNorm, GroupNorm, InstanceNorm, LayerNorm, LayerScale
from cnncalc.layers.pooling import (
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    AvgPool,
    GlobalAvgPool,
    GlobalMaxPool,
    LPPool,
    MaxPool,
    MinPool,
)
from cnncalc.layers.rearrange import ChannelShuffle, Pad, PixelShuffle, PixelUnshuffle
from cnncalc.layers.structure import ChannelConcat, Merge, ProductMerge, SumMerge
from cnncalc.registry import ClassRegistry
from cnncalc.spec.model import Spec

OPSET = 21  # GroupNormalization with per-channel scale and bias (opset 18-20 scale per group)
HINT = "cnncalc "  # the doc_string prefix of the arguments ONNX cannot carry


OnnxNode = Callable[["_Builder", Any, str, str, tuple[int, ...]], None]  # (builder, op, input, output, input shape)
ONNX_NODES: ClassRegistry[OnnxNode] = ClassRegistry()
onnx_node = ONNX_NODES.register  # `@onnx_node(Conv)`: the ONNX nodes of one or more op classes


class _Builder:
    def __init__(self, spec: Spec, weights: dict[tuple[str, str], np.ndarray] | None):
        self.onnx = require_onnx()
        self.spec, self.weights = spec, weights
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.weight_inputs: list[Any] = []
        self.shapes = spec.graph.shapes()
        self.declared: list[Any] = []  # value_info for the tensors onnx's shape inference cannot type
        self.ins: list[str] = []  # the current node's input tensors and their shapes
        self.in_shapes: list[tuple[int, ...]] = []

    def tensor(self, index: int) -> str:
        return "input" if index == 0 else _safe(self.spec.graph.nodes[index].name)

    def init(self, name: str, shape: tuple[int, ...], layer: Layer | None = None, key: str = "") -> str:
        """An initializer: the executor's array for (layer, key), or dims only without weights."""
        from onnx import numpy_helper

        full = _safe(f"{layer.path}.{key}" if layer is not None else name)
        if self.weights is None:  # `--no-weights`: the weight is a graph input with its shape, as older files have it
            info = self.onnx.helper.make_tensor_value_info(full, self.onnx.TensorProto.FLOAT, list(shape))
            self.weight_inputs.append(info)
            return full
        array = self.weights.get((layer.path, key)) if layer is not None else None
        if array is None:  # a part the executor never made (a frozen or partial norm's fixed scale)
            array = np.full(shape, 1.0 if key in ("weight", "gamma", "running_var") else 0.0, np.float32)
        tensor = numpy_helper.from_array(np.asarray(array, np.float32).reshape(shape), full)
        self.initializers.append(tensor)
        return full

    def constant(self, name: str, values: Any, dtype: Any = np.int64) -> str:
        from onnx import numpy_helper

        name = _safe(name)
        self.initializers.append(numpy_helper.from_array(np.asarray(values, dtype), name))
        return name

    def add(self, op: str, inputs: list[str], output: str, name: str, **attrs: Any) -> None:
        # Every name escaped (idempotent): a layer's name is the spec's text, and Netron shows it.
        inputs, output, name = [_safe(i) for i in inputs], _safe(output), _safe(name)
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output], name=name, **attrs))

    def fixed(self, name: str, shape: tuple[int, ...], fill: float) -> str:
        """A constant that is not a parameter (a norm without affine still needs ONNX's scale input)."""
        return self.constant(name, np.full(shape, fill, np.float32), np.float32)

    def hint(self, kind: str, node: Any = None, **args: Any) -> None:
        """Record on a node (the last) what ONNX cannot say (read back by `cnncalc import`)."""
        import json

        node = node if node is not None else self.nodes[-1]
        found = json.loads(node.doc_string[len(HINT) :]) if node.doc_string.startswith(HINT) else {}
        node.doc_string = HINT + json.dumps({**found, "kind": kind, **args}, sort_keys=True)

    def build(self) -> Any:
        helper = self.onnx.helper
        for node in self.spec.graph.nodes[1:]:
            self.node(node)
        graph = self.spec.graph
        outputs = []
        for out_name, index in graph.outputs:
            tensor = self.tensor(index)
            outputs.append(
                helper.make_tensor_value_info(tensor, self.onnx.TensorProto.FLOAT, ["N", *self.shapes[index]])
            )
            del out_name
        inputs = [helper.make_tensor_value_info("input", self.onnx.TensorProto.FLOAT, ["N", *graph.input_shape])]
        inputs.extend(self.weight_inputs)
        onnx_graph = helper.make_graph(
            self.nodes, _safe(self.spec.name), inputs, outputs, self.initializers, value_info=self.declared
        )
        model = helper.make_model(
            onnx_graph, producer_name="cnncalc", opset_imports=[helper.make_opsetid("", OPSET)], ir_version=10
        )
        return model

    def node(self, node: Node) -> None:
        op = node.op
        out, ins = self.tensor(node.index), [self.tensor(i) for i in node.inputs]
        handler = ONNX_NODES.for_(op)
        if handler is None:
            assert isinstance(op, Layer)  # merges and split sections all have one
            raise CnncalcError(
                f"layer `{op.path}`: cnncalc has no ONNX export for the kind `{op.kind}` yet.",
                op.source,
                "Leave the layer out of the exported spec, or file an issue for the kind.",
            )
        self.ins, self.in_shapes = ins, [self.shapes[i] for i in node.inputs]
        start = len(self.nodes)
        handler(self, op, ins[0], out, self.in_shapes[0])
        if isinstance(op, Layer) and not isinstance(op, Merge) and not op.trainable:
            # `trainable: false` (a frozen stage): ONNX has no such notion; a merge has nothing to freeze
            for written in self.nodes[start:]:
                self.hint(op.kind, written, trainable=False)

    # --- one handler per op class, as executor/ops.py has one forward function: (op, input, output, input shape) ---

    @onnx_node(SplitSection)
    def split_section(self, section: SplitSection, x: str, out: str, shape: tuple[int, ...]) -> None:
        start, stop = section.split.section_bounds(shape[0])[section.index]
        starts, ends = self.constant(f"{out}.starts", [start]), self.constant(f"{out}.ends", [stop])
        self.add("Slice", [x, starts, ends, self.constant(f"{out}.axes", [1])], out, out)

    @onnx_node(ChannelConcat)
    def concat_merge(self, merge: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Concat", self.ins, out, out, axis=1)

    @onnx_node(SumMerge)
    def sum_merge(self, merge: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.chain("Add", out)

    @onnx_node(ProductMerge)
    def product_merge(self, merge: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.chain("Mul", out)

    def chain(self, op: str, out: str) -> None:
        """A merge of n inputs as n - 1 binary `op` nodes (one input: an Identity)."""
        ins = self.ins
        if len(ins) == 1:
            self.add("Identity", ins, out, out)
            return
        current = ins[0]
        for i, other in enumerate(ins[1:]):
            target = out if i == len(ins) - 2 else f"{out}.{op.lower()}{i}"
            self.add(op, [current, other], target, target if target != out else out)
            current = target

    def window_attrs(self, layer: Any, shape: tuple[int, ...], dilation: bool = True) -> dict[str, Any]:
        g = layer.geometry(shape)
        attrs = {
            "kernel_shape": list(g.kernel),
            "strides": list(g.stride),
            "pads": [b for b, _ in g.pads] + [a for _, a in g.pads],
        }
        if dilation:
            attrs["dilations"] = list(g.dilation)
        return attrs

    @onnx_node(Conv)
    def conv(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        g = layer.geometry(shape)
        w = self.init("", (layer.out_channels, shape[0] // layer.groups, *g.kernel), layer, "weights")
        inputs = [x, w] + ([self.init("", (layer.out_channels,), layer, "bias_values")] if layer.bias else [])
        self.add("Conv", inputs, out, out, group=layer.groups, **self.window_attrs(layer, shape))

    @onnx_node(ConvTranspose)
    def conv_transpose(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        g = layer.geometry(shape)
        w = self.init("", (shape[0], layer.out_channels // layer.groups, *g.kernel), layer, "weights")
        inputs = [x, w] + ([self.init("", (layer.out_channels,), layer, "bias_values")] if layer.bias else [])
        extra = list(layer.per_dim(layer.output_padding, len(g.kernel), "output_padding"))
        attrs = self.window_attrs(layer, shape)
        self.add("ConvTranspose", inputs, out, out, group=layer.groups, output_padding=extra, **attrs)

    @onnx_node(MaxPool)
    def maxpool(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("MaxPool", [x], out, out, ceil_mode=int(layer.ceil_mode), **self.window_attrs(layer, shape))

    @onnx_node(MinPool)
    def minpool(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Neg", [x], f"{out}.neg", f"{out}.neg")
        attrs = self.window_attrs(layer, shape)
        self.add("MaxPool", [f"{out}.neg"], f"{out}.max", f"{out}.max", ceil_mode=int(layer.ceil_mode), **attrs)
        self.add("Neg", [f"{out}.max"], out, out)

    @onnx_node(AvgPool)
    def avgpool(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        attrs = self.window_attrs(layer, shape, dilation=False)
        self.add(
            "AveragePool",
            [x],
            out,
            out,
            ceil_mode=int(layer.ceil_mode),
            count_include_pad=int(layer.counts_padding()),  # TensorFlow's `same` leaves the padding out
            **attrs,
        )

    @onnx_node(LPPool)
    def lppool(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        if layer.norm_type != int(layer.norm_type):
            raise CnncalcError(f"layer `{layer.path}`: ONNX's LpPool takes a whole power p, not {layer.norm_type}.")
        attrs = self.window_attrs(layer, shape, dilation=False)
        self.add("LpPool", [x], out, out, p=int(layer.norm_type), ceil_mode=int(layer.ceil_mode), **attrs)

    def adaptive(self, layer: Any, x: str, out: str, shape: tuple[int, ...], op: str) -> None:
        target = layer.output_shape(shape)[1:]
        if all(n == 1 for n in target):
            self.add(f"Global{op}Pool", [x], out, out)
            return
        if any(size % n for size, n in zip(shape[1:], target)):
            raise CnncalcError(
                f"layer `{layer.path}`: ONNX has no adaptive pooling, and {list(shape[1:])} -> {list(target)} "
                "is not a plain window (the sizes do not divide).",
                layer.source,
            )
        kernel = [size // n for size, n in zip(shape[1:], target)]
        self.add(f"{op}Pool", [x], out, out, kernel_shape=kernel, strides=kernel)

    @onnx_node(AdaptiveAvgPool)
    def adaptive_avgpool(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.adaptive(layer, x, out, shape, "Average")

    @onnx_node(AdaptiveMaxPool)
    def adaptive_maxpool(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.adaptive(layer, x, out, shape, "Max")

    @onnx_node(GlobalAvgPool)
    def global_avgpool(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("GlobalAveragePool", [x], out, out)

    @onnx_node(GlobalMaxPool)
    def global_maxpool(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("GlobalMaxPool", [x], out, out)

    @onnx_node(Flatten)
    def flatten(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Flatten", [x], out, out, axis=1)

    @onnx_node(Linear)
    def linear(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        w = self.init("", (layer.out_features, shape[0]), layer, "weights")
        inputs = [x, w] + ([self.init("", (layer.out_features,), layer, "bias_values")] if layer.bias else [])
        self.add("Gemm", inputs, out, out, transB=1)

    @onnx_node(BatchNorm)
    def batchnorm(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        c = (shape[0],)
        gamma, beta = layer.parts()
        scale = self.init("", c, layer, "weight") if gamma else self.fixed(f"{out}.scale", c, 1.0)
        shift = self.init("", c, layer, "bias") if beta else self.fixed(f"{out}.shift", c, 0.0)
        stats = [self.init("", c, layer, key) for key in ("running_mean", "running_var")]
        momentum = 1 - (layer.momentum if layer.momentum is not None else 0.1)
        self.add("BatchNormalization", [x, scale, shift, *stats], out, out, epsilon=layer.eps, momentum=momentum)
        if layer.frozen or not (gamma and beta):
            self.hint("batchnorm", affine=layer.affine, frozen=layer.frozen, scale=layer.scale, center=layer.center)

    @onnx_node(LRN)
    def lrn(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("LRN", [x], out, out, size=layer.size, alpha=layer.alpha, beta=layer.beta, bias=layer.k)

    def dropout_node(self, layer: Any, x: str, out: str) -> None:
        """ONNX's one Dropout, for every dropping kind (a hint tells the others from plain dropout)."""
        ratio = self.constant(f"{out}.ratio", layer.p, np.float32)
        self.add("Dropout", [x, ratio], out, out)  # no training_mode input: the identity at inference

    @onnx_node(Dropout)
    def dropout(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.dropout_node(layer, x, out)

    @onnx_node(Dropout2d, Dropout3d)
    def channel_dropout(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.dropout_node(layer, x, out)
        self.hint(layer.kind, p=layer.p)

    @onnx_node(StochasticDepth)
    def stochastic_depth(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.dropout_node(layer, x, out)
        self.hint(layer.kind, p=layer.p, mode=layer.mode)

    @onnx_node(ReLU)
    def relu(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Relu", [x], out, out)

    @onnx_node(ReLU6)
    def relu6(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        low, high = self.constant(f"{out}.min", 0.0, np.float32), self.constant(f"{out}.max", 6.0, np.float32)
        self.add("Clip", [x, low, high], out, out)

    @onnx_node(LeakyReLU)
    def leaky_relu(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("LeakyRelu", [x], out, out, alpha=layer.negative_slope)

    @onnx_node(Sigmoid)
    def sigmoid(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Sigmoid", [x], out, out)

    @onnx_node(Tanh)
    def tanh(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Tanh", [x], out, out)

    @onnx_node(GELU)
    def gelu(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Gelu", [x], out, out, approximate=layer.approximate)

    @onnx_node(SiLU)
    def silu(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Sigmoid", [x], f"{out}.sigmoid", f"{out}.sigmoid")
        self.add("Mul", [x, f"{out}.sigmoid"], out, out)

    @onnx_node(Softmax)
    def softmax(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Softmax", [x], out, out, axis=layer.dim + 1 if layer.dim >= 0 else layer.dim)

    @onnx_node(Identity)
    def identity(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Identity", [x], out, out)

    @onnx_node(Upsample)
    def upsample(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        """Resize as torch exports F.interpolate: nearest is asymmetric/floor, the linear modes half-pixel."""
        ndim = len(shape) - 1
        attrs: dict[str, Any] = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric"}
        if layer.mode == "nearest":
            attrs["nearest_mode"] = "floor"
        else:
            attrs["mode"] = "cubic" if layer.mode == "bicubic" else "linear"
            attrs["coordinate_transformation_mode"] = "align_corners" if layer.align_corners else "pytorch_half_pixel"
            if layer.mode == "bicubic":
                attrs["cubic_coeff_a"] = -0.75  # torch's bicubic kernel
        axes = list(range(2, 2 + ndim))
        if layer.like is not None or layer.size is not None:
            # `like:` too as constant sizes: shape inference cannot read a Shape node's values, and the sizes are known
            sizes = self.constant(f"{out}.sizes", list(layer.infer(self.in_shapes)[1:]))
            self.add("Resize", [x, "", "", sizes], out, out, axes=axes, **attrs)
        else:
            scales = self.constant(f"{out}.scales", list(layer.scales(ndim)), np.float32)
            self.add("Resize", [x, "", scales], out, out, axes=axes, **attrs)

    # --- the kinds of the modern vocabulary ---

    def unary(cls: type, op: str, **fixed: Any) -> Any:  # type: ignore[misc]
        def handler(self: _Builder, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
            self.add(op, [x], out, out, **fixed)

        return onnx_node(cls)(handler)

    hardswish = unary(Hardswish, "HardSwish")
    hardsigmoid = unary(Hardsigmoid, "HardSigmoid", alpha=1 / 6, beta=0.5)  # torch's; ONNX's default alpha is 0.2
    mish = unary(Mish, "Mish")
    selu = unary(SELU, "Selu", alpha=1.6732632423543772, gamma=1.0507009873554805)  # torch's constants
    del unary

    @onnx_node(ELU)
    def elu(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Elu", [x], out, out, alpha=layer.alpha)

    @onnx_node(CELU)
    def celu(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Celu", [x], out, out, alpha=layer.alpha)

    @onnx_node(Softplus)
    def softplus(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        """ONNX's Softplus has no beta: torch's export, Mul(beta), Softplus, Div(beta), for beta != 1."""
        if layer.beta == 1:
            self.add("Softplus", [x], out, out)
            return
        beta = self.constant(f"{out}.beta", layer.beta, np.float32)
        self.add("Mul", [x, beta], f"{out}.scaled", f"{out}.scaled")
        self.add("Softplus", [f"{out}.scaled"], f"{out}.soft", f"{out}.soft")
        self.add("Div", [f"{out}.soft", beta], out, out)

    @onnx_node(Hardtanh)
    def hardtanh(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        low = self.constant(f"{out}.min", layer.min_val, np.float32)
        high = self.constant(f"{out}.max", layer.max_val, np.float32)
        self.add("Clip", [x, low, high], out, out)

    @onnx_node(PReLU)
    def prelu(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        # the slope broadcasts over [N, C, *spatial] from [C, 1, ...] (one per channel) or [1]
        slope_shape = (layer.num_parameters, *(1,) * (len(shape) - 1)) if layer.num_parameters > 1 else (1,)
        self.add("PRelu", [x, self.init("", slope_shape, layer, "weight")], out, out)

    @onnx_node(LogSoftmax)
    def log_softmax(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("LogSoftmax", [x], out, out, axis=layer.dim + 1 if layer.dim >= 0 else layer.dim)

    def channels_last(self, x: str, out: str, shape: tuple[int, ...], body: Any) -> None:
        """Transpose to channels-last, `body(x, y)`, transpose back: torch's export of a LayerNorm2d."""
        rank = len(shape) + 1
        if rank == 2:
            body(x, out)
            return
        self.add("Transpose", [x], f"{out}.last", f"{out}.to_last", perm=[0, *range(2, rank), 1])
        body(f"{out}.last", f"{out}.normed")
        self.add("Transpose", [f"{out}.normed"], out, out, perm=[0, rank - 1, *range(1, rank - 1)])

    @onnx_node(LayerNorm)
    def layernorm(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        c = (shape[0],)
        affine = layer.elementwise_affine
        scale = self.init("", c, layer, "weight") if affine else self.fixed(f"{out}.scale", c, 1.0)
        extra = [self.init("", c, layer, "bias")] if affine else []  # no bias input: not affine

        def body(src: str, dst: str) -> None:
            self.add("LayerNormalization", [src, scale, *extra], dst, dst, axis=-1, epsilon=layer.eps)
            if not affine:
                self.hint("layernorm", elementwise_affine=False)

        self.channels_last(x, out, shape, body)

    @onnx_node(GroupNorm)
    def groupnorm(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        c = (shape[0],)
        scale = self.init("", c, layer, "weight") if layer.affine else self.fixed(f"{out}.scale", c, 1.0)
        shift = self.init("", c, layer, "bias") if layer.affine else self.fixed(f"{out}.shift", c, 0.0)
        self.add("GroupNormalization", [x, scale, shift], out, out, num_groups=layer.num_groups, epsilon=layer.eps)
        # onnx 1.23 infers no type for this function op's output: declare it, as torch's dynamo exporter does
        info = self.onnx.helper.make_tensor_value_info(out, self.onnx.TensorProto.FLOAT, ["N", *shape])
        self.declared.append(info)
        if not layer.affine:
            self.hint("groupnorm", affine=False)

    @onnx_node(InstanceNorm)
    def instancenorm(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        c = (shape[0],)
        scale = self.init("", c, layer, "weight") if layer.affine else self.fixed(f"{out}.scale", c, 1.0)
        shift = self.init("", c, layer, "bias") if layer.affine else self.fixed(f"{out}.shift", c, 0.0)
        if layer.track_running_stats:  # torch's eval mode normalises with the running statistics
            stats = [self.init("", c, layer, key) for key in ("running_mean", "running_var")]
            self.add("BatchNormalization", [x, scale, shift, *stats], out, out, epsilon=layer.eps)
        else:
            self.add("InstanceNormalization", [x, scale, shift], out, out, epsilon=layer.eps)
        self.hint("instancenorm", affine=layer.affine, track_running_stats=layer.track_running_stats)

    def per_channel(self, layer: Any, shape: tuple[int, ...], key: str) -> str:
        """A per-channel vector stored as [C, 1, ...], broadcasting over [N, C, *spatial] (torch's own layout)."""
        return self.init("", (shape[0], *(1,) * (len(shape) - 1)), layer, key)

    @onnx_node(LayerScale)
    def layer_scale(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Mul", [x, self.per_channel(layer, shape, "gamma")], out, out)
        self.hint("layer_scale", init=layer.init)

    @onnx_node(Affine)
    def affine(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        if layer.scale and layer.bias:
            self.add("Mul", [x, self.per_channel(layer, shape, "weight")], f"{out}.scaled", f"{out}.scaled")
            self.add("Add", [f"{out}.scaled", self.per_channel(layer, shape, "bias")], out, out)
        elif layer.scale:
            self.add("Mul", [x, self.per_channel(layer, shape, "weight")], out, out)
        else:
            self.add("Add", [x, self.per_channel(layer, shape, "bias")], out, out)
        self.hint("affine", scale=layer.scale, bias=layer.bias)  # a scale-only affine then a shift-only one stay two

    @onnx_node(Pad)
    def pad(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        pairs = layer.pads(shape)
        pads = self.constant(f"{out}.pads", [0, 0, *(b for b, _ in pairs), 0, 0, *(a for _, a in pairs)])
        mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[layer.mode]
        inputs = [x, pads]
        if layer.mode == "constant" and layer.value != 0:
            inputs.append(self.constant(f"{out}.value", layer.value, np.float32))
        self.add("Pad", inputs, out, out, mode=mode)

    def rearranged(self, x: str, out: str, split: list[int], perm: list[int], final: list[int]) -> None:
        """Reshape, Transpose, Reshape: torch's export of channel_shuffle and pixel_unshuffle."""
        first = self.constant(f"{out}.split", [0, *split])
        self.add("Reshape", [x, first], f"{out}.split_view", f"{out}.split_view")
        self.add("Transpose", [f"{out}.split_view"], f"{out}.moved", f"{out}.moved", perm=perm)
        self.add("Reshape", [f"{out}.moved", self.constant(f"{out}.final", [0, *final])], out, out)

    @onnx_node(ChannelShuffle)
    def channel_shuffle(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        c, g, rest = shape[0], layer.groups, list(shape[1:])
        perm = [0, 2, 1, *range(3, 3 + len(rest))]
        self.rearranged(x, out, [g, c // g, *rest], perm, [c, *rest])

    @onnx_node(PixelShuffle)
    def pixel_shuffle(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("DepthToSpace", [x], out, out, blocksize=layer.upscale_factor, mode="CRD")  # torch's channel order

    @onnx_node(PixelUnshuffle)
    def pixel_unshuffle(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        # Not SpaceToDepth: ONNX's puts the block offsets before the channels, torch after.
        c, h, w = shape
        r = layer.downscale_factor
        self.rearranged(x, out, [c, h // r, r, w // r, r], [0, 1, 3, 5, 2, 4], [c * r * r, h // r, w // r])


def _safe(text: str) -> str:
    """A name from the spec with control characters escaped; escaping it again changes nothing."""
    from cnncalc.shown import shown

    return shown(text)


def export_onnx(spec: Spec, weights: bool = True, seed: int = 0) -> Any:
    """The ONNX ModelProto of `spec`; with weights, the NumPy executor's arrays (spec numbers or seeded)."""
    arrays = None
    if weights:
        from cnncalc.executor.forward import Executor

        executor = Executor(seed)
        executor.prepare(spec)
        arrays = executor.params.arrays
    return _Builder(spec, arrays).build()


def save_onnx(model: Any, path: str, inputs: list[str | Path]) -> None:
    """Write the model atomically, never over one of `inputs`."""
    from cnncalc.interchange.files import write_output

    write_output(path, model.SerializeToString(), inputs)
