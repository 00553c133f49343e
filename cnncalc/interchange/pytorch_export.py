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

# The helper modules a generated file may need; only those it uses are written into it.
HELPERS: dict[str, str] = {
    "Pad": '''
class Pad(nn.Module):
    """Explicit [before, after] padding per spatial dim with `value` (F.pad order: last dim first)."""

    def __init__(self, pads: tuple[int, ...], value: float = 0.0) -> None:
        super().__init__()
        self.pads, self.value = pads, value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pads, value=self.value)
''',
    "PadOutOfDivisor": '''
class PadOutOfDivisor(nn.Module):
    """Average pooling with uneven padding left out of each window's divisor (TensorFlow's `same`)."""

    def __init__(self, pads: tuple[int, ...], pool: nn.Module) -> None:
        super().__init__()
        self.pads, self.pool = pads, pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ones = torch.ones_like(x[:, :1])
        return self.pool(F.pad(x, self.pads)) / self.pool(F.pad(ones, self.pads))
''',
    "Crop": '''
class Crop(nn.Module):
    """Remove [before, after] cells per spatial dim (a transposed conv's uneven padding)."""

    def __init__(self, pairs: tuple[tuple[int, int], ...]) -> None:
        super().__init__()
        self.pairs = pairs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = [slice(None), slice(None)]
        index += [slice(b, x.shape[2 + i] - a) for i, (b, a) in enumerate(self.pairs)]
        return x[tuple(index)]
''',
    "MinPool": '''
class MinPool(nn.Module):
    """Min pooling: -max_pool(-x)."""

    def __init__(self, pool: nn.Module) -> None:
        super().__init__()
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -self.pool(-x)
''',
    "LayerNorm2d": '''
class LayerNorm2d(nn.LayerNorm):
    """torchvision's LayerNorm2d (convnext.py), any rank: a LayerNorm over the channels at each position."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.movedim(1, -1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.movedim(-1, 1)
''',
    "LayerScale": '''
class LayerScale(nn.Module):
    """A learnable factor per channel (ConvNeXt's layer_scale), initialised to `init`."""

    def __init__(self, channels: int, init: float) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma.view(1, -1, *(1,) * (x.dim() - 2))
''',
    "Affine": '''
class Affine(nn.Module):
    """A learnable per-channel scale and/or shift (Caffe's Scale layer)."""

    def __init__(self, channels: int, scale: bool = True, bias: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1, *(1,) * (x.dim() - 2))
        if self.weight is not None:
            x = x * self.weight.view(shape)
        if self.bias is not None:
            x = x + self.bias.view(shape)
        return x
''',
    "PartialBatchNorm": '''
class PartialBatchNorm(nn.Module):
    """Keras's BatchNormalization with `scale=False` or `center=False`: gamma or beta missing."""

    def __init__(self, channels: int, eps: float, scale: bool, center: bool) -> None:
        super().__init__()
        self.eps = eps
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)
''',
    "FrozenBatchNorm": '''
class FrozenBatchNorm(nn.Module):
    """torchvision's FrozenBatchNorm2d, any rank: weight, bias and statistics are all buffers."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        for name, init in (("weight", 1.0), ("bias", 0.0), ("running_mean", 0.0), ("running_var", 1.0)):
            self.register_buffer(name, torch.full((channels,), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)
''',
    "StochasticDepth": '''
class StochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth: drops the input (per row or batch) while training, scaled by 1/(1-p)."""

    def __init__(self, p: float, mode: str = "row") -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        shape = [x.shape[0]] + [1] * (x.dim() - 1) if self.mode == "row" else [1] * x.dim()
        keep = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(1.0 - self.p)
        return x * keep / (1.0 - self.p) if self.p < 1.0 else x * keep
''',
    "InterpolateLike": '''
class InterpolateLike(nn.Module):
    """F.interpolate to the spatial size of a second tensor (an FPN's top-down path, FCN's final resize)."""

    def __init__(self, mode: str = "nearest", align_corners: bool | None = None) -> None:
        super().__init__()
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=like.shape[2:], mode=self.mode, align_corners=self.align_corners)
''',
    "Add": '''
class Add(nn.Module):
    """The sum of its inputs (equal shapes)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out
''',
    "Multiply": '''
class Multiply(nn.Module):
    """The broadcast product of its inputs."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out
''',
    "Concat": '''
class Concat(nn.Module):
    """Concatenation along the channels."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=1)
''',
}


def _nd(shape: tuple[int, ...]) -> int:
    return len(shape) - 1


def _v(value: Any) -> str:
    """A Python literal: per-dim lists as tuples."""
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_v(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, str):
        import json

        return json.dumps(value)  # double quotes, as ruff format writes them
    return repr(value)


def _f_pad(pairs: Any) -> tuple[int, ...]:
    """F.pad's order: last dimension first, (before, after) each."""
    return tuple(int(n) for pair in reversed(list(pairs)) for n in pair)


