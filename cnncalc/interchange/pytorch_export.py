"""PyTorch code out: a standalone, readable module file that imports only torch.

The module tree mirrors the spec's dotted names (`layer1.0.res.conv1` is
`model.layer1[0].res.conv1`): a block is one class whose keyword parameters are the block's
arguments (and what its uses resolve differently: a `when:` flag, a computed width), a `repeat` an
`nn.Sequential`, other structures and branches plain holders. `forward` is the spec's graph
written out node by node (as torch.fx's generated code is), so `from:`, merges and several
outputs need no special case. Concrete `weights:` are copied in by `build_model()`. Each leaf's
torch module comes from one function per layer class (`@torch_code`), as the executor's `@op`s.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from cnncalc.graph import Graph
from cnncalc.layers import BlockCall, Layer, Merge, Repeat, SplitSection, Structure
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
from cnncalc.layers.structure import ChannelConcat, ProductMerge, SumMerge
from cnncalc.registry import ClassRegistry
from cnncalc.shown import shown
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


def _v(value: Any) -> str:
    """A Python literal: per-dim lists as tuples."""
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_v(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, str):
        import json

        return json.dumps(value)  # double quotes, as ruff format writes them
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return f'{"-" if value < 0 else ""}float("inf")'  # repr's `inf` is no Python literal
    return repr(value)


def _f_pad(pairs: Any) -> tuple[int, ...]:
    """F.pad's order: last dimension first, (before, after) each."""
    return tuple(int(n) for pair in reversed(list(pairs)) for n in pair)


def _one(values: tuple[int, ...]) -> Any:
    """One per-dim argument as torch takes it: an int when all dims agree, else a tuple."""
    return values[0] if len(set(values)) == 1 else tuple(values)


def _symmetric(pads: Any) -> Any | None:
    """torch's `padding=` for [before, after] pairs that are equal, else None (uneven: an explicit Pad)."""
    return None if any(b != a for b, a in pads) else _one(tuple(b for b, _ in pads))


# --- one constructor function per layer class, as executor/ops.py has one forward function ---


@dataclass
class At:
    """Where a leaf is built: its input shape, the helper classes the file collects, whether it is in a block."""

    shape: tuple[int, ...]
    use: set[str]
    in_block: bool = False

    @property
    def nd(self) -> int:
        return len(self.shape) - 1


TorchCode = Callable[[Any, At], str]  # (layer, where) -> the constructor expression of its torch module
FamilyCode = Callable[[str, Any, At], str]  # the same, given the torch class's name first
TORCH_CODE: ClassRegistry[TorchCode] = ClassRegistry()
torch_code = TORCH_CODE.register  # `@torch_code(Conv)`: the constructor function of one or more layer classes


def torch_family(names: dict[type, str]) -> Callable[[FamilyCode], FamilyCode]:
    """Register one function for layer classes that differ only in the torch class each becomes (its first argument)."""

    def register(fn: FamilyCode) -> FamilyCode:
        for cls, name in names.items():
            TORCH_CODE[cls] = partial(fn, name)
        return fn

    return register


code_for = TORCH_CODE.for_  # a leaf's constructor function: its own class's, or a base class's (a leaf merge's rule)


def leaf_code(layer: Any, shape: tuple[int, ...], use: set[str], in_block: bool = False) -> str:
    """The constructor expression of a leaf's torch module; `use` collects the helper classes it needs."""
    code = code_for(layer)
    if code is None:
        from cnncalc.errors import CnncalcError

        message = f"layer `{layer.path}`: cnncalc has no PyTorch export for the kind `{layer.kind}` yet."
        raise CnncalcError(message, layer.source)
    return code(layer, At(shape, use, in_block))


def _padded(code: str, pads: Any, at: At, fill: str | None = None) -> str:
    """`code` behind an explicit Pad: uneven padding (TensorFlow's `same` with a stride) that `padding=` cannot say."""
    at.use.add("Pad")
    return f"nn.Sequential(Pad({_v(_f_pad(pads))}{'' if fill is None else ', ' + fill}), {code})"


def _eps(layer: Any) -> list[str]:
    """`eps=` unless it is torch's default."""
    return [f"eps={layer.eps!r}"] if layer.eps != 1e-5 else []


