"""PyTorch code out: a standalone, readable module file that imports only torch.

The module tree mirrors the spec's dotted names (`layer1.0.res.conv1` is
`model.layer1[0].res.conv1`): a block use is an instance of a class named after the block, a
`repeat` an `nn.Sequential`, other structures and branches plain holders. `forward` is the
spec's graph written out node by node (as torch.fx's generated code is), so `from:`, merges and
several outputs need no special case. Concrete `weights:` are copied in by `build_model()`.
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from cnncalc.graph import Graph
from cnncalc.layers import BlockCall, Layer, Merge, Repeat, SplitSection, Structure
from cnncalc.layers.structure import ChannelConcat, ProductMerge
from cnncalc.spec.model import Spec

HELPERS = '''

class Pad(nn.Module):
    """Explicit [before, after] zero padding per spatial dim (F.pad order: last dim first)."""

    def __init__(self, pads: tuple[int, ...]) -> None:
        super().__init__()
        self.pads = pads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pads)


class Crop(nn.Module):
    """Remove [before, after] cells per spatial dim (a transposed conv's uneven padding)."""

    def __init__(self, pairs: tuple[tuple[int, int], ...]) -> None:
        super().__init__()
        self.pairs = pairs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = [slice(None), slice(None)]
        index += [slice(b, x.shape[2 + i] - a) for i, (b, a) in enumerate(self.pairs)]
        return x[tuple(index)]


class MinPool(nn.Module):
    """Min pooling: -max_pool(-x)."""

    def __init__(self, pool: nn.Module) -> None:
        super().__init__()
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -self.pool(-x)


class Add(nn.Module):
    """The sum of its inputs (equal shapes)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Multiply(nn.Module):
    """The broadcast product of its inputs."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Concat(nn.Module):
    """Concatenation along the channels."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=1)
'''


def _nd(shape: tuple[int, ...]) -> int:
    return len(shape) - 1


def _v(value: Any) -> str:
    """A Python literal: per-dim lists as tuples."""
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_v(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def _per_side(padding: Any) -> list[tuple[int, int]] | None:
    if isinstance(padding, (list, tuple)) and padding and isinstance(padding[0], (list, tuple)):
        return [(int(p[0]), int(p[1])) for p in padding]
    return None


def leaf_code(layer: Any, shape: tuple[int, ...]) -> str:
    """The constructor expression of a leaf's torch module."""
    kind, nd = layer.kind, _nd(shape)
    if kind in ("conv", "conv_transpose"):
        cls = ("Conv" if kind == "conv" else "ConvTranspose") + f"{nd}d"
        pairs = _per_side(layer.padding)
        padding = 0 if pairs else layer.padding
        args = [str(shape[0]), str(layer.out_channels), _v(layer.kernel_size)]
        for key, value, default in (
            ("stride", layer.stride, 1),
            ("padding", padding, 0),
            ("output_padding", getattr(layer, "output_padding", 0), 0),
            ("dilation", layer.dilation, 1),
            ("groups", layer.groups, 1),
            ("bias", layer.bias, True),
        ):
            if value != default:
                args.append(f"{key}={_v(value)}")
        code = f"nn.{cls}({', '.join(args)})"
        if pairs and kind == "conv":
            flat = tuple(n for pair in reversed(pairs) for n in pair)
            return f"nn.Sequential(Pad({_v(flat)}), {code})"
        if pairs:
            return f"nn.Sequential({code}, Crop({_v(tuple(pairs))}))"
        return code
    if kind in ("maxpool", "minpool"):
        args = [_v(layer.kernel_size), f"stride={_v(layer.stride if layer.stride is not None else layer.kernel_size)}"]
        if layer.padding != 0:
            args.append(f"padding={_v(layer.padding)}")
        if layer.dilation != 1:
            args.append(f"dilation={_v(layer.dilation)}")
        if layer.ceil_mode:
            args.append("ceil_mode=True")
        code = f"nn.MaxPool{nd}d({', '.join(args)})"
        return code if kind == "maxpool" else f"MinPool({code})"
    if kind == "avgpool":
        args = [_v(layer.kernel_size), f"stride={_v(layer.stride if layer.stride is not None else layer.kernel_size)}"]
        if layer.padding != 0:
            args.append(f"padding={_v(layer.padding)}")
        if layer.ceil_mode:
            args.append("ceil_mode=True")
        if not layer.count_include_pad:
            args.append("count_include_pad=False")
        return f"nn.AvgPool{nd}d({', '.join(args)})"
    if kind == "lppool":
        stride = layer.stride if layer.stride is not None else layer.kernel_size
        ceil = ", ceil_mode=True" if layer.ceil_mode else ""
        return f"nn.LPPool{nd}d({layer.norm_type!r}, {_v(layer.kernel_size)}, stride={_v(stride)}{ceil})"
    if kind in ("adaptive_avgpool", "adaptive_maxpool"):
        cls = "AdaptiveAvgPool" if kind == "adaptive_avgpool" else "AdaptiveMaxPool"
        return f"nn.{cls}{nd}d({_v(layer.output_size)})"
    if kind in ("global_avgpool", "global_maxpool"):
        cls = "AdaptiveAvgPool" if kind == "global_avgpool" else "AdaptiveMaxPool"
        return f"nn.{cls}{nd}d(1)"
    if kind == "linear":
        return f"nn.Linear({shape[0]}, {layer.out_features}{'' if layer.bias else ', bias=False'})"
    if kind == "flatten":
        return "nn.Flatten()"
    if kind == "batchnorm":
        args = [str(shape[0])]
        if layer.eps != 1e-5:
            args.append(f"eps={layer.eps!r}")
        if layer.momentum != 0.1:
            args.append(f"momentum={layer.momentum!r}")
        return f"nn.BatchNorm{max(nd, 1)}d({', '.join(args)})"
    if kind == "lrn":
        return f"nn.LocalResponseNorm({layer.size}, alpha={layer.alpha!r}, beta={layer.beta!r}, k={layer.k!r})"
    if kind == "dropout":
        return f"nn.Dropout({layer.p!r})"
    if kind == "leaky_relu":
        return f"nn.LeakyReLU({layer.negative_slope!r})"
    if kind == "gelu":
        return "nn.GELU()" if layer.approximate == "none" else f"nn.GELU(approximate={layer.approximate!r})"
    if kind == "softmax":
        return f"nn.Softmax(dim={layer.dim + 1 if layer.dim >= 0 else layer.dim})"
    if kind == "upsample":
        scale = layer.scale_factor
        value = tuple(float(s) for s in scale) if isinstance(scale, list) else float(scale)
        return f"nn.Upsample(scale_factor={_v(value)})"
    simple = {
        "relu": "nn.ReLU()",
        "relu6": "nn.ReLU6()",
        "sigmoid": "nn.Sigmoid()",
        "tanh": "nn.Tanh()",
        "silu": "nn.SiLU()",
        "identity": "nn.Identity()",
    }
    if kind in simple:
        return simple[kind]
    from cnncalc.errors import CnncalcError

    raise CnncalcError(f"layer `{layer.path}`: cnncalc has no PyTorch export for the kind `{kind}` yet.", layer.source)


def _class_name(text: str) -> str:
    name = "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)
    return name if name and name[0].isalpha() else f"Block{name}"


def _access(path: str, sequential: set[str]) -> str:
    """`self.layer1[0].res.conv1`: attributes, or an index into an nn.Sequential."""
    out, prefix = "self", ""
    for part in path.split("."):
        if prefix in sequential and part.isdigit():
            out += f"[{part}]"
        elif part.isidentifier() and not keyword.iskeyword(part):
            out += f".{part}"
        else:
            return f'self.get_submodule("{path}")'
        prefix = f"{prefix}.{part}" if prefix else part
    return out


def _var(graph: Graph, index: int) -> str:
    """A short local name: the layer's own name and its node number (`conv1_5`)."""
    if index == 0:
        return "x"
    name = re.sub(r"\W", "_", graph.nodes[index].name.rsplit(".", 1)[-1])
    return f"{name}_{index}" if name[:1].isalpha() or name[:1] == "_" else f"n{name}_{index}"


class _Writer:
    def __init__(self, spec: Spec):
        self.spec = spec
        self.graph = spec.graph
        self.shapes = spec.graph.shapes()
        self.classes: dict[str, str] = {}  # class name -> code
        self.init: list[str] = []
        self.holders: dict[str, str] = {}  # holder path -> constructor
        self.sequential: set[str] = set()
        self.weights: list[str] = []
        self.leaf_paths: list[str] = []

    def tree(self, layers: list[Layer], prefix_kind: str = "") -> None:
        for layer in layers:
            if isinstance(layer, Structure):
                path = layer.path
                if isinstance(layer, BlockCall):
                    cls = _class_name(layer.block)
                    args = ", ".join(
                        f"{k}={v!r}" for k, v in layer.args.items() if isinstance(v, (int, float, str, bool))
                    )
                    self.classes.setdefault(
                        cls,
                        f"class {cls}(nn.Module):\n"
                        f'    """Block `{layer.block}` of the spec; each use holds its layers."""\n',
                    )
                    self.holders[path] = f"{cls}()  # {layer.block}({args})" if args else f"{cls}()"
                elif isinstance(layer, Repeat):
                    self.holders[path] = "nn.Sequential()"
                    self.sequential.add(path)
                else:
                    self.holders[path] = "nn.Module()  # " + layer.kind
                for group in layer.groups():
                    self.tree(group)
                continue
            if isinstance(layer, Merge):
                cls = (
                    "Concat"
                    if isinstance(layer, ChannelConcat)
                    else "Multiply"
                    if isinstance(layer, ProductMerge)
                    else "Add"
                )
                self.add_module(layer.path, f"{cls}()")
                continue
            shape = self.shapes[layer.input_node]
            self.add_module(layer.path, leaf_code(layer, shape))
            for key, attr in (("weights", "weight"), ("bias_values", "bias")):
                values = getattr(layer, key, None)
                if values is not None:
                    self.weights.append(f'    _set(model.get_submodule("{layer.path}"), "{attr}", {values!r})')

    def add_module(self, path: str, code: str) -> None:
        parts = path.split(".")
        for i in range(1, len(parts)):
            holder = ".".join(parts[:i])
            if holder not in self.holders:
                self.holders[holder] = "nn.Module()"
            if holder not in self.done:
                self.done.add(holder)
                self.init.append(self.assign(holder, self.holders[holder]))
        self.init.append(self.assign(path, code))
        self.leaf_paths.append(path)

    def assign(self, path: str, code: str) -> str:
        """`self.a.b = MODULE`, or add_module for a name that is not an attribute (a repeat's `0`)."""
        code, _, comment = code.partition("  # ")
        comment = f"  # {comment}" if comment else ""
        parent, _, name = path.rpartition(".")
        target = _access(parent, self.sequential) if parent else "self"
        if parent in self.sequential or not (name.isidentifier() and not keyword.iskeyword(name)):
            line = f'        {target}.add_module("{name}", {code})'
        else:
            line = f"        {target}.{name} = {code}"
        if len(line) > 120:  # a deep path: name the holder first
            holder = f'        holder = self.get_submodule("{parent}")'
            line = holder + "\n" + line.replace(target, "holder", 1)
        return line + (comment if len(line.rsplit("\n", 1)[-1]) + len(comment) <= 120 else "")

    def forward(self) -> list[str]:
        lines = []
        graph = self.graph
        for node in graph.nodes[1:]:
            op, out = node.op, _var(graph, node.index)
            ins = [_var(graph, i) for i in node.inputs]
            if isinstance(op, SplitSection):
                start, stop = op.split.section_bounds(self.shapes[node.inputs[0]][0])[op.index]
                lines.append(f"        {out} = {ins[0]}[:, {start}:{stop}]")
            elif isinstance(op, Structure) and isinstance(op, Merge):
                if isinstance(op, ChannelConcat):
                    lines.append(f"        {out} = torch.cat([{', '.join(ins)}], dim=1)  # {op.path}")
                else:
                    symbol = " * " if isinstance(op, ProductMerge) else " + "
                    lines.append(f"        {out} = {symbol.join(ins)}  # {op.path}")
            else:
                assert isinstance(op, Layer)
                call = f"        {out} = {_access(op.path, self.sequential)}({', '.join(ins)})"
                if len(call) > 120:  # as ruff format wraps it
                    call = (
                        f"        {out} = {_access(op.path, self.sequential)}(\n            {', '.join(ins)}\n        )"
                    )
                lines.append(call)
        outs = [_var(graph, i) for _, i in graph.outputs]
        lines.append(f"        return {outs[0]}" if len(outs) == 1 else f"        return ({', '.join(outs)})")
        return lines

    def write(self) -> str:
        from cnncalc.shown import shown

        self.done: set[str] = set()
        self.tree(self.spec.layers)
        init = self.init
        title = shown(self.spec.name).replace('"""', "'''")
        returns = "torch.Tensor" if len(self.graph.outputs) == 1 else "tuple[torch.Tensor, ...]"
        shape = ", ".join(map(str, self.spec.input_shape))
        lines = [
            f'"""{title}: written by `cnncalc export --to pytorch` (input [N, {shape}])."""',
            "",
            "import torch",
            "import torch.nn.functional as F",
            "from torch import nn",
            HELPERS.rstrip(),
            "",
        ]
        for code in self.classes.values():
            lines += ["", code.rstrip(), ""]
        lines += [
            "",
            "class Network(nn.Module):",
            f'    """{title}; module names follow the spec\'s layer names."""',
            "",
            "    def __init__(self) -> None:",
            "        super().__init__()",
            *init,
            "",
            f"    def forward(self, x: torch.Tensor) -> {returns}:",
            *self.forward(),
            "",
            "",
            "def _set(module: nn.Module, name: str, values: list) -> None:",
            '    """Copy the spec\'s concrete numbers into a parameter."""',
            "    param = getattr(module, name)",
            "    with torch.no_grad():",
            "        param.copy_(torch.tensor(values, dtype=param.dtype).reshape(param.shape))",
            "",
            "",
            "def build_model() -> nn.Module:",
            f'    """The network, taking [N, {", ".join(map(str, self.spec.input_shape))}]."""',
            "    model = Network()",
            *self.weights,
            "    return model",
        ]
        return "\n".join(lines) + "\n"


def export_pytorch(spec: Spec) -> str:
    """The spec as PyTorch code (a string): `build_model()` returns the network."""
    return _Writer(spec).write()