def _symmetric(pads: Any) -> Any | None:
    """torch's `padding=` for [before, after] pairs that are equal (an int when all dims agree), else None."""
    if any(b != a for b, a in pads):
        return None
    values = [b for b, _ in pads]
    return values[0] if len(set(values)) == 1 else tuple(values)


def _pool_code(layer: Any, nd: int, g: Any) -> tuple[str, tuple[int, ...] | None]:
    """A max pool's constructor, and the explicit padding it needs in front (uneven or TensorFlow `same`)."""
    padding = _symmetric(g.pads)
    args = [_v(g.kernel if len(set(g.kernel)) > 1 else g.kernel[0]), f"stride={_v(_one(g.stride))}"]
    if padding not in (None, 0):
        args.append(f"padding={_v(padding)}")
    if any(d != 1 for d in g.dilation):
        args.append(f"dilation={_v(_one(g.dilation))}")
    if layer.ceil_mode:
        args.append("ceil_mode=True")
    return f"nn.MaxPool{nd}d({', '.join(args)})", None if padding is not None else _f_pad(g.pads)


def _one(values: tuple[int, ...]) -> Any:
    return values[0] if len(set(values)) == 1 else tuple(values)


def leaf_code(layer: Any, shape: tuple[int, ...], use: set[str]) -> str:
    """The constructor expression of a leaf's torch module; `use` collects the helper classes it needs."""
    kind, nd = layer.kind, _nd(shape)
    if kind in ("conv", "conv_transpose"):
        g = layer.geometry(shape)
        cls = ("Conv" if kind == "conv" else "ConvTranspose") + f"{nd}d"
        padding = _symmetric(g.pads)
        args = [str(shape[0]), str(layer.out_channels), _v(_one(g.kernel))]
        for key, value, default in (
            ("stride", _one(g.stride), 1),
            ("padding", padding if padding is not None else 0, 0),
            ("output_padding", getattr(layer, "output_padding", 0), 0),
            ("dilation", _one(g.dilation), 1),
            ("groups", layer.groups, 1),
            ("bias", layer.bias, True),
        ):
            if value != default:
                args.append(f"{key}={_v(value)}")
        code = f"nn.{cls}({', '.join(args)})"
        if padding is None and kind == "conv":  # uneven padding (TensorFlow's `same` with a stride)
            use.add("Pad")
            return f"nn.Sequential(Pad({_v(_f_pad(g.pads))}), {code})"
        if padding is None:
            use.add("Crop")
            return f"nn.Sequential({code}, Crop({_v(tuple(g.pads))}))"
        return code
    if kind in ("maxpool", "minpool"):
        code, pads = _pool_code(layer, nd, layer.geometry(shape))
        if pads is not None:
            use.add("Pad")
            fill = '-float("inf")'  # a padded cell never wins the max
            code = f"nn.Sequential(Pad({_v(pads)}, {fill}), {code})"
        if kind == "minpool":
            use.add("MinPool")
            return f"MinPool({code})"
        return code
    if kind == "avgpool":
        g = layer.geometry(shape)
        padding = _symmetric(g.pads)
        args = [_v(_one(g.kernel)), f"stride={_v(_one(g.stride))}"]
        if padding not in (None, 0):
            args.append(f"padding={_v(padding)}")
        if layer.ceil_mode:
            args.append("ceil_mode=True")
        if padding is not None and not layer.counts_padding():
            args.append("count_include_pad=False")
        code = f"nn.AvgPool{nd}d({', '.join(args)})"
        if padding is None and layer.counts_padding():
            use.add("Pad")
            return f"nn.Sequential(Pad({_v(_f_pad(g.pads))}), {code})"
        if padding is None:
            use.add("PadOutOfDivisor")
            return f"PadOutOfDivisor({_v(_f_pad(g.pads))}, {code})"
        return code
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
        c, eps = shape[0], f", eps={layer.eps!r}" if layer.eps != 1e-5 else ""
        if layer.frozen:
            use.add("FrozenBatchNorm")
            return f"FrozenBatchNorm({c}{eps})"
        if layer.affine and not (layer.scale and layer.center):
            use.add("PartialBatchNorm")
            return f"PartialBatchNorm({c}, {layer.eps!r}, scale={layer.scale}, center={layer.center})"
        args = [str(c)] + ([eps[2:]] if eps else [])
        if layer.momentum != 0.1:
            args.append(f"momentum={layer.momentum!r}")
        if not layer.affine:
            args.append("affine=False")
        return f"nn.BatchNorm{max(nd, 1)}d({', '.join(args)})"
    if kind == "layernorm":
        args = [str(shape[0])] + ([f"eps={layer.eps!r}"] if layer.eps != 1e-5 else [])
        if not layer.elementwise_affine:
            args.append("elementwise_affine=False")
        if nd == 0:
            return f"nn.LayerNorm({', '.join(args)})"
        use.add("LayerNorm2d")
        return f"LayerNorm2d({', '.join(args)})"
    if kind == "groupnorm":
        args = [str(layer.num_groups), str(shape[0])] + ([f"eps={layer.eps!r}"] if layer.eps != 1e-5 else [])
        return f"nn.GroupNorm({', '.join(args + ([] if layer.affine else ['affine=False']))})"
    if kind == "instancenorm":
        args = [str(shape[0])] + ([f"eps={layer.eps!r}"] if layer.eps != 1e-5 else [])
        if layer.momentum != 0.1:
            args.append(f"momentum={layer.momentum!r}")
        args += [f"{k}=True" for k in ("affine", "track_running_stats") if getattr(layer, k)]
        return f"nn.InstanceNorm{nd}d({', '.join(args)})"
    if kind == "layer_scale":
        use.add("LayerScale")
        return f"LayerScale({shape[0]}, {layer.init!r})"
    if kind == "affine":
        use.add("Affine")
        flags = "".join(f", {k}=False" for k in ("scale", "bias") if not getattr(layer, k))
        return f"Affine({shape[0]}{flags})"
    if kind == "stochastic_depth":
        use.add("StochasticDepth")
        return f"StochasticDepth({layer.p!r}{'' if layer.mode == 'row' else ', mode=' + _v(layer.mode)})"
    if kind == "pad":
        pads = _f_pad(layer.pads(shape))
        family = {"constant": "ConstantPad", "reflect": "ReflectionPad", "replicate": "ReplicationPad"}
        cls = family.get(layer.mode, "CircularPad") + f"{nd}d"
        return f"nn.{cls}({_v(pads)}, {layer.value!r})" if layer.mode == "constant" else f"nn.{cls}({_v(pads)})"
    if kind == "lrn":
        return f"nn.LocalResponseNorm({layer.size}, alpha={layer.alpha!r}, beta={layer.beta!r}, k={layer.k!r})"
    if kind in ("dropout", "dropout2d", "dropout3d"):
        return f"nn.{kind.capitalize()}({layer.p!r})"
    if kind == "leaky_relu":
        return f"nn.LeakyReLU({layer.negative_slope!r})"
    if kind == "gelu":
        return "nn.GELU()" if layer.approximate == "none" else f"nn.GELU(approximate={_v(layer.approximate)})"
    if kind in ("softmax", "log_softmax"):
        cls = "Softmax" if kind == "softmax" else "LogSoftmax"
        return f"nn.{cls}(dim={layer.dim + 1 if layer.dim >= 0 else layer.dim})"  # cnncalc's dims skip the batch
    if kind in ("elu", "celu"):
        return f"nn.{kind.upper()}({layer.alpha!r})"
    if kind == "softplus":
        return f"nn.Softplus({layer.beta!r}, {layer.threshold!r})"
    if kind == "hardtanh":
        return f"nn.Hardtanh({layer.min_val!r}, {layer.max_val!r})"
    if kind == "prelu":
        return f"nn.PReLU({layer.num_parameters})"
    if kind == "channel_shuffle":
        return f"nn.ChannelShuffle({layer.groups})"
    if kind == "pixel_shuffle":
        return f"nn.PixelShuffle({layer.upscale_factor})"
    if kind == "pixel_unshuffle":
        return f"nn.PixelUnshuffle({layer.downscale_factor})"
    if kind == "upsample":
        return _upsample_code(layer, use)
    simple = {
        "relu": "nn.ReLU()",
        "relu6": "nn.ReLU6()",
        "sigmoid": "nn.Sigmoid()",
        "tanh": "nn.Tanh()",
        "silu": "nn.SiLU()",
        "identity": "nn.Identity()",
        "hardswish": "nn.Hardswish()",
        "hardsigmoid": "nn.Hardsigmoid()",
        "mish": "nn.Mish()",
        "selu": "nn.SELU()",
    }
    if kind in simple:
        return simple[kind]
    from cnncalc.errors import CnncalcError

    raise CnncalcError(f"layer `{layer.path}`: cnncalc has no PyTorch export for the kind `{kind}` yet.", layer.source)


def _upsample_code(layer: Any, use: set[str]) -> str:
    corners = f", align_corners={layer.align_corners}" if layer.align_corners is not None else ""
    mode = f"mode={_v(layer.mode)}{corners}" if layer.mode != "nearest" else ""
    if layer.like is not None:
        use.add("InterpolateLike")
        return f"InterpolateLike({mode})"
    if layer.size is not None:
        target = f"size={_v(layer.size)}"
    else:
        scale = layer.scale_factor
        target = f"scale_factor={_v(tuple(float(s) for s in scale) if isinstance(scale, list) else float(scale))}"
    return f"nn.Upsample({target}{', ' + mode if mode else ''})"


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
        self.use: set[str] = set()  # the helper classes the file needs

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
                self.use.add(cls)
                self.add_module(layer.path, f"{cls}()")
                continue
            shape = self.shapes[layer.input_node]
            self.add_module(layer.path, leaf_code(layer, shape, self.use))
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
        ]
        helpers = [code.rstrip() for name, code in HELPERS.items() if name in self.use]
        if not any("F." in code for code in helpers):
            lines.remove("import torch.nn.functional as F")
        for code in helpers:
            lines += ["", code]
        lines += [""]
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
