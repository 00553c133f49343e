"""One forward function per layer class, `fn(layer, x, ctx) -> y` on [N, C, *spatial] arrays (a list for a merge);
`op_for(layer)` finds it along the class's MRO, so a merge rule's mixin serves every structure using it.

Shapes come only from the arrays; a window's arguments come standardised from `layer.geometry(x.shape[1:])`,
the others through `per_dim`, never from the engine's arithmetic. `ctx` is the running `Executor` (`ctx.params`).
"""

from __future__ import annotations

from collections.abc import Callable
from math import prod
from typing import Any

import numpy as np

from cnncalc.errors import CnncalcError
from cnncalc.executor import winograd
from cnncalc.executor.resize import interpolate
from cnncalc.executor.windows import ceil_extra, pad, reduce_separable, reduce_windows, windows
from cnncalc.layers import Layer
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
from cnncalc.layers.structure import ChannelConcat, Merge, ProductMerge, SplitSection, SumMerge
from cnncalc.registry import ClassRegistry

Op = Callable[[Any, Any, Any], np.ndarray]  # (layer, one array or a list of them, executor)
OPS: ClassRegistry[Op] = ClassRegistry()
op = OPS.register  # `@op(Conv)`: the forward function of one or more layer classes


def spatial_dims(layer: Layer, x: np.ndarray) -> int:
    if x.ndim < 3:
        raise layer.error(f"needs a channels-first volume, got {list(x.shape[1:])}.")
    return x.ndim - 2


def maps(x: np.ndarray) -> np.ndarray:
    """[N, C, *spatial] as [N, C, prod(spatial)] (a view when contiguous), so per-channel operations
    loop over whole maps rather than single rows (7 wide in ResNet's last stage)."""
    return x.reshape(*x.shape[:2], prod(x.shape[2:]))


# --- convolution ---