def _momentum(layer: Any) -> list[str]:
    """`momentum=` unless it is torch's default."""
    return [f"momentum={layer.momentum!r}"] if layer.momentum != 0.1 else []


@torch_code(Conv, ConvTranspose)
def _conv(layer: Any, at: At) -> str:
    g = layer.geometry(at.shape)
    transposed = isinstance(layer, ConvTranspose)
    padding = _symmetric(g.pads)
    args = [str(at.shape[0]), str(layer.out_channels), _v(_one(g.kernel))]
    for key, value, default in (
        ("stride", _one(g.stride), 1),
        ("padding", padding if padding is not None else 0, 0),
        ("output_padding", layer.output_padding if transposed else 0, 0),
        ("dilation", _one(g.dilation), 1),
        ("groups", layer.groups, 1),
        ("bias", layer.bias, True),
    ):
        if value != default or (at.in_block and key in ("stride", "padding", "groups")):  # a block: one form per use
            args.append(f"{key}={_v(value)}")
    code = f"nn.{'ConvTranspose' if transposed else 'Conv'}{at.nd}d({', '.join(args)})"
    if padding is None and not transposed:
        return _padded(code, g.pads, at)
    if padding is None:  # a transposed conv's uneven padding crops its output
        at.use.add("Crop")
        return f"nn.Sequential({code}, Crop({_v(tuple(g.pads))}))"
    return code


def _window_args(layer: Any, g: Any, padding: Any) -> list[str]:
    """A window pool's kernel, stride, even padding, dilation and ceil_mode, each only when torch needs it."""
    args = [_v(_one(g.kernel)), f"stride={_v(_one(g.stride))}"]
    if padding not in (None, 0):
        args.append(f"padding={_v(padding)}")
    if any(d != 1 for d in g.dilation):
        args.append(f"dilation={_v(_one(g.dilation))}")
    if layer.ceil_mode:
        args.append("ceil_mode=True")
    return args


@torch_code(MaxPool, MinPool)
def _max_pool(layer: Any, at: At) -> str:
    g = layer.geometry(at.shape)
    padding = _symmetric(g.pads)
    code = f"nn.MaxPool{at.nd}d({', '.join(_window_args(layer, g, padding))})"
    if padding is None:
        code = _padded(code, g.pads, at, '-float("inf")')  # a padded cell never wins the max
    if isinstance(layer, MinPool):
        at.use.add("MinPool")
        return f"MinPool({code})"
    return code


@torch_code(AvgPool)
def _avg_pool(layer: Any, at: At) -> str:
    g = layer.geometry(at.shape)
    padding = _symmetric(g.pads)
    args = _window_args(layer, g, padding)
    if padding is not None and not layer.counts_padding():
        args.append("count_include_pad=False")
    code = f"nn.AvgPool{at.nd}d({', '.join(args)})"
    if padding is None and layer.counts_padding():
        return _padded(code, g.pads, at)
    if padding is None:
        at.use.add("PadOutOfDivisor")
        return f"PadOutOfDivisor({_v(_f_pad(g.pads))}, {code})"
    return code


@torch_code(LPPool)
def _lp_pool(layer: Any, at: At) -> str:
    stride = layer.stride if layer.stride is not None else layer.kernel_size
    ceil = ", ceil_mode=True" if layer.ceil_mode else ""
    return f"nn.LPPool{at.nd}d({layer.norm_type!r}, {_v(layer.kernel_size)}, stride={_v(stride)}{ceil})"


@torch_family({AdaptiveAvgPool: "AdaptiveAvgPool", AdaptiveMaxPool: "AdaptiveMaxPool"})
def _adaptive_pool(name: str, layer: Any, at: At) -> str:
    return f"nn.{name}{at.nd}d({_v(layer.output_size)})"


@torch_family({GlobalAvgPool: "AdaptiveAvgPool", GlobalMaxPool: "AdaptiveMaxPool"})
def _global_pool(name: str, layer: Any, at: At) -> str:
    return f"nn.{name}{at.nd}d(1)"


@torch_code(Linear)
def _linear(layer: Any, at: At) -> str:
    return f"nn.Linear({at.shape[0]}, {layer.out_features}{'' if layer.bias else ', bias=False'})"


