"""A PyTorch twin of a cnncalc spec: real torch.nn modules, measured by PyTorch itself.

`measure(spec)` builds the twin and reports, per leaf layer path, the output shape
(forward hooks), the parameters (`numel` of the module's parameters) and the MACs
(torch.utils.flop_counter.FlopCounterMode per module, FLOPs / 2). The twin reads only
the spec's raw arguments (never cnncalc's arithmetic), so it is an independent oracle.
Needs torch; the tests that use it skip without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnncalc.layers import Layer, Merge, SplitSection, Structure
from cnncalc.layers.structure import ChannelConcat, ProductMerge, SumMerge
from cnncalc.spec.model import Spec

Shape = tuple[int, ...]
# kind -> builder(layer, input shape without the batch) -> module
LeafBuilder = Callable[[Any, Shape], nn.Module]


@dataclass
class LeafMeasure:
    """What PyTorch says about one leaf layer."""

    output_shape: Shape
    params: int
    macs: int


@dataclass
class TorchMeasure:
    """What PyTorch says about a whole spec."""

    output_shape: Shape
    params: int
    macs: int
    leaves: dict[str, LeafMeasure] = field(default_factory=dict)


# --- leaf modules ---------------------------------------------------------------


def _nd(shape: Shape) -> int:
    """Spatial dimensions of a channels-first shape (0 for a flat [F])."""
    return len(shape) - 1


def _ints(value: Any) -> Any:
    """cnncalc's int-or-list argument as torch takes it (an int or a tuple)."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _per_side(padding: Any) -> list[tuple[int, int]] | None:
    """`[[before, after], ...]` padding as pairs, or None for symmetric/'same'/'valid'."""
    if isinstance(padding, (list, tuple)) and padding and isinstance(padding[0], (list, tuple)):
        return [tuple(pair) for pair in padding]
    return None


def _f_pad(pairs: list[tuple[int, int]]) -> tuple[int, ...]:
    """F.pad's order: last dimension first, (before, after) each."""
    return tuple(n for pair in reversed(pairs) for n in pair)


class MinPool(nn.Module):
    """Min pooling the way PyTorch users write it: -max_pool(-x)."""

    def __init__(self, pool: nn.Module):
        super().__init__()
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -self.pool(-x)


class PadThen(nn.Module):
    """Explicit per-side padding (F.pad, zeros or `value`), then the wrapped module."""

    def __init__(self, pads: tuple[int, ...], inner: nn.Module, value: float = 0.0):
        super().__init__()
        self.pads, self.inner, self.value = pads, inner, value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(F.pad(x, self.pads, value=self.value))


class PaddingOutOfDivisor(nn.Module):
    """TensorFlow's average pooling with `same`: the window sum over the real cells only."""

    def __init__(self, pads: tuple[int, ...], pool: nn.Module):
        super().__init__()
        self.pads, self.pool = pads, pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ones = torch.ones_like(x[:, :1])
        return self.pool(F.pad(x, self.pads)) / self.pool(F.pad(ones, self.pads))


class ThenCrop(nn.Module):
    """The wrapped module, then per-side cropping (a transposed conv's uneven padding)."""

    def __init__(self, inner: nn.Module, pairs: list[tuple[int, int]]):
        super().__init__()
        self.inner, self.pairs = inner, pairs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.inner(x)
        index = [slice(None), slice(None)] + [slice(b, y.shape[2 + i] - a) for i, (b, a) in enumerate(self.pairs)]
        return y[tuple(index)]