def correlate(x: np.ndarray, weight: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...], groups: int):
    """Cross-correlation of a padded [N, C, *in] with [C_out, C/groups, *k]: im2col, then one matmul."""
    n, c = x.shape[:2]
    c_out, kernel = weight.shape[0], weight.shape[2:]
    ndim = len(kernel)
    if groups == 1 and all(k == 1 for k in kernel):
        # A 1x1 conv is a matmul over the channels: no im2col copy (a strided one only for stride > 1).
        if any(s != 1 for s in stride):
            x = x[(slice(None), slice(None), *(slice(None, None, s) for s in stride))]
        out_spatial = x.shape[2:]
        return np.matmul(weight.reshape(c_out, c), x.reshape(n, c, prod(out_spatial))).reshape(n, c_out, *out_spatial)
    if ndim == 2 and groups == c == c_out:
        return depthwise_flat(x, weight, stride, dilation)
    view = windows(x, kernel, stride, dilation)  # [N, C, *out, *k]
    out_spatial = view.shape[2 : 2 + ndim]
    positions, taps = prod(out_spatial), prod(kernel)
    # Columns [N, G, (C/G)*k, positions]: reduction axis next to the channels, so W @ cols is NC*-ordered.
    order = (0, 1, *range(2 + ndim, 2 + 2 * ndim), *range(2, 2 + ndim))
    cols = view.transpose(order).reshape(n, groups, (c // groups) * taps, positions)
    w = weight.reshape(groups, c_out // groups, (c // groups) * taps)
    return np.matmul(w, cols).reshape(n, c_out, *out_spatial)


def depthwise_flat(x: np.ndarray, weight: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...]):
    """A depthwise 2-D conv by flat offsets. Split by the stride into phases (x[a::s, b::s]; x itself at
    stride 1) laid out flat, tap (i, j) of every output (h, w) is one contiguous run of its phase, so each tap
    is one plain copy (im2col's window copy has a 3-wide inner loop); rows come out a phase wide, then the
    kernel's overhang is cropped."""
    n, c, hp, wp = x.shape
    (kh, kw), (sh, sw), (dh, dw) = weight.shape[2:], stride, dilation
    ho, wo = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    rows, width = -(-hp // sh), -(-wp // sw)  # a phase's size
    if sh == sw == 1:
        phases = x.reshape(n, c, 1, hp * wp)
    else:
        split = np.zeros((n, c, sh * sw, rows, width), x.dtype)
        for a in range(sh):
            for b in range(sw):
                part = x[:, :, a::sh, b::sw]
                split[:, :, a * sw + b, : part.shape[2], : part.shape[3]] = part
        phases = split.reshape(n, c, sh * sw, rows * width)
    length = (ho - 1) * width + wo  # from the first output's tap to the last's, in its phase
    cols = np.empty((n, c, kh * kw, length), x.dtype)
    for i in range(kh):  # a loop over kernel taps
        for j in range(kw):
            (oi, a), (oj, b) = divmod(i * dh, sh), divmod(j * dw, sw)
            start = oi * width + oj
            cols[:, :, i * kw + j] = phases[:, :, a * sw + b, start : start + length]
    wide = np.empty((n, c, ho * width), x.dtype)
    np.matmul(weight.reshape(c, 1, kh * kw), cols, out=wide[:, :, None, :length])
    return np.ascontiguousarray(wide.reshape(n, c, ho, width)[..., :wo])


def add_bias(layer, y: np.ndarray, ctx, channels: int) -> np.ndarray:
    if layer.bias:
        return plus_bias(y, ctx.params.get(layer, "bias_values", (channels,), given=layer.bias_values, fill="small"))
    return y


def plus_bias(y: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """y [N, C, ...] plus one bias per channel, in place, a whole channel's map at a time."""
    flat = maps(y)
    flat += bias[:, None]
    return flat.reshape(y.shape)


@op(Conv)
def conv(layer: Conv, x: np.ndarray, ctx) -> np.ndarray:
    weight = conv_weight(layer, x, ctx)
    g = layer.geometry(x.shape[1:])  # the arguments standardised, as the engine reads them
    padded = pad(x, g.pads)
    return add_bias(layer, correlate(padded, weight, g.stride, g.dilation, layer.groups), ctx, layer.out_channels)


def conv_weight(layer: Conv, x: np.ndarray, ctx) -> np.ndarray:
    spatial_dims(layer, x)
    channels = x.shape[1]
    kernel = layer.geometry(x.shape[1:]).kernel  # refuses groups that do not divide the channels
    per_group = channels // layer.groups
    return ctx.params.get(
        layer,
        "weights",
        (layer.out_channels, per_group, *kernel),
        given=layer.weights,
        fan_in=per_group * prod(kernel),
    )


def conv_bias(layer: Conv, ctx) -> np.ndarray | None:
    if not layer.bias:
        return None
    return ctx.params.get(layer, "bias_values", (layer.out_channels,), given=layer.bias_values, fill="small")


def prepared_conv(
    layer: Conv, x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, filters: np.ndarray | None
) -> np.ndarray:
    """A conv with weights the executor's fast path prepared: a following batchnorm maybe folded in, or the
    Winograd `filters` (winograd.filter_transform) that prepare makes for 2-D 3x3 convs of stride and dilation 1."""
    g = layer.geometry(x.shape[1:])
    if filters is not None:
        (top, bottom), (left, right) = g.pads
        h, w = x.shape[2] + top + bottom - 2, x.shape[3] + left + right - 2
        if h <= 0 or w <= 0:  # the engine refuses such a spec before anything runs
            raise CnncalcError(f"layer `{layer.path}`: its padded input is smaller than its 3x3 kernel.", layer.source)
        # F(2x2, 3x3) takes even sizes: one more padding row or column for an odd one, cropped after
        y = winograd.correlate(pad(x, ((top, bottom + h % 2), (left, right + w % 2))), filters, bias)
        return np.ascontiguousarray(y[:, :, :h, :w]) if h % 2 or w % 2 else y
    assert weight is not None  # prepare keeps the weights of every conv it gives no filters
    y = correlate(pad(x, g.pads), weight, g.stride, g.dilation, layer.groups)
    return y if bias is None else plus_bias(y, bias)


@op(ConvTranspose)
def conv_transpose(layer: ConvTranspose, x: np.ndarray, ctx) -> np.ndarray:
    """Zero-stuff the input by the stride, pad by dilation*(k-1) - padding, correlate with the flipped kernel."""
    ndim = spatial_dims(layer, x)
    n, channels = x.shape[:2]
    g = layer.geometry(x.shape[1:])  # refuses groups that do not divide the channels
    kernel, stride, dilation = g.kernel, g.stride, g.dilation
    extra = layer.per_dim(layer.output_padding, ndim, "output_padding")
    groups, out_per_group = layer.groups, layer.out_channels // layer.groups
    weight = ctx.params.get(
        layer,
        "weights",
        (channels, out_per_group, *kernel),
        given=layer.weights,
        fan_in=(channels // groups) * prod(kernel),
    )
    stuffed = np.zeros((n, channels, *((size - 1) * s + 1 for size, s in zip(x.shape[2:], stride))), x.dtype)
    stuffed[(slice(None), slice(None), *(slice(None, None, s) for s in stride))] = x
    crops: list[slice] = []
    pads: list[tuple[int, int]] = []
    for (before, after), k, d, op_ in zip(g.pads, kernel, dilation, extra):
        left, right = d * (k - 1) - before, d * (k - 1) - after + op_
        crops.append(slice(max(0, -left), stuffed.shape[2 + len(crops)] - max(0, -right)))
        pads.append((max(0, left), max(0, right)))
    padded = pad(stuffed[(slice(None), slice(None), *crops)], tuple(pads))
    # [C_in, C_out/G, *k] -> [C_out, C_in/G, *k], kernel flipped in every spatial dim.
    w = weight.reshape(groups, channels // groups, out_per_group, *kernel).swapaxes(1, 2)
    w = w.reshape(layer.out_channels, channels // groups, *kernel)[(..., *(slice(None, None, -1),) * ndim)]
    y = correlate(padded, np.ascontiguousarray(w), (1,) * ndim, dilation, groups)
    return add_bias(layer, y, ctx, layer.out_channels)


# --- window pooling ---


def pool_args(layer, x: np.ndarray):
    """(kernel, stride, [before, after] pads, dilation, extra end padding for ceil_mode), one entry per dim."""
    spatial_dims(layer, x)
    g = layer.geometry(x.shape[1:])
    extra = tuple(ceil_extra(size, k, s, before, after, d, layer.ceil_mode) for size, k, s, before, after, d in g.dims)
    return g.kernel, g.stride, g.pads, g.dilation, extra


def window_reduce(x: np.ndarray, fill: float, layer, ufunc: np.ufunc) -> np.ndarray:
    kernel, stride, pads, dilation, extra = pool_args(layer, x)
    padded = pad(x, tuple((b, a + e) for (b, a), e in zip(pads, extra)), fill)
    return reduce_separable(padded, kernel, stride, dilation, ufunc)


@op(MaxPool)
def max_pool(layer: MaxPool, x: np.ndarray, ctx) -> np.ndarray:
    return window_reduce(x, -np.inf, layer, np.maximum)


@op(MinPool)
def min_pool(layer: MinPool, x: np.ndarray, ctx) -> np.ndarray:
    return window_reduce(x, np.inf, layer, np.minimum)


def window_mean(x: np.ndarray, layer, count_include_pad: bool) -> np.ndarray:
    """PyTorch's avg_pool: the divisor counts the padding only if asked, never the ceil_mode overhang."""
    kernel, stride, pads, _, extra = pool_args(layer, x)
    ones = (1,) * len(kernel)
    sums = windows(pad(x, tuple((b, a + e) for (b, a), e in zip(pads, extra))), kernel, stride, ones)
    mask = np.ones((1, 1, *x.shape[2:]), x.dtype)
    if count_include_pad:
        mask = pad(mask, pads, 1.0)
        mask = pad(mask, tuple((0, e) for e in extra))
    else:
        mask = pad(mask, tuple((b, a + e) for (b, a), e in zip(pads, extra)))
    counts = reduce_windows(windows(mask, kernel, stride, ones), len(kernel), np.add)
    return reduce_windows(sums, len(kernel), np.add) / counts


@op(AvgPool)
def avg_pool(layer: AvgPool, x: np.ndarray, ctx) -> np.ndarray:
    return window_mean(x, layer, layer.counts_padding())


@op(LPPool)
def lp_pool(layer: LPPool, x: np.ndarray, ctx) -> np.ndarray:
    """PyTorch's definition: (avg_pool(x^p) * prod(kernel))^(1/p)."""
    p = layer.norm_type
    kernel = layer.per_dim(layer.kernel_size, spatial_dims(layer, x), "kernel_size")
    with np.errstate(invalid="ignore"):  # negative inputs to a fractional power give NaN, as in PyTorch
        return (window_mean(x**p, layer, True) * prod(kernel)) ** (1.0 / p)


# --- adaptive and global pooling ---


def adaptive_sizes(layer, x: np.ndarray) -> tuple[int, ...]:
    sizes = layer.per_dim(layer.output_size, spatial_dims(layer, x), "output_size")
    return tuple(size if out is None else out for size, out in zip(x.shape[2:], sizes))  # None keeps the size


def adaptive_bins(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices [out, longest bin] (padded by repeating the bin's start) and a validity mask."""
    starts = np.arange(out) * size // out
    ends = -(-(np.arange(out) + 1) * size // out)
    longest = int((ends - starts).max())
    index = starts[:, None] + np.arange(longest)[None, :]
    valid = index < ends[:, None]
    return np.where(valid, index, starts[:, None]), valid


def adaptive_reduce(layer, x: np.ndarray, mean: bool) -> np.ndarray:
    """Bins are boxes, so reduce one spatial axis at a time (max and mean are both separable)."""
    for axis, out in enumerate(adaptive_sizes(layer, x), start=2):
        index, valid = adaptive_bins(x.shape[axis], out)
        gathered = np.take(x, index, axis=axis)  # [..., out, longest, ...]
        if mean:
            shape = [1] * gathered.ndim
            shape[axis : axis + 2] = valid.shape
            mask = valid.reshape(shape)
            counts = mask.sum(axis=axis + 1).astype(x.dtype)
            x = (gathered * mask).sum(axis=axis + 1) / counts
        else:
            x = gathered.max(axis=axis + 1)
    return x


@op(AdaptiveAvgPool)
def adaptive_avg_pool(layer: AdaptiveAvgPool, x: np.ndarray, ctx) -> np.ndarray:
    return adaptive_reduce(layer, x, mean=True)


@op(AdaptiveMaxPool)
def adaptive_max_pool(layer: AdaptiveMaxPool, x: np.ndarray, ctx) -> np.ndarray:
    return adaptive_reduce(layer, x, mean=False)


@op(GlobalAvgPool)
def global_avg_pool(layer: GlobalAvgPool, x: np.ndarray, ctx) -> np.ndarray:
    return x.mean(axis=tuple(range(2, 2 + spatial_dims(layer, x))), keepdims=True)


@op(GlobalMaxPool)
def global_max_pool(layer: GlobalMaxPool, x: np.ndarray, ctx) -> np.ndarray:
    return x.max(axis=tuple(range(2, 2 + spatial_dims(layer, x))), keepdims=True)


# --- dense ---


@op(Flatten)
def flatten(layer: Flatten, x: np.ndarray, ctx) -> np.ndarray:
    return x.reshape(x.shape[0], prod(x.shape[1:]))  # not -1: the batch may be empty (see Executor.prepare)


@op(Linear)
def linear(layer: Linear, x: np.ndarray, ctx) -> np.ndarray:
    if x.ndim != 2:
        raise layer.error(f"needs a flat input, got {list(x.shape[1:])}.", hint="Add `- flatten` before it.")
    in_features = x.shape[1]
    weight = ctx.params.get(
        layer, "weights", (layer.out_features, in_features), given=layer.weights, fan_in=in_features
    )
    return add_bias(layer, x @ weight.T, ctx, layer.out_features)


# --- normalisation ---


def channel_vector(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """A per-channel vector shaped to broadcast over [N, C, *spatial]."""
    return v.reshape(1, -1, *(1,) * (x.ndim - 2))


def batch_norm_affine(layer: BatchNorm, channels: int, dtype: Any, ctx) -> tuple[np.ndarray, np.ndarray]:
    """Inference batchnorm as y = x * scale + shift, per channel (also what folding into a conv uses)."""
    c = (channels,)
    has_weight, has_bias = layer.parts()
    learnable = not layer.frozen  # FrozenBatchNorm2d keeps weight and bias as buffers
    weight = ctx.params.get(layer, "weight", c, fill="near_one", trainable=learnable) if has_weight else 1.0
    bias = ctx.params.get(layer, "bias", c, fill="small", trainable=learnable) if has_bias else 0.0
    mean = ctx.params.get(layer, "running_mean", c, fill="small", trainable=False)
    var = ctx.params.get(layer, "running_var", c, fill="positive", trainable=False)
    scale = np.broadcast_to(weight / np.sqrt(var + np.asarray(layer.eps, dtype)), c).astype(dtype)
    shift = (bias - mean * scale).astype(dtype)
    return scale, shift


@op(BatchNorm)
def batch_norm(layer: BatchNorm, x: np.ndarray, ctx) -> np.ndarray:
    """Inference form: (x - running_mean) / sqrt(running_var + eps) * weight + bias."""
    scale, shift = batch_norm_affine(layer, x.shape[1], x.dtype, ctx)
    if getattr(ctx, "owns_input", False):  # an array only this layer reads: no new one
        y = maps(x)
        y *= scale[:, None]
    else:
        y = maps(x) * scale[:, None]
    y += shift[:, None]  # in place: one temporary fewer
    return y.reshape(x.shape)


def affine_params(layer: Layer, x: np.ndarray, ctx, on: bool) -> tuple[np.ndarray | float, np.ndarray | float]:
    """A normalisation's optional per-channel weight and bias (weight near 1, bias small)."""
    if not on:
        return 1.0, 0.0
    c = (x.shape[1],)
    weight = ctx.params.get(layer, "weight", c, fill="near_one")
    bias = ctx.params.get(layer, "bias", c, fill="small")
    return channel_vector(x, weight), channel_vector(x, bias)


def normalized(x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    """(x - mean) / sqrt(biased var + eps) over `axes`, as torch's norms compute it."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    return centred / np.sqrt(var + np.asarray(eps, x.dtype))


@op(LayerNorm)
def layer_norm(layer: LayerNorm, x: np.ndarray, ctx) -> np.ndarray:
    """Over the channels at each position (LayerNorm2d), or over the features of [N, F]."""
    weight, bias = affine_params(layer, x, ctx, layer.elementwise_affine)
    return normalized(x, (1,), layer.eps) * weight + bias


@op(GroupNorm)
def group_norm(layer: GroupNorm, x: np.ndarray, ctx) -> np.ndarray:
    n, c = x.shape[:2]
    if c % layer.num_groups:
        raise layer.error(f"num_groups={layer.num_groups} does not divide the {c} channels.", "num_groups")
    grouped = x.reshape(n, layer.num_groups, (c // layer.num_groups) * prod(x.shape[2:]))  # not -1: empty batches
    y = normalized(grouped, (2,), layer.eps).reshape(x.shape)
    weight, bias = affine_params(layer, x, ctx, layer.affine)
    return y * weight + bias


@op(InstanceNorm)
def instance_norm(layer: InstanceNorm, x: np.ndarray, ctx) -> np.ndarray:
    """Each sample's own statistics, or the running ones when `track_running_stats` (PyTorch's eval mode)."""
    axes = tuple(range(2, 2 + spatial_dims(layer, x)))
    if layer.track_running_stats:
        c = (x.shape[1],)
        mean = channel_vector(x, ctx.params.get(layer, "running_mean", c, fill="small", trainable=False))
        var = channel_vector(x, ctx.params.get(layer, "running_var", c, fill="positive", trainable=False))
        y = (x - mean) / np.sqrt(var + np.asarray(layer.eps, x.dtype))
    else:
        y = normalized(x, axes, layer.eps)
    weight, bias = affine_params(layer, x, ctx, layer.affine)
    return y * weight + bias


@op(LayerScale)
def layer_scale(layer: LayerScale, x: np.ndarray, ctx) -> np.ndarray:
    c = (x.shape[1],)
    gamma = ctx.params.get(layer, "gamma", c, given=np.full(c, layer.init))  # PyTorch's initial value
    return x * channel_vector(x, gamma)


@op(Affine)
def affine(layer: Affine, x: np.ndarray, ctx) -> np.ndarray:
    c = (x.shape[1],)
    if layer.scale:
        x = x * channel_vector(x, ctx.params.get(layer, "weight", c, fill="near_one"))
    if layer.bias:
        x = x + channel_vector(x, ctx.params.get(layer, "bias", c, fill="small"))
    return x


@op(LRN)
def local_response_norm(layer: LRN, x: np.ndarray, ctx) -> np.ndarray:
    """torch.nn.LocalResponseNorm: x / (k + alpha * mean of x^2 over `size` channels around)^beta."""
    size, channels = layer.size, x.shape[1]
    # Channel c sums the squares of channels c - size//2 .. c + (size-1)//2 that exist (torch pads with zeros):
    # a difference of prefix sums, in float64 so that it loses nothing to cancellation. Memory and time do not
    # grow with `size` (a window of a million channels on 3 is the 3 channels).
    prefix = np.zeros((x.shape[0], channels + 1, *x.shape[2:]), np.float64)
    np.cumsum(np.square(x, dtype=np.float64), axis=1, out=prefix[:, 1:])
    c = np.arange(channels)
    top, bottom = np.minimum(c + (size - 1) // 2 + 1, channels), np.maximum(c - size // 2, 0)
    sums = (prefix[:, top] - prefix[:, bottom]).astype(x.dtype)
    return x / (layer.k + layer.alpha / size * sums) ** layer.beta


# --- elementwise ---


@op(Identity, Dropout, Dropout2d, Dropout3d, StochasticDepth)
def identity(layer: Layer, x: np.ndarray, ctx) -> np.ndarray:
    return x


@op(ReLU)
def relu(layer: Layer, x: np.ndarray, ctx) -> np.ndarray:
    if getattr(ctx, "owns_input", False):  # an array only this layer reads: overwrite it
        return np.maximum(x, 0, out=x)
    return np.maximum(x, 0)


@op(ReLU6)
def relu6(layer: Layer, x: np.ndarray, ctx) -> np.ndarray:
    return np.clip(x, 0, 6)


@op(LeakyReLU)
def leaky_relu(layer: LeakyReLU, x: np.ndarray, ctx) -> np.ndarray:
    return np.where(x > 0, x, x * np.asarray(layer.negative_slope, x.dtype))


def sigmoid_of(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * x))  # no overflow for large |x|, unlike 1 / (1 + exp(-x))


@op(Sigmoid)
def sigmoid(layer: Layer, x: np.ndarray, ctx) -> np.ndarray:
    return sigmoid_of(x)


@op(Tanh)
def tanh(layer: Layer, x: np.ndarray, ctx) -> np.ndarray:
    return np.tanh(x)


@op(SiLU)
def silu(layer: Layer, x: np.ndarray, ctx) -> np.ndarray:
    return x * sigmoid_of(x)


# W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969): the
# coefficients of Netlib's CALERF, as torch's and glibc's erf are accurate to double precision.
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03)
_ERF_A4, _ERF_B = 1.85777706184603153e-1, (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03)
_ERF_B3 = 2.84423683343917062e03
_ERF_C = (
    5.64188496988670089e-1,
    8.88314979438837594e00,
    6.61191906371416295e01,
    2.98635138197400131e02,
    8.81952221241769090e02,
    1.71204761263407058e03,
    2.05107837782607147e03,
    1.23033935479799725e03,
)
_ERF_C8 = 2.15311535474403846e-8
_ERF_D = (
    1.57449261107098347e01,
    1.17693950891312499e02,
    5.37181101862009858e02,
    1.62138957456669019e03,
    3.29079923573345963e03,
    4.36261909014324716e03,
    3.43936767414372164e03,
    1.23033935480374942e03,
)
_ERF_P = (
    3.05326634961232344e-1,
    3.60344899949804439e-1,
    1.25781726111229246e-1,
    1.60837851487422766e-2,
    6.58749161529837803e-4,
)
_ERF_P5 = 1.63153871373020978e-2
_ERF_Q = (
    2.56852019228982242e00,
    1.87295284992346047e00,
    5.27905102951428412e-1,
    6.05183413124413191e-2,
    2.33520497626869185e-3,
)


def _rational(t: np.ndarray, lead: float, num: tuple[float, ...], den: tuple[float, ...]) -> np.ndarray:
    """CALERF's nested form: (((lead*t + num[0])*t + ...) + num[-1]) / (((t + den[0])*t + ...) + den[-1])."""
    xnum, xden = lead * t, t
    for a, b in zip(num[:-1], den[:-1]):
        xnum, xden = (xnum + a) * t, (xden + b) * t
    return (xnum + num[-1]) / (xden + den[-1])


def erf(x: np.ndarray) -> np.ndarray:
    """Cody's CALERF (relative error below 1e-16 in float64), vectorised; NumPy has no erf."""
    y = np.abs(x)
    small = x * _rational(y * y, _ERF_A4, _ERF_A, (*_ERF_B, _ERF_B3))
    mid, big = np.clip(y, 0.46875, 4.0), np.maximum(y, 4.0)
    erfc_mid = _rational(mid, _ERF_C8, _ERF_C, _ERF_D) * _exp_minus_square(mid)
    t = 1 / (big * big)
    erfc_big = (0.56418958354775628695 - t * _rational(t, _ERF_P5, _ERF_P, _ERF_Q)) / big * _exp_minus_square(big)
    erfc = np.where(y <= 4.0, erfc_mid, erfc_big)
    return np.where(y <= 0.46875, small, np.sign(x) * (1 - erfc)).astype(x.dtype, copy=False)


def _exp_minus_square(y: np.ndarray) -> np.ndarray:
    """exp(-y^2), with y^2 split as CALERF does (no cancellation in the exponent)."""
    head = np.floor(16 * y) / 16
    with np.errstate(under="ignore"):
        return np.exp(-head * head) * np.exp(-(y - head) * (y + head))


@op(GELU)
def gelu(layer: GELU, x: np.ndarray, ctx) -> np.ndarray:
    if layer.approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    flat, out = x.reshape(-1), np.empty_like(x)
    done = out.reshape(-1)
    for start in range(0, flat.size, layer.erf_chunk):  # erf's ~25 temporaries, a bounded slice at a time
        part = flat[start : start + layer.erf_chunk]
        done[start : start + layer.erf_chunk] = 0.5 * part * (1 + erf(part / np.sqrt(2)))
    return out


@op(Softmax)
def softmax(layer: Softmax, x: np.ndarray, ctx) -> np.ndarray:
    if not -(x.ndim - 1) <= layer.dim < x.ndim - 1:
        raise layer.error(f"dim {layer.dim} is out of range for {list(x.shape[1:])}.", "dim")
    axis = layer.dim + 1 if layer.dim >= 0 else layer.dim  # skip the batch axis
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


@op(Upsample)
def upsample(layer: Upsample, xs: list[np.ndarray], ctx) -> np.ndarray:
    """F.interpolate to `size`, to `scale_factor` (size floor(in*scale)), or to the size of `like:` (xs[1])."""
    x = xs[0]
    ndim = spatial_dims(layer, x)
    scales = layer.scales(ndim)
    if layer.like is not None:
        sizes = tuple(xs[1].shape[2:])
    elif layer.size is not None:
        sizes = layer.per_dim(layer.size, ndim, "size")
    else:
        sizes = tuple(int(np.floor(n * s)) for n, s in zip(x.shape[2:], scales))  # type: ignore[operator]
    return interpolate(x, sizes, scales, layer.mode, bool(layer.align_corners))


# --- activations (v2) ---


@op(Hardswish)
def hardswish(layer: Layer, x: np.ndarray, ctx) -> np.ndarray:
    return x * np.clip(x + 3, 0, 6) / 6


@op(Hardsigmoid)
def hardsigmoid(layer: Layer, x: np.ndarray, ctx) -> np.ndarray:
    return np.clip(x + 3, 0, 6) / 6


def softplus_of(x: np.ndarray, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    """torch's softplus: log1p(exp(beta*x)) / beta, and x itself where beta*x > threshold."""
    bx = x * np.asarray(beta, x.dtype)
    with np.errstate(over="ignore"):
        soft = np.log1p(np.exp(np.minimum(bx, threshold))) / np.asarray(beta, x.dtype)
    return np.where(bx > threshold, x, soft).astype(x.dtype, copy=False)


@op(Mish)
def mish(layer: Layer, x: np.ndarray, ctx) -> np.ndarray:
    return x * np.tanh(softplus_of(x))


@op(Softplus)
def softplus(layer: Softplus, x: np.ndarray, ctx) -> np.ndarray:
    return softplus_of(x, layer.beta, layer.threshold)


def expm1_negative(x: np.ndarray) -> np.ndarray:
    """exp(x) - 1 for the non-positive part only (no overflow warnings for large x)."""
    return np.expm1(np.minimum(x, 0))


@op(ELU)
def elu(layer: ELU, x: np.ndarray, ctx) -> np.ndarray:
    return np.where(x > 0, x, np.asarray(layer.alpha, x.dtype) * expm1_negative(x))


@op(CELU)
def celu(layer: CELU, x: np.ndarray, ctx) -> np.ndarray:
    a = np.asarray(layer.alpha, x.dtype)
    return np.maximum(x, 0) + np.minimum(0, a * np.expm1(np.minimum(x, 0) / a))  # no overflow for large x


# torch.nn.SELU's constants (Klambauer et al. 2017), as in aten's Activation.cpp.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@op(SELU)
def selu(layer: Layer, x: np.ndarray, ctx) -> np.ndarray:
    return np.asarray(SELU_SCALE, x.dtype) * np.where(x > 0, x, np.asarray(SELU_ALPHA, x.dtype) * expm1_negative(x))


@op(Hardtanh)
def hardtanh(layer: Hardtanh, x: np.ndarray, ctx) -> np.ndarray:
    return np.clip(x, layer.min_val, layer.max_val).astype(x.dtype, copy=False)


@op(PReLU)
def prelu(layer: PReLU, x: np.ndarray, ctx) -> np.ndarray:
    if layer.num_parameters not in (1, x.shape[1]):
        raise layer.error(f"num_parameters {layer.num_parameters} does not fit {x.shape[1]} channels.")
    slopes = ctx.params.get(layer, "weight", (layer.num_parameters,), fill="small")
    return np.where(x > 0, x, x * channel_vector(x, np.broadcast_to(slopes, (x.shape[1],))))


@op(LogSoftmax)
def log_softmax(layer: LogSoftmax, x: np.ndarray, ctx) -> np.ndarray:
    if not -(x.ndim - 1) <= layer.dim < x.ndim - 1:
        raise layer.error(f"dim {layer.dim} is out of range for {list(x.shape[1:])}.", "dim")
    axis = layer.dim + 1 if layer.dim >= 0 else layer.dim
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


# --- rearranging ---

NUMPY_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@op(Pad)
def pad_layer(layer: Pad, x: np.ndarray, ctx) -> np.ndarray:
    """F.pad: PyTorch's reflect, replicate and circular are NumPy's reflect, edge and wrap."""
    pads = layer.pads(x.shape[1:])
    width = ((0, 0), (0, 0), *pads)
    if layer.mode == "constant":
        return np.pad(x, width, constant_values=layer.value)
    return np.pad(x, width, mode=NUMPY_PAD_MODES[layer.mode])  # type: ignore[call-overload]


@op(ChannelShuffle)
def channel_shuffle(layer: ChannelShuffle, x: np.ndarray, ctx) -> np.ndarray:
    n, c = x.shape[:2]
    if c % layer.groups:
        raise layer.error(f"groups={layer.groups} does not divide the {c} channels.", "groups")
    rest = x.shape[2:]
    return x.reshape(n, layer.groups, c // layer.groups, *rest).swapaxes(1, 2).reshape(x.shape)


@op(PixelShuffle)
def pixel_shuffle(layer: PixelShuffle, x: np.ndarray, ctx) -> np.ndarray:
    n, c, h, w = x.shape
    r = layer.upscale_factor
    y = x.reshape(n, c // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3)
    return y.reshape(n, c // (r * r), h * r, w * r)


@op(PixelUnshuffle)
def pixel_unshuffle(layer: PixelUnshuffle, x: np.ndarray, ctx) -> np.ndarray:
    n, c, h, w = x.shape
    r = layer.downscale_factor
    y = x.reshape(n, c, h // r, r, w // r, r).transpose(0, 1, 3, 5, 2, 4)
    return y.reshape(n, c * r * r, h // r, w // r)


# --- merges: several inputs (a leaf `add: {from: [...]}` or a structure's merge node) ---


@op(SumMerge)
def add(layer: SumMerge, xs: list[np.ndarray], ctx) -> np.ndarray:
    if len({x.shape for x in xs}) > 1:
        raise layer.merge_error(f"cannot add {', '.join(str(list(x.shape[1:])) for x in xs)}.")
    owned = getattr(ctx, "owns_input", False) and xs[0].shape == xs[1].shape  # xs[0] only read here
    out = np.add(xs[0], xs[1], out=xs[0]) if owned else xs[0] + xs[1]  # else a new array: xs[0] is read again
    for x in xs[2:]:
        out += x
    return out


@op(ProductMerge)
def multiply(layer: ProductMerge, xs: list[np.ndarray], ctx) -> np.ndarray:
    if len({x.ndim for x in xs}) > 1:
        raise layer.merge_error(f"cannot multiply {', '.join(str(list(x.shape[1:])) for x in xs)}.")
    out = xs[0] * xs[1]  # NumPy's broadcasting is PyTorch's: each dim equal or 1
    for x in xs[2:]:
        out = out * x
    return out


@op(ChannelConcat)
def concat(layer: ChannelConcat, xs: list[np.ndarray], ctx) -> np.ndarray:
    if len({x.shape[2:] for x in xs}) > 1 or len({x.ndim for x in xs}) > 1:
        shown = ", ".join(f"input {i}: {list(x.shape[1:])}" for i, x in enumerate(xs))
        raise layer.merge_error(f"inputs disagree on sizes other than the channels: {shown}.")
    return np.concatenate(xs, axis=1)


@op(SplitSection)
def split_section(section: SplitSection, x: np.ndarray, ctx) -> np.ndarray:
    start, stop = section.split.section_bounds(x.shape[1])[section.index]
    return x[:, start:stop]


def op_input(op: object, inputs: list[np.ndarray]) -> Any:
    """What an op's function takes: a merge's (or a `like:` upsample's) list of arrays, else its one array."""
    return inputs if isinstance(op, Merge) or getattr(op, "reads_several", False) else inputs[0]


op_for = OPS.for_  # a node's op's forward function: its own class's, or a base class's (merge rules)
