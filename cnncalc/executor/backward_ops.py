"""One backward function per layer class: `BACKWARD[type(layer)](layer, x, y, gy, ctx) -> (gx, grads)`.

`x` is the node's input (a list for merges), `y` its output and `gy` = dL/dy. The result is
dL/dx (a list for merges) and the gradients of the layer's own parameters, keyed by the names
the ParamStore uses. Like the forward ops, shapes come only from the arrays; every windowed op
is vectorised over pixels and loops only over the kernel's taps (col2im).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from math import prod
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnncalc.executor import resize
from cnncalc.executor.ops import (
    SELU_ALPHA,
    SELU_SCALE,
    adaptive_bins,
    adaptive_sizes,
    ceil_extra,
    channel_vector,
    erf,
    maps,
    sigmoid_of,
    softplus_of,
    spatial_dims,
)
from cnncalc.executor.windows import pad, reduce_windows, windows
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
from cnncalc.layers.structure import ChannelConcat, ProductMerge, SplitSection, SumMerge
from cnncalc.registry import ClassRegistry

Grads = dict[str, np.ndarray]
Backward = Callable[[Any, Any, np.ndarray, np.ndarray, Any], tuple[Any, Grads]]
BACKWARD: ClassRegistry[Backward] = ClassRegistry()
backward = BACKWARD.register  # `@backward(Conv)`: the backward function of one or more layer classes
backward_for = BACKWARD.for_  # a node's op's backward function: its own class's, or a base class's (merge rules)


def param(ctx, layer: Layer, name: str) -> np.ndarray:
    """A parameter the forward pass created (the backward pass never creates one)."""
    return ctx.params.arrays[(layer.path, name)]


def unpad(g: np.ndarray, pads) -> np.ndarray:
    """The gradient of `pad`: the interior of the padded gradient."""
    return g[(slice(None), slice(None), *(slice(b, g.shape[2 + i] - a) for i, (b, a) in enumerate(pads)))]


def tap_slices(out: tuple[int, ...], tap: tuple[int, ...], stride, dilation) -> tuple[slice, ...]:
    """Where tap `tap` of every window sits in the padded input: start t*d, step s, one per output cell."""
    return tuple(slice(t * d, t * d + s * (n - 1) + 1, s) for n, t, s, d in zip(out, tap, stride, dilation))


def scatter_windows(cols: np.ndarray, padded_shape: tuple[int, ...], stride, dilation) -> np.ndarray:
    """col2im: add a window view's values [N, C, *out, *k] back into a zero [N, C, *padded] array.

    One whole-array addition per kernel tap, as `reduce_windows` does forward.
    """
    ndim = len(stride)
    out, kernel = cols.shape[2 : 2 + ndim], cols.shape[2 + ndim :]
    g = np.zeros(padded_shape, cols.dtype)
    for tap in itertools.product(*(range(k) for k in kernel)):
        g[(slice(None), slice(None), *tap_slices(out, tap, stride, dilation))] += cols[(..., *tap)]  # type: ignore[arg-type]
    return g


# --- convolution ---


def correlate_backward(
    xp: np.ndarray,
    weight: np.ndarray,
    stride,
    dilation,
    groups: int,
    gy: np.ndarray,
    need_input: bool = True,
    need_weight: bool = True,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Gradients of `ops.correlate(xp, weight, ...)`: (dL/dxp or None, dL/dweight or None: a frozen layer's).

    Seed 004's g(G, V, s): dW = G @ cols^T summed over the batch; h(K, G, s): W^T @ G, then col2im.
    """
    n, c = xp.shape[:2]
    c_out, kernel = weight.shape[0], weight.shape[2:]
    ndim = len(kernel)
    out_spatial = gy.shape[2:]
    positions, taps = prod(out_spatial), prod(kernel)
    pointwise = taps == 1 and all(s == 1 for s in stride)  # a 1x1 conv: the input is its own im2col
    if pointwise:
        cols = xp.reshape(n, groups, c // groups, positions)
    else:
        view = windows(xp, kernel, stride, dilation)
        order = (0, 1, *range(2 + ndim, 2 + 2 * ndim), *range(2, 2 + ndim))
        cols = view.transpose(order).reshape(n, groups, (c // groups) * taps, positions)
    g = gy.reshape(n, groups, c_out // groups, positions)
    gw = None
    if need_weight:
        gw = np.matmul(g, cols.swapaxes(-1, -2)).sum(axis=0).reshape(weight.shape)  # [G, C_out/G, (C/G)*k]
    if not need_input:
        return None, gw
    w = weight.reshape(groups, c_out // groups, (c // groups) * taps)
    gcols = np.matmul(w.swapaxes(1, 2), g)  # [N, G, (C/G)*k, P]
    if pointwise:
        return gcols.reshape(xp.shape), gw
    gcols = gcols.reshape(n, c, *kernel, *out_spatial)
    back = (0, 1, *range(2 + ndim, 2 + 2 * ndim), *range(2, 2 + ndim))  # -> [N, C, *out, *k]
    return scatter_windows(gcols.transpose(back), xp.shape, stride, dilation), gw


def bias_grad(layer, gy: np.ndarray, grads: Grads) -> None:
    if layer.bias and layer.trainable:
        grads["bias_values"] = maps(gy).sum(axis=(0, 2))


@backward(Conv)
def conv_backward(layer: Conv, x: np.ndarray, y: np.ndarray, gy: np.ndarray, ctx) -> tuple[Any, Grads]:
    g = layer.geometry(x.shape[1:])
    weight = param(ctx, layer, "weights")
    frozen = not layer.trainable  # `trainable: false`: no dL/dW to compute (torch's requires_grad=False)
    gxp, gw = correlate_backward(pad(x, g.pads), weight, g.stride, g.dilation, layer.groups, gy, need_weight=not frozen)
    grads: Grads = {} if gw is None else {"weights": gw}
    bias_grad(layer, gy, grads)
    return unpad(gxp, g.pads), grads  # type: ignore[arg-type]


@backward(ConvTranspose)
def conv_transpose_backward(layer: ConvTranspose, x: np.ndarray, y: np.ndarray, gy: np.ndarray, ctx):
    """Back through forward's steps: zero-stuffing, crop/pad, correlation with the flipped kernel."""
    ndim = spatial_dims(layer, x)
    n, channels = x.shape[:2]
    g = layer.geometry(x.shape[1:])
    kernel, stride, dilation = g.kernel, g.stride, g.dilation
    extra = layer.per_dim(layer.output_padding, ndim, "output_padding")
    groups, out_per_group = layer.groups, layer.out_channels // layer.groups
    weight = param(ctx, layer, "weights")
    stuffed_shape = (n, channels, *((size - 1) * s + 1 for size, s in zip(x.shape[2:], stride)))
    stuffed = np.zeros(stuffed_shape, x.dtype)
    every = (slice(None), slice(None), *(slice(None, None, s) for s in stride))
    stuffed[every] = x
    crops, pads = [], []
    for i, ((before, after), k, d, op_) in enumerate(zip(g.pads, kernel, dilation, extra)):
        left, right = d * (k - 1) - before, d * (k - 1) - after + op_
        crops.append(slice(max(0, -left), stuffed_shape[2 + i] - max(0, -right)))
        pads.append((max(0, left), max(0, right)))
    crop = (slice(None), slice(None), *crops)
    padded = pad(stuffed[crop], tuple(pads))
    w = weight.reshape(groups, channels // groups, out_per_group, *kernel).swapaxes(1, 2)
    flip: Any = (..., *(slice(None, None, -1),) * ndim)
    w = np.ascontiguousarray(w.reshape(layer.out_channels, channels // groups, *kernel)[flip])
    trainable = layer.trainable
    gpadded, gw_flipped = correlate_backward(padded, w, (1,) * ndim, dilation, groups, gy, need_weight=trainable)
    gstuffed = np.zeros(stuffed_shape, gy.dtype)
    gstuffed[crop] = unpad(gpadded, pads)  # type: ignore[arg-type]
    grads: Grads = {}
    if gw_flipped is not None:  # undo the kernel's flip and the [C_in, C_out/G] <-> [C_out, C_in/G] swap
        gw = gw_flipped[flip].reshape(groups, out_per_group, channels // groups, *kernel).swapaxes(1, 2)
        grads["weights"] = gw.reshape(weight.shape)
    bias_grad(layer, gy, grads)
    return gstuffed[every], grads


# --- window pooling ---


def _pool_geometry(layer, x: np.ndarray):
    spatial_dims(layer, x)
    g = layer.geometry(x.shape[1:])
    extra = tuple(ceil_extra(size, k, s, b, a, d, layer.ceil_mode) for size, k, s, b, a, d in g.dims)
    return g, tuple((b, a + e) for (b, a), e in zip(g.pads, extra))


def _route_to_extreme(layer, x: np.ndarray, gy: np.ndarray, fill: float, pick) -> np.ndarray:
    """Each window's gradient goes to its first extreme in row-major tap order (PyTorch's tie rule:
    aten's max_pool kernels replace the running max only when `val > maxval`)."""
    g, pads = _pool_geometry(layer, x)
    padded = pad(x, pads, fill)
    view = windows(padded, g.kernel, g.stride, g.dilation)
    ndim = len(g.kernel)
    taps = view.reshape(*view.shape[: 2 + ndim], -1)  # [N, C, *out, taps] (a copy, as im2col)
    chosen = pick(taps, axis=-1)
    out = gy.shape[2:]
    gp = np.zeros(padded.shape, gy.dtype)
    for t, tap in enumerate(itertools.product(*(range(k) for k in g.kernel))):
        gp[(slice(None), slice(None), *tap_slices(out, tap, g.stride, g.dilation))] += np.where(chosen == t, gy, 0)
    return unpad(gp, pads)


@backward(MaxPool)
def max_pool_backward(layer: MaxPool, x, y, gy, ctx):
    return _route_to_extreme(layer, x, gy, -np.inf, np.argmax), {}


@backward(MinPool)
def min_pool_backward(layer: MinPool, x, y, gy, ctx):
    return _route_to_extreme(layer, x, gy, np.inf, np.argmin), {}


def _window_mean_backward(layer, x: np.ndarray, gy: np.ndarray, count_include_pad: bool) -> np.ndarray:
    """Spread each window's gradient evenly over it, with forward's divisor (`ops.window_mean`)."""
    g, pads = _pool_geometry(layer, x)
    ones = (1,) * len(g.kernel)
    counts = _counts(layer, x, count_include_pad, g, pads)
    share = gy / counts
    padded_shape = (*x.shape[:2], *(n + b + a for n, (b, a) in zip(x.shape[2:], pads)))
    cols = np.broadcast_to(share[(..., *(None,) * len(g.kernel))], (*share.shape, *g.kernel))
    return unpad(scatter_windows(cols, padded_shape, g.stride, ones), pads)


def _counts(layer, x: np.ndarray, count_include_pad: bool, g, pads) -> np.ndarray:
    """The divisor of every window, as `ops.window_mean` computes it."""
    ones = (1,) * len(g.kernel)
    mask = np.ones((1, 1, *x.shape[2:]), x.dtype)
    if count_include_pad:  # the padding counts, the ceil_mode overhang never does
        mask = pad(pad(mask, g.pads, 1.0), tuple((0, a - pa) for (_, a), (_, pa) in zip(pads, g.pads)))
    else:
        mask = pad(mask, pads)
    return reduce_windows(windows(mask, g.kernel, g.stride, ones), len(g.kernel), np.add)


@backward(AvgPool)
def avg_pool_backward(layer: AvgPool, x, y, gy, ctx):
    return _window_mean_backward(layer, x, gy, layer.counts_padding()), {}  # TensorFlow's `same`: never


@backward(LPPool)
def lp_pool_backward(layer: LPPool, x, y, gy, ctx):
    """y = (K * mean(x^p))^(1/p), so dL/dx = mean_backward(gy * K * y^(1-p) / p) * p * x^(p-1)."""
    p = layer.norm_type
    k = prod(layer.per_dim(layer.kernel_size, spatial_dims(layer, x), "kernel_size"))
    with np.errstate(divide="ignore", invalid="ignore"):  # y = 0 gives NaN, as PyTorch's pow backward
        inner = gy * k * y ** (1 - p)
        return _window_mean_backward(layer, x, inner, True) * x ** (p - 1), {}


# --- adaptive and global pooling ---


def _bin_matrix(size: int, out: int, dtype) -> np.ndarray:
    """[out, size]: row o averages bin o (1/count on its cells)."""
    index, valid = adaptive_bins(size, out)
    m = np.zeros((out, size), dtype)
    rows = np.broadcast_to(np.arange(out)[:, None], index.shape)
    m[rows[valid], index[valid]] = 1.0
    return m / m.sum(axis=1, keepdims=True)


@backward(AdaptiveAvgPool)
def adaptive_avg_pool_backward(layer: AdaptiveAvgPool, x, y, gy, ctx):
    """The mean is linear and separable: per axis, dL/dx = gy @ M with M's rows the bins."""
    g = gy
    for axis, out in enumerate(adaptive_sizes(layer, x), start=2):
        m = _bin_matrix(x.shape[axis], out, gy.dtype)
        g = np.moveaxis(np.moveaxis(g, axis, -1) @ m, -1, axis)
    return g, {}


def _adaptive_max_backward(x: np.ndarray, gy: np.ndarray, sizes: tuple[int, ...]) -> np.ndarray:
    """Reduce the last axis first, so ties go to the first maximum in row-major order, as aten's
    adaptive_max_pool (a 2-D box scanned row by row, replaced only when `val > maxval`)."""
    stages, routes = [x], []
    for axis in reversed(range(2, x.ndim)):
        index, _ = adaptive_bins(stages[-1].shape[axis], sizes[axis - 2])
        gathered = np.take(stages[-1], index, axis=axis)  # [..., out, longest, ...]
        arg = np.expand_dims(gathered.argmax(axis=axis + 1), axis + 1)
        shaped = index.reshape((1,) * axis + index.shape + (1,) * (x.ndim - axis - 1))
        src = np.take_along_axis(np.broadcast_to(shaped, gathered.shape), arg, axis + 1)
        routes.append((axis, src.squeeze(axis + 1), stages[-1].shape))
        stages.append(np.take_along_axis(gathered, arg, axis + 1).squeeze(axis + 1))
    g = gy
    for axis, src, shape in reversed(routes):
        full = np.zeros(shape, gy.dtype)
        moved_full, moved_src, moved_g = (np.moveaxis(a, axis, -1) for a in (full, src, g))
        lead = np.indices(moved_src.shape, sparse=True)[:-1]
        np.add.at(moved_full, (*lead, moved_src), moved_g)
        g = full
    return g


@backward(AdaptiveMaxPool)
def adaptive_max_pool_backward(layer: AdaptiveMaxPool, x, y, gy, ctx):
    return _adaptive_max_backward(x, gy, adaptive_sizes(layer, x)), {}


@backward(GlobalAvgPool)
def global_avg_pool_backward(layer: GlobalAvgPool, x, y, gy, ctx):
    return np.broadcast_to(gy / prod(x.shape[2:]), x.shape).copy(), {}


@backward(GlobalMaxPool)
def global_max_pool_backward(layer: GlobalMaxPool, x, y, gy, ctx):
    """To the first maximum of each map (torch's twin is AdaptiveMaxPool(1)); not split between ties."""
    flat = maps(x)
    first = flat.argmax(axis=2)
    g = np.zeros(flat.shape, gy.dtype)
    np.put_along_axis(g, first[..., None], maps(gy), axis=2)
    return g.reshape(x.shape), {}


# --- dense ---


@backward(Flatten)
def flatten_backward(layer: Flatten, x, y, gy, ctx):
    return gy.reshape(x.shape), {}


@backward(Linear)
def linear_backward(layer: Linear, x, y, gy, ctx):
    weight = param(ctx, layer, "weights")
    grads: Grads = {"weights": gy.T @ x} if layer.trainable else {}
    bias_grad(layer, gy, grads)
    return gy @ weight, grads


# --- normalisation ---


@backward(BatchNorm)
def batch_norm_backward(layer: BatchNorm, x, y, gy, ctx):
    """Eval mode: y = x * scale + shift with fixed running statistics, so dL/dx = gy * scale.

    gamma and beta get gradients only where they are parameters: absent with `affine: false` or
    Keras's `scale`/`center` off, buffers when `frozen` (FrozenBatchNorm2d)."""
    has_weight, has_bias = layer.parts()
    mean, var = (param(ctx, layer, name) for name in ("running_mean", "running_var"))
    weight = param(ctx, layer, "weight") if has_weight else np.ones_like(mean)
    inv_std = 1 / np.sqrt(var + np.asarray(layer.eps, x.dtype))
    g = maps(gy)
    grads: Grads = {}
    if not layer.frozen and layer.trainable:
        if has_weight:
            normalised = (maps(x) - mean[:, None]) * inv_std[:, None]
            grads["weight"] = (g * normalised).sum(axis=(0, 2))
        if has_bias:
            grads["bias"] = g.sum(axis=(0, 2))
    return (g * (weight * inv_std)[:, None]).reshape(x.shape), grads


def _per_channel_sum(a: np.ndarray) -> np.ndarray:
    """Sum over every axis but the channels (a per-channel parameter's gradient)."""
    return a.sum(axis=(0, *range(2, a.ndim)))


def _affine_grads(layer: Layer, gy: np.ndarray, xhat: np.ndarray, on: bool, ctx) -> tuple[np.ndarray, Grads]:
    """A norm's optional weight and bias (forward's `affine_params`): (gy * weight, their gradients)."""
    if not on:
        return gy, {}
    grads = {"weight": _per_channel_sum(gy * xhat), "bias": _per_channel_sum(gy)}
    return gy * channel_vector(gy, param(ctx, layer, "weight")), grads


def _normalized_backward(x: np.ndarray, gxhat: np.ndarray, axes: tuple[int, ...], eps: float):
    """Through xhat = (x - mean) / sqrt(var + eps), statistics over `axes` (forward's `normalized`):
    dL/dx = (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)) / sqrt(var + eps)."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    inv_std = 1 / np.sqrt((centred * centred).mean(axis=axes, keepdims=True) + np.asarray(eps, x.dtype))
    xhat = centred * inv_std
    gx = gxhat - gxhat.mean(axis=axes, keepdims=True) - xhat * (gxhat * xhat).mean(axis=axes, keepdims=True)
    return gx * inv_std


def _normalized(x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    return centred / np.sqrt((centred * centred).mean(axis=axes, keepdims=True) + np.asarray(eps, x.dtype))


@backward(LayerNorm)
def layer_norm_backward(layer: LayerNorm, x, y, gy, ctx):
    """Statistics over the channels (LayerNorm2d) or features at each position."""
    gxhat, grads = _affine_grads(layer, gy, _normalized(x, (1,), layer.eps), layer.elementwise_affine, ctx)
    return _normalized_backward(x, gxhat, (1,), layer.eps), grads


@backward(GroupNorm)
def group_norm_backward(layer: GroupNorm, x, y, gy, ctx):
    n, c = x.shape[:2]
    grouped_shape = (n, layer.num_groups, (c // layer.num_groups) * prod(x.shape[2:]))
    grouped = x.reshape(grouped_shape)
    xhat = _normalized(grouped, (2,), layer.eps).reshape(x.shape)
    gxhat, grads = _affine_grads(layer, gy, xhat, layer.affine, ctx)
    return _normalized_backward(grouped, gxhat.reshape(grouped_shape), (2,), layer.eps).reshape(x.shape), grads


@backward(InstanceNorm)
def instance_norm_backward(layer: InstanceNorm, x, y, gy, ctx):
    """With running statistics a fixed scale (as batchnorm); else each sample's own, differentiated through."""
    axes = tuple(range(2, x.ndim))
    if layer.track_running_stats:
        mean = channel_vector(x, param(ctx, layer, "running_mean"))
        inv_std = 1 / np.sqrt(channel_vector(x, param(ctx, layer, "running_var")) + np.asarray(layer.eps, x.dtype))
        gxhat, grads = _affine_grads(layer, gy, (x - mean) * inv_std, layer.affine, ctx)
        return gxhat * inv_std, grads
    gxhat, grads = _affine_grads(layer, gy, _normalized(x, axes, layer.eps), layer.affine, ctx)
    return _normalized_backward(x, gxhat, axes, layer.eps), grads


@backward(LayerScale)
def layer_scale_backward(layer: LayerScale, x, y, gy, ctx):
    gamma = param(ctx, layer, "gamma")
    return gy * channel_vector(x, gamma), {"gamma": _per_channel_sum(gy * x)}


@backward(Affine)
def affine_backward(layer: Affine, x, y, gy, ctx):
    grads: Grads = {}
    gx = gy
    if layer.scale:
        grads["weight"] = _per_channel_sum(gy * x)
        gx = gy * channel_vector(x, param(ctx, layer, "weight"))
    if layer.bias:
        grads["bias"] = _per_channel_sum(gy)
    return gx, grads


@backward(LRN)
def local_response_norm_backward(layer: LRN, x, y, gy, ctx):
    """y = x * D^-beta, D = k + alpha/size * S, S = sum of x^2 over the channel window:
    dL/dx = gy * D^-beta - 2 alpha beta / size * x * (window sum, transposed, of gy * x * D^(-beta-1))."""
    size = layer.size
    rest = ((0, 0),) * (x.ndim - 2)

    def channel_sums(a: np.ndarray, before: int, after: int) -> np.ndarray:
        padded = np.pad(a, ((0, 0), (before, after), *rest))
        return sliding_window_view(padded, size, axis=1).sum(axis=-1)

    d = layer.k + layer.alpha / size * channel_sums(x * x, size // 2, (size - 1) // 2)
    q = gy * x * d ** (-layer.beta - 1)
    back = channel_sums(q, (size - 1) // 2, size // 2)  # channel j feeds the windows around it
    return gy * d**-layer.beta - 2 * layer.alpha * layer.beta / size * x * back, {}


# --- elementwise ---


@backward(Identity, Dropout, Dropout2d, Dropout3d, StochasticDepth)
def identity_backward(layer, x, y, gy, ctx):
    return gy, {}


@backward(ReLU)
def relu_backward(layer, x, y, gy, ctx):
    return np.where(x > 0, gy, 0), {}  # 0 at x = 0, as torch's threshold_backward


@backward(ReLU6)
def relu6_backward(layer, x, y, gy, ctx):
    return np.where((x > 0) & (x < 6), gy, 0), {}  # hardtanh_backward: 0 at both ends


@backward(LeakyReLU)
def leaky_relu_backward(layer: LeakyReLU, x, y, gy, ctx):
    return np.where(x > 0, gy, gy * np.asarray(layer.negative_slope, gy.dtype)), {}


@backward(Sigmoid)
def sigmoid_backward(layer, x, y, gy, ctx):
    return gy * y * (1 - y), {}


@backward(Tanh)
def tanh_backward(layer, x, y, gy, ctx):
    return gy * (1 - y * y), {}


@backward(SiLU)
def silu_backward(layer, x, y, gy, ctx):
    s = sigmoid_of(x)
    return gy * s * (1 + x * (1 - s)), {}


@backward(GELU)
def gelu_backward(layer: GELU, x, y, gy, ctx):
    if layer.approximate == "tanh":
        c = np.sqrt(2 / np.pi)
        inner = c * (x + 0.044715 * x**3)
        t = np.tanh(inner)
        return gy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)), {}
    cdf = 0.5 * (1 + erf(x / np.sqrt(2)))
    pdf = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
    return (gy * (cdf + x * pdf)).astype(gy.dtype, copy=False), {}


@backward(Softmax)
def softmax_backward(layer: Softmax, x, y, gy, ctx):
    axis = layer.dim + 1 if layer.dim >= 0 else layer.dim
    return y * (gy - (gy * y).sum(axis=axis, keepdims=True)), {}


def resize_matrix(layer: Upsample, size: int, out: int, scale: float | None, dtype) -> np.ndarray:
    """[out, size]: the forward 1-D resize applied to the identity, so row o holds the weight of every input
    cell in output cell o (the same float32 / input-precision index arithmetic as forward, by construction)."""
    eye = np.eye(size, dtype=dtype)
    if layer.mode == "nearest":
        return resize.nearest(eye, 0, out, scale)
    corners = bool(layer.align_corners)
    if layer.mode == "bicubic":
        return resize.cubic(eye, 0, out, scale, corners)
    return resize.linear(eye, 0, out, scale, corners)


@backward(Upsample)
def upsample_backward(layer: Upsample, xs, y, gy, ctx):
    """Every mode is linear and separable: per axis, dL/dx = gy @ M (M: `resize_matrix`). A cell read by
    several outputs (or, at a clamped border, by several taps of one) collects them all. `like:`'s
    second input gives only its size: no gradient flows to it."""
    x = xs[0]
    g = gy
    for axis, scale in enumerate(layer.scales(spatial_dims(layer, x)), start=2):
        size, out = x.shape[axis], gy.shape[axis]
        if out == size and layer.mode == "nearest":
            continue
        m = resize_matrix(layer, size, out, scale, gy.dtype)
        g = np.moveaxis(np.moveaxis(g, axis, -1) @ m, -1, axis)
    return [g, *([None] * (len(xs) - 1))], {}


# --- activations (v2): torch's backward formulas (aten Activation.cpp), kinks included ---


@backward(Hardswish)
def hardswish_backward(layer, x, y, gy, ctx):
    # hardswish_backward: 0 below -3, x/3 + 1/2 on [-3, 3] (both ends included), 1 above.
    return np.where(x < -3, 0, np.where(x <= 3, gy * (x / 3 + 0.5), gy)), {}


@backward(Hardsigmoid)
def hardsigmoid_backward(layer, x, y, gy, ctx):
    # 0 at both ends, and aten's `one_sixth(1.0f / 6.0f)`: 1/6 rounded to float32 even for float64 tensors.
    return np.where((x > -3) & (x < 3), gy * np.asarray(np.float32(1) / np.float32(6), gy.dtype), 0), {}


@backward(Mish)
def mish_backward(layer, x, y, gy, ctx):
    t = np.tanh(softplus_of(x))
    return gy * (t + x * sigmoid_of(x) * (1 - t * t)), {}


def elu_grad(x: np.ndarray, gy: np.ndarray, alpha: float, scale: float, input_scale: float) -> np.ndarray:
    """aten elu_backward (from the input): scale for x > 0, else alpha*scale*input_scale*exp(input_scale*x);
    x = 0 takes the second branch. SELU and CELU are torch's elu with their constants."""
    a, s, i = (np.asarray(v, x.dtype) for v in (alpha, scale, input_scale))
    negative = gy * (i * a * s) * np.exp(np.minimum(x, 0) * i)
    return np.where(x > 0, gy * s, negative)


@backward(ELU)
def elu_backward(layer: ELU, x, y, gy, ctx):
    return elu_grad(x, gy, layer.alpha, 1.0, 1.0), {}


@backward(SELU)
def selu_backward(layer, x, y, gy, ctx):
    return elu_grad(x, gy, SELU_ALPHA, SELU_SCALE, 1.0), {}


@backward(CELU)
def celu_backward(layer: CELU, x, y, gy, ctx):
    return elu_grad(x, gy, layer.alpha, 1.0, 1.0 / layer.alpha), {}


@backward(Softplus)
def softplus_backward(layer: Softplus, x, y, gy, ctx):
    bx = x * np.asarray(layer.beta, x.dtype)
    return np.where(bx > layer.threshold, gy, gy * sigmoid_of(bx)), {}  # exp(bx) / (exp(bx) + 1)


@backward(Hardtanh)
def hardtanh_backward(layer: Hardtanh, x, y, gy, ctx):
    return np.where((x <= layer.min_val) | (x >= layer.max_val), 0, gy), {}


@backward(PReLU)
def prelu_backward(layer: PReLU, x, y, gy, ctx):
    """dL/dx = gy where x > 0, else a * gy; dL/da = the sum of x * gy where x <= 0, per slope."""
    slopes = param(ctx, layer, "weight")
    a = channel_vector(x, np.broadcast_to(slopes, (x.shape[1],)))
    negative = x <= 0
    per_channel = _per_channel_sum(np.where(negative, x * gy, 0))
    grad = per_channel.sum(keepdims=True) if slopes.size == 1 else per_channel
    return np.where(negative, gy * a, gy), {"weight": grad.astype(slopes.dtype, copy=False)}


@backward(LogSoftmax)
def log_softmax_backward(layer: LogSoftmax, x, y, gy, ctx):
    axis = layer.dim + 1 if layer.dim >= 0 else layer.dim
    return gy - np.exp(y) * gy.sum(axis=axis, keepdims=True), {}


# --- rearranging ---


def _fold_padding(g: np.ndarray, axis: int, size: int, before: int, after: int, mode: str) -> np.ndarray:
    """One axis of F.pad's gradient: the interior, plus each padded cell's gradient added into the cell
    it copies (reflect: mirrored without the edge, replicate: the edge cell, circular: wrapped around)."""

    def part(a: np.ndarray, start: int, stop: int) -> np.ndarray:
        index: list[Any] = [slice(None)] * a.ndim
        index[axis] = slice(start, stop)
        return a[tuple(index)]

    out = part(g, before, before + size).copy()
    head, tail = part(g, 0, before), part(g, before + size, before + size + after)
    if mode == "reflect":  # cell j < before copies before - j; tail cell k copies size - 2 - k
        part(out, 1, before + 1)[...] += np.flip(head, axis)
        part(out, size - 1 - after, size - 1)[...] += np.flip(tail, axis)
    elif mode == "replicate":
        part(out, 0, 1)[...] += head.sum(axis=axis, keepdims=True)
        part(out, size - 1, size)[...] += tail.sum(axis=axis, keepdims=True)
    else:  # circular: the head copies the last `before` cells, the tail the first `after`
        part(out, size - before, size)[...] += head
        part(out, 0, after)[...] += tail
    return out


@backward(Pad)
def pad_backward(layer: Pad, x, y, gy, ctx):
    """constant: the interior; the other modes are separable, so one axis at a time (`_fold_padding`)."""
    pads = layer.pads(x.shape[1:])
    if layer.mode == "constant":
        return np.array(unpad(gy, pads)), {}
    g = gy
    for axis, ((before, after), size) in enumerate(zip(pads, x.shape[2:]), start=2):
        g = _fold_padding(g, axis, size, before, after, layer.mode)
    return g, {}


@backward(ChannelShuffle)
def channel_shuffle_backward(layer: ChannelShuffle, x, y, gy, ctx):
    """The inverse permutation: read [C/g, g] back as [g, C/g]."""
    n, c = x.shape[:2]
    return gy.reshape(n, c // layer.groups, layer.groups, *x.shape[2:]).swapaxes(1, 2).reshape(x.shape), {}


@backward(PixelShuffle)
def pixel_shuffle_backward(layer: PixelShuffle, x, y, gy, ctx):
    n, c, h, w = x.shape
    r = layer.upscale_factor
    return gy.reshape(n, c // (r * r), h, r, w, r).transpose(0, 1, 3, 5, 2, 4).reshape(x.shape), {}


@backward(PixelUnshuffle)
def pixel_unshuffle_backward(layer: PixelUnshuffle, x, y, gy, ctx):
    n, c, h, w = x.shape
    r = layer.downscale_factor
    return gy.reshape(n, c, r, r, h // r, w // r).transpose(0, 1, 4, 2, 5, 3).reshape(x.shape), {}


# --- merges ---


@backward(SumMerge)
def add_backward(layer, xs, y, gy, ctx):
    return [gy] * len(xs), {}


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a gradient over the axes its operand was broadcast along (size 1 there, larger in g)."""
    axes = tuple(i for i, (n, m) in enumerate(zip(shape, g.shape)) if n == 1 and m != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


@backward(ProductMerge)
def multiply_backward(layer, xs, y, gy, ctx):
    grads = []
    for i, x in enumerate(xs):
        others = gy
        for j, other in enumerate(xs):
            if j != i:
                others = others * other
        grads.append(unbroadcast(others, x.shape))
    return grads, {}


@backward(ChannelConcat)
def concat_backward(layer, xs, y, gy, ctx):
    bounds = np.cumsum([x.shape[1] for x in xs])[:-1]
    return np.split(gy, bounds, axis=1), {}


@backward(SplitSection)
def split_section_backward(section: SplitSection, x, y, gy, ctx):
    start, stop = section.split.section_bounds(x.shape[1])[section.index]
    g = np.zeros(x.shape, gy.dtype)
    g[:, start:stop] = gy
    return g, {}