def _tf_same(layer: Any, shape: Shape) -> list[tuple[int, int]] | None:
    """TensorFlow's `same` pads, computed here from TF's documented rule, for strides PyTorch refuses
    (`always`: pooling, which has no `same` in PyTorch): out = ceil(in/s), the odd cell after."""
    if layer.padding == "valid":
        return [(0, 0)] * _nd(shape)
    if layer.padding != "same":
        return None
    nd = _nd(shape)
    kernel = _each(layer.kernel_size, nd)
    stride = _each(layer.stride if layer.stride is not None else layer.kernel_size, nd)
    dilation = _each(getattr(layer, "dilation", 1), nd)
    pairs = []
    for n, k, s, d in zip(shape[1:], kernel, stride, dilation):
        out = (n + s - 1) // s
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - n)
        pairs.append((total // 2, total - total // 2))
    return pairs


def _each(value: Any, nd: int) -> list[int]:
    return list(value) if isinstance(value, (list, tuple)) else [value] * nd


def _conv(layer: Any, shape: Shape) -> nn.Module:
    cls = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[_nd(shape) - 1]
    stride = _each(layer.stride, _nd(shape))
    pairs = _per_side(layer.padding) or (_tf_same(layer, shape) if max(stride) > 1 else None)
    padding = 0 if pairs else _ints(layer.padding)
    conv = cls(
        shape[0],
        layer.out_channels,
        _ints(layer.kernel_size),
        stride=_ints(layer.stride),
        padding=padding,
        dilation=_ints(layer.dilation),
        groups=layer.groups,
        bias=layer.bias,
    )
    return PadThen(_f_pad(pairs), conv) if pairs else conv


def _conv_transpose(layer: Any, shape: Shape) -> nn.Module:
    cls = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)[_nd(shape) - 1]
    pairs = _per_side(layer.padding)
    conv = cls(
        shape[0],
        layer.out_channels,
        _ints(layer.kernel_size),
        stride=_ints(layer.stride),
        padding=0 if pairs else _ints(layer.padding),
        output_padding=_ints(layer.output_padding),
        dilation=_ints(layer.dilation),
        groups=layer.groups,
        bias=layer.bias,
    )
    return ThenCrop(conv, pairs) if pairs else conv


def _maxpool(layer: Any, shape: Shape) -> nn.Module:
    cls = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)[_nd(shape) - 1]
    pairs = _per_side(layer.padding) or _tf_same(layer, shape)
    pool = cls(
        _ints(layer.kernel_size),
        stride=_ints(layer.stride),
        padding=0 if pairs else _ints(layer.padding),
        dilation=_ints(layer.dilation),
        ceil_mode=layer.ceil_mode,
    )
    return PadThen(_f_pad(pairs), pool, -float("inf")) if pairs else pool


def _avgpool(layer: Any, shape: Shape) -> nn.Module:
    cls = (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)[_nd(shape) - 1]
    pairs = _per_side(layer.padding) or _tf_same(layer, shape)
    pool = cls(
        _ints(layer.kernel_size),
        stride=_ints(layer.stride),
        padding=0 if pairs else _ints(layer.padding),
        ceil_mode=layer.ceil_mode,
        count_include_pad=True if pairs else layer.count_include_pad,
    )
    if not pairs:
        return pool
    if layer.padding == "same" or not layer.count_include_pad:  # TensorFlow leaves `same` padding out
        return PaddingOutOfDivisor(_f_pad(pairs), pool)
    return PadThen(_f_pad(pairs), pool)


def _lppool(layer: Any, shape: Shape) -> nn.Module:
    cls = (nn.LPPool1d, nn.LPPool2d, nn.LPPool3d)[_nd(shape) - 1]
    return cls(layer.norm_type, _ints(layer.kernel_size), stride=_ints(layer.stride), ceil_mode=layer.ceil_mode)


def _adaptive(avg: bool) -> LeafBuilder:
    def build(layer: Any, shape: Shape) -> nn.Module:
        family = (
            (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)
            if avg
            else (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)
        )
        return family[_nd(shape) - 1](_ints(layer.output_size))

    return build


def _global(avg: bool) -> LeafBuilder:
    def build(layer: Any, shape: Shape) -> nn.Module:
        family = (
            (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)
            if avg
            else (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)
        )
        return family[_nd(shape) - 1](1)

    return build


class PartialBatchNorm(nn.Module):
    """Keras's BatchNormalization with `scale=False` or `center=False`: gamma or beta missing."""

    def __init__(self, channels: int, eps: float, scale: bool, center: bool):
        super().__init__()
        self.eps = eps
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)