@torch_code(BatchNorm)
def _batch_norm(layer: Any, at: At) -> str:
    c = at.shape[0]
    if layer.frozen:
        at.use.add("FrozenBatchNorm")
        return f"FrozenBatchNorm({', '.join([str(c), *_eps(layer)])})"
    if layer.affine and not (layer.scale and layer.center):
        at.use.add("PartialBatchNorm")
        return f"PartialBatchNorm({c}, {layer.eps!r}, scale={layer.scale}, center={layer.center})"
    args = [str(c), *_eps(layer), *_momentum(layer), *([] if layer.affine else ["affine=False"])]
    return f"nn.BatchNorm{max(at.nd, 1)}d({', '.join(args)})"


@torch_code(LayerNorm)
def _layer_norm(layer: Any, at: At) -> str:
    args = [str(at.shape[0]), *_eps(layer), *([] if layer.elementwise_affine else ["elementwise_affine=False"])]
    if at.nd == 0:
        return f"nn.LayerNorm({', '.join(args)})"
    at.use.add("LayerNorm2d")
    return f"LayerNorm2d({', '.join(args)})"


@torch_code(GroupNorm)
def _group_norm(layer: Any, at: At) -> str:
    args = [str(layer.num_groups), str(at.shape[0]), *_eps(layer), *([] if layer.affine else ["affine=False"])]
    return f"nn.GroupNorm({', '.join(args)})"


@torch_code(InstanceNorm)
def _instance_norm(layer: Any, at: At) -> str:
    args = [str(at.shape[0]), *_eps(layer), *_momentum(layer)]
    args += [f"{k}=True" for k in ("affine", "track_running_stats") if getattr(layer, k)]
    return f"nn.InstanceNorm{at.nd}d({', '.join(args)})"


@torch_code(LayerScale)
def _layer_scale(layer: Any, at: At) -> str:
    at.use.add("LayerScale")
    return f"LayerScale({at.shape[0]}, {layer.init!r})"


@torch_code(Affine)
def _affine(layer: Any, at: At) -> str:
    at.use.add("Affine")
    flags = "".join(f", {k}=False" for k in ("scale", "bias") if not getattr(layer, k))
    return f"Affine({at.shape[0]}{flags})"


@torch_code(StochasticDepth)
def _stochastic_depth(layer: Any, at: At) -> str:
    at.use.add("StochasticDepth")
    return f"StochasticDepth({layer.p!r}{'' if layer.mode == 'row' else ', mode=' + _v(layer.mode)})"


_PADS = {  # the torch module of each padding mode
    "constant": "ConstantPad",
    "reflect": "ReflectionPad",
    "replicate": "ReplicationPad",
    "circular": "CircularPad",
}


@torch_code(Pad)
def _pad(layer: Any, at: At) -> str:
    pads = _v(_f_pad(layer.pads(at.shape)))
    value = f", {_v(layer.value)}" if layer.mode == "constant" else ""
    return f"nn.{_PADS[layer.mode]}{at.nd}d({pads}{value})"


@torch_code(LRN)
def _lrn(layer: Any, at: At) -> str:
    return f"nn.LocalResponseNorm({layer.size}, alpha={layer.alpha!r}, beta={layer.beta!r}, k={layer.k!r})"


@torch_family({Dropout: "Dropout", Dropout2d: "Dropout2d", Dropout3d: "Dropout3d"})
def _dropout(name: str, layer: Any, at: At) -> str:
    return f"nn.{name}({layer.p!r})"


@torch_code(LeakyReLU)
def _leaky_relu(layer: Any, at: At) -> str:
    return f"nn.LeakyReLU({layer.negative_slope!r})"


@torch_code(GELU)
def _gelu(layer: Any, at: At) -> str:
    return "nn.GELU()" if layer.approximate == "none" else f"nn.GELU(approximate={_v(layer.approximate)})"


@torch_family({Softmax: "Softmax", LogSoftmax: "LogSoftmax"})
def _softmax(name: str, layer: Any, at: At) -> str:
    return f"nn.{name}(dim={layer.dim + 1 if layer.dim >= 0 else layer.dim})"  # cnncalc's dims skip the batch


@torch_family({ELU: "ELU", CELU: "CELU"})
def _elu(name: str, layer: Any, at: At) -> str:
    return f"nn.{name}({layer.alpha!r})"


