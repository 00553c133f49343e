"""ONNX out: a spec's graph as an ONNX model (opset 20), with the NumPy executor's weights or shapes only.

One fold over `spec.graph.nodes`, as every other pass: each node becomes one ONNX node (a few
kinds two: silu is Sigmoid then Mul, minpool is Neg, MaxPool, Neg), named by its layer path.
With weights, the arrays are the executor's own (`ParamStore`), so onnxruntime and
`cnncalc run` compute the same numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cnncalc.errors import CnncalcError
from cnncalc.graph import Node
from cnncalc.interchange.onnx_support import require_onnx
from cnncalc.layers import Layer, SplitSection
from cnncalc.layers.structure import ChannelConcat, ProductMerge, SumMerge
from cnncalc.spec.model import Spec

OPSET = 20


class _Builder:
    def __init__(self, spec: Spec, weights: dict[tuple[str, str], np.ndarray] | None):
        self.onnx = require_onnx()
        self.spec, self.weights = spec, weights
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.weight_inputs: list[Any] = []
        self.shapes = spec.graph.shapes()

    def tensor(self, index: int) -> str:
        return "input" if index == 0 else self.spec.graph.nodes[index].name

    def init(self, name: str, shape: tuple[int, ...], layer: Layer | None = None, key: str = "") -> str:
        """An initializer: the executor's array for (layer, key), or dims only without weights."""
        from onnx import numpy_helper

        full = f"{layer.path}.{key}" if layer is not None else name
        if self.weights is None:  # `--no-weights`: the weight is a graph input with its shape, as older files have it
            info = self.onnx.helper.make_tensor_value_info(full, self.onnx.TensorProto.FLOAT, list(shape))
            self.weight_inputs.append(info)
            return full
        array = self.weights[(layer.path, key)] if layer is not None else np.zeros(shape, np.float32)
        tensor = numpy_helper.from_array(np.asarray(array, np.float32).reshape(shape), full)
        self.initializers.append(tensor)
        return full

    def constant(self, name: str, values: Any, dtype: Any = np.int64) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.asarray(values, dtype), name))
        return name

    def add(self, op: str, inputs: list[str], output: str, name: str, **attrs: Any) -> None:
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [output], name=name, **attrs))

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
        onnx_graph = helper.make_graph(self.nodes, _safe(self.spec.name), inputs, outputs, self.initializers)
        model = helper.make_model(
            onnx_graph, producer_name="cnncalc", opset_imports=[helper.make_opsetid("", OPSET)], ir_version=9
        )
        return model

    def node(self, node: Node) -> None:
        op = node.op
        out, ins = self.tensor(node.index), [self.tensor(i) for i in node.inputs]
        shape_in = self.shapes[node.inputs[0]]
        if isinstance(op, SplitSection):
            start, stop = op.split.section_bounds(shape_in[0])[op.index]
            starts, ends = self.constant(f"{out}.starts", [start]), self.constant(f"{out}.ends", [stop])
            self.add("Slice", [ins[0], starts, ends, self.constant(f"{out}.axes", [1])], out, out)
            return
        if isinstance(op, ChannelConcat):
            self.add("Concat", ins, out, out, axis=1)
            return
        if isinstance(op, (SumMerge, ProductMerge)):
            kind = "Add" if isinstance(op, SumMerge) else "Mul"
            if len(ins) == 1:
                self.add("Identity", ins, out, out)
                return
            current = ins[0]
            for i, other in enumerate(ins[1:]):
                target = out if i == len(ins) - 2 else f"{out}.{kind.lower()}{i}"
                self.add(kind, [current, other], target, target if target != out else out)
                current = target
            return
        assert isinstance(op, Layer)
        handler = getattr(self, f"kind_{op.kind}", None)
        if handler is None:
            raise CnncalcError(
                f"layer `{op.path}`: cnncalc has no ONNX export for the kind `{op.kind}` yet.",
                op.source,
                "Leave the layer out of the exported spec, or file an issue for the kind.",
            )
        handler(op, ins[0], out, shape_in)

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

    def kind_conv(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        g = layer.geometry(shape)
        w = self.init("", (layer.out_channels, shape[0] // layer.groups, *g.kernel), layer, "weights")
        inputs = [x, w] + ([self.init("", (layer.out_channels,), layer, "bias_values")] if layer.bias else [])
        self.add("Conv", inputs, out, out, group=layer.groups, **self.window_attrs(layer, shape))

    def kind_conv_transpose(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        g = layer.geometry(shape)
        w = self.init("", (shape[0], layer.out_channels // layer.groups, *g.kernel), layer, "weights")
        inputs = [x, w] + ([self.init("", (layer.out_channels,), layer, "bias_values")] if layer.bias else [])
        extra = list(layer.per_dim(layer.output_padding, len(g.kernel), "output_padding"))
        attrs = self.window_attrs(layer, shape)
        self.add("ConvTranspose", inputs, out, out, group=layer.groups, output_padding=extra, **attrs)

    def kind_maxpool(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("MaxPool", [x], out, out, ceil_mode=int(layer.ceil_mode), **self.window_attrs(layer, shape))

    def kind_minpool(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Neg", [x], f"{out}.neg", f"{out}.neg")
        attrs = self.window_attrs(layer, shape)
        self.add("MaxPool", [f"{out}.neg"], f"{out}.max", f"{out}.max", ceil_mode=int(layer.ceil_mode), **attrs)
        self.add("Neg", [f"{out}.max"], out, out)

    def kind_avgpool(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        attrs = self.window_attrs(layer, shape, dilation=False)
        self.add(
            "AveragePool",
            [x],
            out,
            out,
            ceil_mode=int(layer.ceil_mode),
            count_include_pad=int(layer.count_include_pad),
            **attrs,
        )

    def kind_lppool(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
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

    def kind_adaptive_avgpool(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.adaptive(layer, x, out, shape, "Average")

    def kind_adaptive_maxpool(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.adaptive(layer, x, out, shape, "Max")

    def kind_global_avgpool(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("GlobalAveragePool", [x], out, out)

    def kind_global_maxpool(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("GlobalMaxPool", [x], out, out)

    def kind_flatten(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Flatten", [x], out, out, axis=1)

    def kind_linear(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        w = self.init("", (layer.out_features, shape[0]), layer, "weights")
        inputs = [x, w] + ([self.init("", (layer.out_features,), layer, "bias_values")] if layer.bias else [])
        self.add("Gemm", inputs, out, out, transB=1)

    def kind_batchnorm(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        c = (shape[0],)
        names = [self.init("", c, layer, key) for key in ("weight", "bias", "running_mean", "running_var")]
        momentum = 1 - (layer.momentum if layer.momentum is not None else 0.1)
        self.add("BatchNormalization", [x, *names], out, out, epsilon=layer.eps, momentum=momentum)

    def kind_lrn(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("LRN", [x], out, out, size=layer.size, alpha=layer.alpha, beta=layer.beta, bias=layer.k)

    def kind_dropout(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        ratio = self.constant(f"{out}.ratio", layer.p, np.float32)
        self.add("Dropout", [x, ratio], out, out)

    def kind_relu(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Relu", [x], out, out)

    def kind_relu6(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        low, high = self.constant(f"{out}.min", 0.0, np.float32), self.constant(f"{out}.max", 6.0, np.float32)
        self.add("Clip", [x, low, high], out, out)

    def kind_leaky_relu(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("LeakyRelu", [x], out, out, alpha=layer.negative_slope)

    def kind_sigmoid(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Sigmoid", [x], out, out)

    def kind_tanh(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Tanh", [x], out, out)

    def kind_gelu(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Gelu", [x], out, out, approximate=layer.approximate)

    def kind_silu(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Sigmoid", [x], f"{out}.sigmoid", f"{out}.sigmoid")
        self.add("Mul", [x, f"{out}.sigmoid"], out, out)

    def kind_softmax(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Softmax", [x], out, out, axis=layer.dim + 1 if layer.dim >= 0 else layer.dim)

    def kind_identity(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        self.add("Identity", [x], out, out)

    def kind_upsample(self, layer: Any, x: str, out: str, shape: tuple[int, ...]) -> None:
        scales = self.constant(f"{out}.scales", [1.0, 1.0, *layer.scales(shape)], np.float32)
        self.add(
            "Resize",
            [x, "", scales],
            out,
            out,
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        )


def _safe(text: str) -> str:
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