class FrozenBatchNorm(nn.Module):
    """torchvision.ops.FrozenBatchNorm2d for any rank: weight, bias and statistics are all buffers."""

    def __init__(self, channels: int, eps: float):
        super().__init__()
        self.eps = eps
        for name, init in (("weight", 1.0), ("bias", 0.0), ("running_mean", 0.0), ("running_var", 1.0)):
            self.register_buffer(name, torch.full((channels,), init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)


def _batchnorm(layer: Any, shape: Shape) -> nn.Module:
    if layer.frozen:
        if _nd(shape) == 2:
            from torchvision.ops.misc import FrozenBatchNorm2d

            return FrozenBatchNorm2d(shape[0], eps=layer.eps)
        return FrozenBatchNorm(shape[0], layer.eps)
    if layer.affine and not (layer.scale and layer.center):
        return PartialBatchNorm(shape[0], layer.eps, layer.scale, layer.center)
    cls = (nn.BatchNorm1d, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)[_nd(shape)]
    return cls(shape[0], eps=layer.eps, momentum=layer.momentum, affine=layer.affine)


class ChannelsLayerNorm(nn.LayerNorm):
    """torchvision's LayerNorm2d (convnext.py), for any rank: LayerNorm over the channels at each position."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.movedim(1, -1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.movedim(-1, 1)


def _layernorm(layer: Any, shape: Shape) -> nn.Module:
    cls = nn.LayerNorm if len(shape) == 1 else ChannelsLayerNorm
    return cls(shape[0], eps=layer.eps, elementwise_affine=layer.elementwise_affine)


class ChannelVector(nn.Module):
    """x * weight[c] and/or + bias[c]: ConvNeXt's layer scale (`gamma`), Caffe's Scale layer."""

    def __init__(self, channels: int, names: tuple[str, ...], init: float = 1.0):
        super().__init__()
        self.names = names
        for name in names:
            setattr(self, name, nn.Parameter(torch.full((channels,), init if name != "bias" else 0.0)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1, *(1,) * (x.dim() - 2))
        for name in self.names:
            v = getattr(self, name).view(shape)
            x = x + v if name == "bias" else x * v
        return x


def _pad(layer: Any, shape: Shape) -> nn.Module:
    nd = _nd(shape)
    pairs = _per_side(layer.padding) or [(p, p) for p in _each(layer.padding, nd)]
    family = {
        "constant": (nn.ConstantPad1d, nn.ConstantPad2d, nn.ConstantPad3d),
        "reflect": (nn.ReflectionPad1d, nn.ReflectionPad2d, nn.ReflectionPad3d),
        "replicate": (nn.ReplicationPad1d, nn.ReplicationPad2d, nn.ReplicationPad3d),
        "circular": (nn.CircularPad1d, nn.CircularPad2d, nn.CircularPad3d),
    }[layer.mode][nd - 1]
    return family(_f_pad(pairs), layer.value) if layer.mode == "constant" else family(_f_pad(pairs))


class InterpolateLike(nn.Module):
    """F.interpolate to the spatial size of a second tensor (FCN's final resize to the input)."""

    def __init__(self, mode: str, align_corners: bool | None):
        super().__init__()
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=like.shape[2:], mode=self.mode, align_corners=self.align_corners)


def _upsample(layer: Any, shape: Shape) -> nn.Module:
    if layer.like is not None:
        return InterpolateLike(layer.mode, layer.align_corners)
    scale, size = layer.scale_factor, layer.size
    return nn.Upsample(
        size=_ints(size),
        scale_factor=None
        if scale is None
        else tuple(float(s) for s in scale)
        if isinstance(scale, list)
        else float(scale),
        mode=layer.mode,
        align_corners=layer.align_corners,
    )


def _softmax(layer: Any, shape: Shape) -> nn.Module:
    return nn.Softmax(dim=layer.dim + 1 if layer.dim >= 0 else layer.dim)  # cnncalc's dims exclude the batch


LEAF_BUILDERS: dict[str, LeafBuilder] = {
    "conv": _conv,
    "conv_transpose": _conv_transpose,
    "maxpool": _maxpool,
    "minpool": lambda layer, shape: MinPool(_maxpool(layer, shape)),
    "avgpool": _avgpool,
    "lppool": _lppool,
    "adaptive_avgpool": _adaptive(avg=True),
    "adaptive_maxpool": _adaptive(avg=False),
    "global_avgpool": _global(avg=True),
    "global_maxpool": _global(avg=False),
    "linear": lambda layer, shape: nn.Linear(shape[0], layer.out_features, bias=layer.bias),
    "flatten": lambda layer, shape: nn.Flatten(),
    "batchnorm": _batchnorm,
    "lrn": lambda layer, shape: nn.LocalResponseNorm(layer.size, alpha=layer.alpha, beta=layer.beta, k=layer.k),
    "dropout": lambda layer, shape: nn.Dropout(layer.p),
    "relu": lambda layer, shape: nn.ReLU(),
    "relu6": lambda layer, shape: nn.ReLU6(),
    "leaky_relu": lambda layer, shape: nn.LeakyReLU(layer.negative_slope),
    "sigmoid": lambda layer, shape: nn.Sigmoid(),
    "tanh": lambda layer, shape: nn.Tanh(),
    "gelu": lambda layer, shape: nn.GELU(approximate=layer.approximate),
    "silu": lambda layer, shape: nn.SiLU(),
    "softmax": _softmax,
    "identity": lambda layer, shape: nn.Identity(),
    "upsample": _upsample,
    "hardswish": lambda layer, shape: nn.Hardswish(),
    "hardsigmoid": lambda layer, shape: nn.Hardsigmoid(),
    "mish": lambda layer, shape: nn.Mish(),
    "selu": lambda layer, shape: nn.SELU(),
    "elu": lambda layer, shape: nn.ELU(layer.alpha),
    "celu": lambda layer, shape: nn.CELU(layer.alpha),
    "softplus": lambda layer, shape: nn.Softplus(layer.beta, layer.threshold),
    "hardtanh": lambda layer, shape: nn.Hardtanh(layer.min_val, layer.max_val),
    "prelu": lambda layer, shape: nn.PReLU(layer.num_parameters),
    "log_softmax": lambda layer, shape: nn.LogSoftmax(dim=layer.dim + 1 if layer.dim >= 0 else layer.dim),
    "layernorm": _layernorm,
    "groupnorm": lambda layer, shape: nn.GroupNorm(layer.num_groups, shape[0], layer.eps, layer.affine),
    "instancenorm": lambda layer, shape: (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)[_nd(shape) - 1](
        shape[0], layer.eps, layer.momentum, layer.affine, layer.track_running_stats
    ),
    "layer_scale": lambda layer, shape: ChannelVector(shape[0], ("gamma",), layer.init),
    "affine": lambda layer, shape: ChannelVector(
        shape[0], tuple(n for n, on in (("weight", layer.scale), ("bias", layer.bias)) if on)
    ),
    "stochastic_depth": lambda layer, shape: _stochastic_depth(layer),
    "dropout2d": lambda layer, shape: nn.Dropout2d(layer.p),
    "dropout3d": lambda layer, shape: nn.Dropout3d(layer.p),
    "pad": _pad,
    "channel_shuffle": lambda layer, shape: nn.ChannelShuffle(layer.groups),
    "pixel_shuffle": lambda layer, shape: nn.PixelShuffle(layer.upscale_factor),
    "pixel_unshuffle": lambda layer, shape: nn.PixelUnshuffle(layer.downscale_factor),
}


def _stochastic_depth(layer: Any) -> nn.Module:
    from torchvision.ops import StochasticDepth

    return StochasticDepth(layer.p, layer.mode)


def _add(outs: list[torch.Tensor]) -> torch.Tensor:
    """The sum, without torch's broadcasting (a residual's shapes must be equal)."""
    if len({out.shape for out in outs}) > 1:
        raise RuntimeError(f"shapes to add differ: {[list(out.shape) for out in outs]}")
    y = outs[0]
    for out in outs[1:]:
        y = y + out
    return y


def _multiply(outs: list[torch.Tensor]) -> torch.Tensor:
    y = outs[0]
    for out in outs[1:]:
        y = y * out  # torch broadcasting
    return y


# The merge rules, as torch computes them (keyed by cnncalc's merge mixins, which leaf and structure share).
MERGES: dict[type, Callable[[list[torch.Tensor]], torch.Tensor]] = {
    SumMerge: _add,
    ProductMerge: _multiply,
    ChannelConcat: lambda outs: torch.cat(outs, dim=1),
}


def _merge(op: Any) -> Callable[[list[torch.Tensor]], torch.Tensor]:
    return next(MERGES[cls] for cls in type(op).__mro__ if cls in MERGES)


class MergeModule(nn.Module):
    """A leaf merge (`add: {from: [...]}`) as a module of its own, so hooks see its output."""

    def __init__(self, merge: Callable[[list[torch.Tensor]], torch.Tensor]):
        super().__init__()
        self.merge = merge

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.merge(list(inputs))


def _section(op: SplitSection, x: torch.Tensor) -> torch.Tensor:
    sections = op.split.sections
    parts = torch.chunk(x, sections, dim=1) if isinstance(sections, int) else torch.split(x, list(sections), dim=1)
    return parts[op.index]


# --- the twin network -------------------------------------------------------------


class TorchTwin(nn.Module):
    """The spec's graph as a torch module; leaf `a.b.c` is registered as the submodule `a.b.c`."""

    def __init__(self, spec: Spec, device: str | torch.device = "meta"):
        super().__init__()
        self.spec = spec
        self.device_ = torch.device(device)
        self.leaf_modules: dict[str, nn.Module] = {}
        with torch.no_grad():
            self(self.example_input())  # builds each leaf from the tensor that reaches it
        self.eval()

    def example_input(self, batch: int = 1) -> torch.Tensor:
        return torch.zeros((batch, *self.spec.input_shape), device=self.device_)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        graph = self.spec.graph
        values = [x]
        for node in graph.nodes[1:]:
            inputs = [values[i] for i in node.inputs]
            op = node.op
            if isinstance(op, SplitSection):
                values.append(_section(op, inputs[0]))
            elif isinstance(op, Merge) and isinstance(op, Structure):
                values.append(_merge(op)(inputs))
            elif isinstance(op, Merge) or op.reads_several:
                values.append(self.leaf(op, inputs[0])(*inputs))
            else:
                values.append(self.leaf(op, inputs[0])(inputs[0]))
        outputs = tuple(values[i] for _, i in graph.outputs)
        return outputs[0] if len(outputs) == 1 else outputs

    def leaf(self, layer: Layer, x: torch.Tensor) -> nn.Module:
        if layer.path not in self.leaf_modules:
            if isinstance(layer, Merge):
                self.leaf_modules[layer.path] = module = MergeModule(_merge(layer))
                self._register(layer.path, module)
                return module
            if layer.kind not in LEAF_BUILDERS:
                raise NotImplementedError(f"tests/torch_oracle.py has no PyTorch twin for kind `{layer.kind}`")
            with self.device_:
                module = LEAF_BUILDERS[layer.kind](layer, tuple(x.shape[1:])).eval()  # inference: BN, dropout
            self.leaf_modules[layer.path] = module
            self._register(layer.path, module)
        return self.leaf_modules[layer.path]

    def _register(self, path: str, module: nn.Module) -> None:
        """Mirror the dotted path as nested submodules, so FlopCounterMode names it `TorchTwin.<path>`."""
        parent: nn.Module = self
        *outer, last = path.split(".")
        for part in outer:
            if part not in parent._modules:
                parent.add_module(part, nn.Module())
            parent = parent._modules[part]
        parent.add_module(last, module)


def build_torch(spec: Spec, device: str | torch.device = "meta") -> TorchTwin:
    """The PyTorch network equivalent to `spec` (meta tensors by default: shapes only, instant)."""
    return TorchTwin(spec, device)


def measure(spec: Spec, device: str | torch.device = "meta") -> TorchMeasure:
    """Run the twin once and collect PyTorch's figures per leaf layer and in total."""
    twin = build_torch(spec, device)
    shapes: dict[str, Shape] = {}
    hooks = [
        module.register_forward_hook(lambda _m, _i, out, path=path: shapes.__setitem__(path, tuple(out.shape[1:])))
        for path, module in twin.leaf_modules.items()
    ]
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        output = twin(twin.example_input())
    if isinstance(output, tuple):
        output = output[0]
    for hook in hooks:
        hook.remove()
    counts = counter.get_flop_counts()
    root = type(twin).__name__
    leaves = {}
    for path, module in twin.leaf_modules.items():
        flops = sum(counts.get(f"{root}.{path}", {}).values())
        assert flops % 2 == 0, f"{path}: odd FLOP count {flops}"
        leaves[path] = LeafMeasure(shapes[path], sum(p.numel() for p in module.parameters()), flops // 2)
    total_flops = counter.get_total_flops()
    return TorchMeasure(
        output_shape=tuple(output.shape[1:]),
        params=sum(p.numel() for p in twin.parameters()),
        macs=total_flops // 2,
        leaves=leaves,
    )