@torch_code(Softplus)
def _softplus(layer: Any, at: At) -> str:
    return f"nn.Softplus({layer.beta!r}, {layer.threshold!r})"


@torch_code(Hardtanh)
def _hardtanh(layer: Any, at: At) -> str:
    return f"nn.Hardtanh({layer.min_val!r}, {layer.max_val!r})"


@torch_code(PReLU)
def _prelu(layer: Any, at: At) -> str:
    return f"nn.PReLU({layer.num_parameters})"


@torch_code(ChannelShuffle)
def _channel_shuffle(layer: Any, at: At) -> str:
    return f"nn.ChannelShuffle({layer.groups})"


@torch_code(PixelShuffle)
def _pixel_shuffle(layer: Any, at: At) -> str:
    return f"nn.PixelShuffle({layer.upscale_factor})"


@torch_code(PixelUnshuffle)
def _pixel_unshuffle(layer: Any, at: At) -> str:
    return f"nn.PixelUnshuffle({layer.downscale_factor})"


@torch_code(Upsample)
def _upsample(layer: Any, at: At) -> str:
    corners = f", align_corners={layer.align_corners}" if layer.align_corners is not None else ""
    mode = f"mode={_v(layer.mode)}{corners}" if layer.mode != "nearest" else ""
    if layer.like is not None:
        at.use.add("InterpolateLike")
        return f"InterpolateLike({mode})"
    if layer.size is not None:
        target = f"size={_v(layer.size)}"
    else:
        scale = layer.scale_factor
        target = f"scale_factor={_v(tuple(float(s) for s in scale) if isinstance(scale, list) else float(scale))}"
    return f"nn.Upsample({target}{', ' + mode if mode else ''})"


@torch_family({SumMerge: "Add", ProductMerge: "Multiply", ChannelConcat: "Concat"})
def _merge(name: str, layer: Any, at: At) -> str:
    at.use.add(name)  # `add: {from: [a, b]}`: a helper module taking several inputs
    return f"{name}()"


@torch_family(
    {
        Flatten: "Flatten",
        ReLU: "ReLU",
        ReLU6: "ReLU6",
        Sigmoid: "Sigmoid",
        Tanh: "Tanh",
        SiLU: "SiLU",
        Identity: "Identity",
        Hardswish: "Hardswish",
        Hardsigmoid: "Hardsigmoid",
        Mish: "Mish",
        SELU: "SELU",
    }
)
def _no_arguments(name: str, layer: Any, at: At) -> str:
    return f"nn.{name}()"


def _class_name(text: str) -> str:
    name = "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)
    return name if name and name[0].isalpha() else f"Block{name}"


def _is_attribute(name: str) -> bool:
    # ASCII only: Python folds other identifiers (NFKC), so `ａ` would be the attribute `a`
    return name.isascii() and name.isidentifier() and not keyword.iskeyword(name)


def _access(path: str, sequential: set[str]) -> str:
    """`self.layer1[0].res.conv1`: attributes, or an index into an nn.Sequential."""
    out, prefix = "self", ""
    for part in path.split("."):
        if prefix in sequential and part.isdigit():
            out += f"[{part}]"
        elif _is_attribute(part):
            out += f".{part}"
        else:
            return f"self.get_submodule({_v(path)})"
        prefix = f"{prefix}.{part}" if prefix else part
    return out


def _var(graph: Graph, index: int) -> str:
    """A short local name: the layer's own name and its node number (`conv1_5`)."""
    if index == 0:
        return "x"
    name = re.sub(r"\W", "_", graph.nodes[index].name.rsplit(".", 1)[-1], flags=re.ASCII)
    return f"{name}_{index}" if name[:1].isalpha() or name[:1] == "_" else f"n{name}_{index}"


_TOKEN = re.compile(r'(?<![\w.])(-?\d+\.\d+(?:e-?\d+)?|-?\d+(?:e-?\d+)?|True|False|None|"[^"\\]*")(?![\w.])')


@dataclass
class _Use:
    """One use of a block: its argument values and its __init__ statements (`key` -> code or a nested call)."""

    args: dict[str, Any]
    statements: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Class:
    """A block's class: its uses, then (once resolved) its parameters and __init__ body."""

    name: str
    block: str
    uses: list[_Use] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)  # per use: parameter -> value
    body: list[str] = field(default_factory=list)
    resolved: bool = False


def _identifier(text: str) -> str:
    name = re.sub(r"\W", "_", text, flags=re.ASCII)
    name = name if name[:1].isalpha() or name[:1] == "_" else f"n{name}"
    return f"{name}_" if keyword.iskeyword(name) else name


def _call(head: str, func: str, kwargs: list[str], indent: str, tail: str = "", limit: int = 120) -> str:
    """`head = func(k=v, ...)` as ruff format writes it: one line, the arguments on one line, or one a line."""
    line = f"{indent}{head}{func}({', '.join(kwargs)}){tail}"
    if len(line) <= limit:
        return line
    inner = f"{indent}    {', '.join(kwargs)}"
    if len(inner) <= 120:
        return f"{indent}{head}{func}(\n{inner}\n{indent}){tail}"
    return f"{indent}{head}{func}(\n" + "".join(f"{indent}    {k},\n" for k in kwargs) + f"{indent}){tail}"


class _Writer:
    def __init__(self, spec: Spec):
        self.spec = spec
        self.graph = spec.graph
        self.shapes = spec.graph.shapes()
        self.classes: dict[str, _Class] = {}
        self.sequential: set[str] = set()
        self.weights: list[str] = []
        self.use: set[str] = set()  # the helper classes the file needs
        self._roots: dict[tuple[str, int], str] = {}  # (class, use) -> the use's layer path
        self.order: list[_Class] = []  # classes as resolved: nested blocks first
        self.resolving: set[str] = set()

    # --- pass 1: every module's constructor, per scope (the network, or one block use) ---

    def tree(self, layers: list[Layer], scope: _Use, root: str) -> None:
        for layer in layers:
            if isinstance(layer, BlockCall):
                cls = self.classes.setdefault(layer.block, _Class(_class_name(layer.block), layer.block))
                use = _Use(self.block_args(layer))
                cls.uses.append(use)
                self._roots[(cls.name, len(cls.uses) - 1)] = layer.path
                self.holders(layer.path, scope, root)
                scope.statements[self.rel(layer.path, root)] = (cls, len(cls.uses) - 1)
                for group in layer.groups():
                    self.tree(group, use, layer.path)
                continue
            if isinstance(layer, Structure):
                if isinstance(layer, Repeat):
                    self.sequential.add(layer.path)
                code = "nn.Sequential()" if isinstance(layer, Repeat) else f"nn.Module()  # {layer.kind}"
                self.holders(layer.path, scope, root)
                scope.statements.setdefault(self.rel(layer.path, root), code)
                for group in layer.groups():
                    self.tree(group, scope, root)
                continue
            code = leaf_code(layer, self.shapes[layer.input_node], self.use, in_block=bool(root))
            self.holders(layer.path, scope, root)
            scope.statements[self.rel(layer.path, root)] = code
            for key, attr in (("weights", "weight"), ("bias_values", "bias")):
                values = getattr(layer, key, None)
                if values is not None:
                    self.weights.append(f'    _set(model.get_submodule({_v(layer.path)}), "{attr}", {values!r})')

    def block_args(self, use: BlockCall) -> dict[str, Any]:
        """The use's argument values after evaluation: given, or the block's default (evaluated for this use)."""
        from cnncalc.spec.substitute import Env, substitute

        values: dict[str, Any] = {"in_channels": self.shapes[use.input_node][0]}
        block = self.spec.blocks.get(use.block)
        defaults = dict(getattr(block, "defaults", {}) or {})
        for name in [*defaults, *use.args]:
            if name in use.args:
                values[name] = use.args[name]
            elif name not in values:
                try:
                    values[name] = substitute(defaults[name], Env(dict(values), use.block), block.pos)  # type: ignore[union-attr]
                except Exception:  # an expression this use cannot evaluate here: not a parameter
                    continue
        return {k: v for k, v in values.items() if v is None or isinstance(v, (int, float, str, bool))}

    def rel(self, path: str, root: str) -> str:
        return path[len(root) + 1 :] if root else path

    def holders(self, path: str, scope: _Use, root: str) -> None:
        """Plain holder modules for the dotted path's parents inside the scope (a layer nested in a residual)."""
        parts = self.rel(path, root).split(".")
        for i in range(1, len(parts)):
            scope.statements.setdefault(".".join(parts[:i]), "nn.Module()")

    # --- pass 2: statements as code; a class's statements parameterised over its uses ---

    def assign(self, rel: str, code: str, root: str, indent: str = "        ", wrap: bool = True) -> str:
        """`self.a.b = MODULE`, or add_module for a name that is not an attribute (a repeat's `0`)."""
        code, _, comment = code.partition("  # ")
        comment = f"  # {comment}" if comment else ""
        target, name, by_name = self.child(rel, root)
        line = f"{indent}{target}.add_module({_v(name)}, {code})" if by_name else f"{indent}{target}.{name} = {code}"
        if wrap and len(line) > 120:  # a deep path: name the holder first
            holder = f"{indent}holder = self.get_submodule({_v(rel.rpartition('.')[0])})"
            line = holder + "\n" + line.replace(target, "holder", 1)
        return line + (comment if len(line.rsplit("\n", 1)[-1]) + len(comment) <= 120 else "")

    def child(self, rel: str, root: str) -> tuple[str, str, bool]:
        """The parent module's expression, the child's name, and whether only add_module can name it (`0`)."""
        parent, _, name = rel.rpartition(".")
        absolute = f"{root}.{parent}" if root and parent else root or parent
        target = self.access(parent, root) if parent else "self"
        return target, name, absolute in self.sequential or not _is_attribute(name)

    def access(self, rel: str, root: str) -> str:
        sequential = {
            p[len(root) + 1 :] if root else p for p in self.sequential if not root or p.startswith(root + ".")
        }
        return _access(rel, sequential)

    def statement(self, rel: str, value: Any, root: str, indent: str = "        ", wrap: bool = True) -> str:
        """One module's line(s); unwrapped (`wrap=False`) for a class body, wrapped once parameterised."""
        limit = 120 if wrap else 10**9
        if isinstance(value, str):
            return self.assign(rel, value, root, indent, wrap)
        cls, index = value
        if cls.name in self.resolving:  # a block inside itself (U-Net's levels): this use's layers inline
            use = cls.uses[index]
            parts = [self.assign(rel, f"nn.Module()  # block {shown(cls.block)}", root, indent, wrap)]
            parts += [self.statement(f"{rel}.{k}", v, root, indent, wrap) for k, v in use.statements.items()]
            return "\n".join(parts)
        self.resolve(cls)
        kwargs = [f"{p}={_v(cls.values[index][p])}" for p in cls.params]
        target, name, by_name = self.child(rel, root)
        if by_name:
            return (
                _call("block = ", cls.name, kwargs, indent, limit=limit)
                + f"\n{indent}{target}.add_module({_v(name)}, block)"
            )
        return _call(f"{target}.{name} = ", cls.name, kwargs, indent, limit=limit)

    def resolve(self, cls: _Class) -> None:
        """The class's parameters and body: what differs between its uses becomes an argument or a condition."""
        if cls.resolved:
            return
        cls.resolved = True
        roots = [self.use_root(cls, i) for i in range(len(cls.uses))]
        keys = [list(use.statements) for use in cls.uses]
        args = [dict(use.args) for use in cls.uses]
        shared = [name for name in args[0] if all(name in a for a in args)]
        extra: dict[str, list[Any]] = {}  # generated parameters: name -> value per use
        body: list[str] = []
        condition: str | None = None
        self.resolving.add(cls.name)
        for key in _merged_keys(keys):
            present = [key in use.statements for use in cls.uses]

            def render(indent: str, key: str = key) -> list[str | None]:
                return [
                    self.statement(key, use.statements[key], roots[i], indent, wrap=False)
                    if key in use.statements
                    else None
                    for i, use in enumerate(cls.uses)
                ]

            if all(present):
                body += self.parameterised(key, render, "        ", args, shared, extra)
                condition = None
                continue
            same = next((n for n, v in extra.items() if n.startswith("has_") and v == present), None)
            cond = _find_param(present, args, shared) or same or _new_param(f"has_{key}", present, extra, shared)
            if cond != condition:  # consecutive layers under one `when:` share one `if`
                body.append(f"        if {cond}:")
            body += self.parameterised(key, render, "            ", args, shared, extra)
            condition = cond
        self.resolving.discard(cls.name)
        cls.params = [*shared, *extra]
        cls.values = [{**{k: a[k] for k in shared}, **{k: v[i] for k, v in extra.items()}} for i, a in enumerate(args)]
        cls.body = body
        self.order.append(cls)

    def use_root(self, cls: _Class, index: int) -> str:
        return self._roots[(cls.name, index)]

    def parameterised(
        self,
        key: str,
        render: Any,
        indent: str,
        args: list[dict[str, Any]],
        shared: list[str],
        extra: dict[str, list[Any]],
    ) -> list[str]:
        """The statement for `key`, its numbers written as parameters where they differ between uses."""
        texts = render(indent)
        uses = [i for i, t in enumerate(texts) if t is not None]
        if len({_TOKEN.sub("{}", texts[i]) for i in uses}) > 1:  # variants: an if/elif chain, one level deeper
            texts = render(indent + "    ")
        templates = {i: _TOKEN.sub("{}", texts[i]) for i in uses}
        tokens = {i: _TOKEN.findall(texts[i]) for i in uses}
        groups: dict[str, list[int]] = {}
        for i in uses:
            groups.setdefault(templates[i], []).append(i)
        variants = []
        for template, members in groups.items():
            filled = []
            for slot in range(len(tokens[members[0]])):
                values = [tokens[i][slot] for i in members]
                if len(set(values)) == 1:
                    filled.append(values[0])
                    continue
                numbers = {i: _literal(tokens[i][slot]) for i in members}
                choice = template.split("{}")[slot].endswith("_variant=")  # an index, not a quantity
                filled.append(
                    (None if choice else _expression(numbers, args, shared))
                    or _new_param(f"{key}_{slot}", [numbers.get(i) for i in range(len(texts))], extra, shared)
                )
            escaped = template.replace("{", "{{").replace("}", "}}").replace("{{}}", "{}")
            variants.append((members, "\n".join(_rewrap(line) for line in escaped.format(*filled).split("\n"))))
        if len(variants) == 1:
            return variants[0][1].split("\n")
        chooser = next(
            (
                name
                for name in shared
                if all(len({args[i][name] for i in m}) == 1 for m, _ in variants)
                and len({args[m[0]][name] for m, _ in variants}) == len(variants)
            ),
            None,
        )
        if chooser is None:
            which = [next((n for n, (m, _) in enumerate(variants) if i in m), 0) for i in range(len(texts))]
            chooser_expr = _new_param(f"{key}_variant", which, extra, shared)
            tests = [f"{chooser_expr} == {n}" for n in range(len(variants))]
        else:
            tests = [f"{chooser} == {_v(args[m[0]][chooser])}" for m, _ in variants]
        lines: list[str] = []
        for n, ((_, code), test) in enumerate(zip(variants, tests)):
            lines.append(
                f"{indent}else:" if n == len(variants) - 1 else f"{indent}{'if' if n == 0 else 'elif'} {test}:"
            )
            lines += code.split("\n")
        return lines

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
                    lines.append(f"        {out} = torch.cat([{', '.join(ins)}], dim=1)  # {shown(op.path)}")
                else:
                    symbol = " * " if isinstance(op, ProductMerge) else " + "
                    lines.append(f"        {out} = {symbol.join(ins)}  # {shown(op.path)}")
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

        top = _Use({})
        self.tree(self.spec.layers, top, "")
        init = [self.statement(key, value, "") for key, value in top.statements.items()]  # resolves the classes
        # escaped, then its backslashes doubled: in a docstring `\x1b` or `\N` would be escapes again
        title = shown(self.spec.name).replace("\\", "\\\\").replace('"""', "'''")
        returns = "torch.Tensor" if len(self.graph.outputs) == 1 else "tuple[torch.Tensor, ...]"
        shape = ", ".join(map(str, self.spec.input_shape))
        summary = f"{title}: written by `cnncalc export --to pytorch` (input [N, {shape}])."
        if len(summary) > 110:  # the generated file passes ruff (lines of at most 120): the title on a line of its own
            summary = f"{title}\n\nWritten by `cnncalc export --to pytorch` (input [N, {shape}]).\n"
        lines = [
            f'"""{summary}"""',
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
        for cls in self.order:
            lines += ["", *_class_code(cls), ""]
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
            f'    """The network, taking [N, {shape}]."""',
            "    model = Network()",
            *self.weights,
            "    return model",
        ]
        return "\n".join(lines) + "\n"


def _annotated(name: str, values: list[Any]) -> str:
    kinds = {type(v) for v in values}
    return f"{name}: {kinds.pop().__name__}" if len(kinds) == 1 and None not in values else name


def _class_code(cls: _Class) -> list[str]:
    """A block's class: keyword parameters (the block's arguments, then what its uses resolve), its layers."""

    params = ["self", "*", *(_annotated(p, [v[p] for v in cls.values]) for p in cls.params)]
    block = shown(cls.block).replace('"""', "'" * 3)
    return [
        f"class {cls.name}(nn.Module):",
        f'    """Block `{block}` of the spec: the layers of one use, built from its arguments."""',
        "",
        _call("def ", "__init__", params, "    ", " -> None:"),
        "        super().__init__()",
        *cls.body,
    ]


_CALL_LINE = re.compile(r"^(\s*)((?:[\w.]+|self\.get_submodule\(\"[^\"]*\"\)[\w.]*) = )?([\w.]+)\((.*)\)$")


def _rewrap(line: str) -> str:
    """A `target = call(...)` line that a parameter name made longer than 120, wrapped as ruff format would."""
    found = _CALL_LINE.match(line)
    if len(line) <= 120 or found is None:
        return line
    indent, head, func, inner = found.groups()
    head = head or ""
    args, depth, current = [], 0, ""
    for char in inner:
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            args.append(current.strip())
            current = ""
        else:
            current += char
    args.append(current.strip())
    return _call(head, func, args, indent)


def _merged_keys(orders: list[list[str]]) -> list[str]:
    """Every use's statement keys in one order that keeps each use's own order (a `when:` layer in its place)."""
    merged: list[str] = []
    for order in orders:
        previous = -1
        for key in order:
            if key in merged:
                previous = merged.index(key)
            else:
                previous += 1
                merged.insert(previous, key)
    return merged


def _literal(token: str) -> Any:
    import ast

    return ast.literal_eval(token)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b  # True is not 1 here


def _find_param(present: list[bool], args: list[dict[str, Any]], shared: list[str]) -> str | None:
    """A block argument that says whether each use has the layer (`when: $se`), or its negation."""
    for name in shared:
        values = [a[name] for a in args]
        if all(isinstance(v, bool) for v in values):
            if values == present:
                return name
            if [not v for v in values] == present:
                return f"not {name}"
        elif all(isinstance(v, str) for v in values):  # `- $act`: the layer each use names
            chosen = {v for v, here in zip(values, present) if here}
            if len(chosen) == 1 and all((v in chosen) == here for v, here in zip(values, present)):
                return f"{name} == {_v(chosen.pop())}"
    return None


def _expression(numbers: dict[int, Any], args: list[dict[str, Any]], shared: list[str]) -> str | None:
    """`width`, `width * 4` or `exp // 4` when a block argument gives this number in every use."""
    for name in shared:
        values = {i: args[i][name] for i in numbers}
        if all(_same(values[i], n) for i, n in numbers.items()):
            return name
    for name in shared:
        values = {i: args[i][name] for i in numbers}
        if not all(type(v) is int for v in [*values.values(), *numbers.values()]):
            continue
        for k in range(2, 9):
            if all(values[i] * k == n for i, n in numbers.items()):
                return f"{name} * {k}"
            if all(values[i] // k == n for i, n in numbers.items()):
                return f"{name} // {k}"
    return None


def _new_param(name: str, values: list[Any], extra: dict[str, list[Any]], shared: list[str]) -> str:
    """A parameter of the class that no block argument gives: each use passes its resolved value."""
    base = _identifier(name.replace(".", "_"))
    found, n = base, 1
    while found in extra or found in shared:
        if extra.get(found) == values:
            return found
        n += 1
        found = f"{base}_{n}"
    extra[found] = values
    return found


def export_pytorch(spec: Spec) -> str:
    """The spec as PyTorch code (a string): `build_model()` returns the network."""
    return _Writer(spec).write()
