"""Slow, obviously-correct reference implementations (loops over output positions): the oracle.

Each follows the definition in PyTorch's documentation (and shared/pytorch-arithmetic.md)
directly, independently of cnncalc's engine and executor code.
"""

from __future__ import annotations

import itertools
import math

import numpy as np


def conv_size(n: int, k: int, s: int, before: int, after: int, d: int) -> int:
    return (n + before + after - d * (k - 1) - 1) // s + 1


def pool_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size; with ceil_mode the last window must start inside input + left pad."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def conv(x, w, b, stride, pads, dilation, groups):
    """y[n, co, o] = sum over the group's input channels and kernel taps of x_padded * w, plus bias."""
    batch, channels = x.shape[:2]
    c_out, kernel = w.shape[0], w.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), *pads))
    outs = [conv_size(n, k, s, b_, a, d) for n, k, s, (b_, a), d in zip(x.shape[2:], kernel, stride, pads, dilation)]
    y = np.zeros((batch, c_out, *outs))
    in_per_group, out_per_group = channels // groups, c_out // groups
    for o in itertools.product(*map(range, outs)):
        window = tuple(slice(oi * s, oi * s + d * (k - 1) + 1, d) for oi, s, k, d in zip(o, stride, kernel, dilation))
        for co in range(c_out):
            g = co // out_per_group
            patch = xp[(slice(None), slice(g * in_per_group, (g + 1) * in_per_group), *window)]
            y[(slice(None), co, *o)] = (patch * w[co]).reshape(batch, -1).sum(axis=1) + (0 if b is None else b[co])
    return y


def conv_transpose(x, w, b, stride, pads, dilation, output_padding, groups):
    """Scatter-add definition: every input cell adds x * w[ci, :, k] at o = i*stride + k*dilation; then crop."""
    batch, channels = x.shape[:2]
    out_per_group, kernel = w.shape[1], w.shape[2:]
    in_per_group = channels // groups
    full = [
        (n - 1) * s + d * (k - 1) + 1 + op
        for n, s, k, d, op in zip(x.shape[2:], stride, kernel, dilation, output_padding)
    ]
    y = np.zeros((batch, out_per_group * groups, *full))
    for i in itertools.product(*map(range, x.shape[2:])):
        for ci in range(channels):
            g = ci // in_per_group
            for k in itertools.product(*map(range, kernel)):
                at = tuple(ii * s + kk * d for ii, s, kk, d in zip(i, stride, k, dilation))
                target = (slice(None), slice(g * out_per_group, (g + 1) * out_per_group), *at)
                y[target] += x[(slice(None), ci, *i)][:, None] * w[(ci, slice(None), *k)][None, :]
    y = y[(slice(None), slice(None), *(slice(b_, n - a) for (b_, a), n in zip(pads, full)))]
    if b is not None:
        y = y + b.reshape(1, -1, *(1,) * len(kernel))
    return y


def pool(x, how, kernel, stride, padding, dilation, ceil_mode, count_include_pad=True, norm_type=2.0):
    """max/min/avg/lp pooling straight from the definitions, one output position at a time."""
    outs = [
        pool_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation)
    ]
    y = np.zeros((*x.shape[:2], *outs))
    for o in itertools.product(*map(range, outs)):
        sub, window_size = x, 1
        for axis, (oi, n, k, s, p, d) in enumerate(zip(o, x.shape[2:], kernel, stride, padding, dilation), start=2):
            start = oi * s - p
            cells = [c for c in range(start, start + d * (k - 1) + 1, d) if 0 <= c < n]
            window_size *= min(start + k, n + p) - start  # avg divisor with count_include_pad
            sub = np.take(sub, cells, axis=axis)
        axes = tuple(range(2, x.ndim))
        cells_count = math.prod(sub.shape[2:])
        if how == "max":
            value = sub.max(axis=axes)
        elif how == "min":
            value = sub.min(axis=axes)
        elif how == "avg":
            value = sub.sum(axis=axes) / (window_size if count_include_pad else cells_count)
        else:  # lp: PyTorch's (avg_pool(x^p) * prod(kernel))^(1/p); padding is 0, so the divisor is the cells
            value = (sub**norm_type).sum(axis=axes) / cells_count * math.prod(kernel)
            value = value ** (1 / norm_type)
        y[(slice(None), slice(None), *o)] = value
    return y


def adaptive_pool(x, how, outs):
    """Bin i of a dim covers [floor(i*in/out), ceil((i+1)*in/out))."""
    y = np.zeros((*x.shape[:2], *outs))
    for o in itertools.product(*map(range, outs)):
        sub = x
        for axis, (oi, n, out) in enumerate(zip(o, x.shape[2:], outs), start=2):
            sub = np.take(sub, range(math.floor(oi * n / out), math.ceil((oi + 1) * n / out)), axis=axis)
        axes = tuple(range(2, x.ndim))
        y[(slice(None), slice(None), *o)] = sub.max(axis=axes) if how == "max" else sub.mean(axis=axes)
    return y


def lrn(x, size, alpha, beta, k):
    """b_c = a_c / (k + alpha/size * sum of a^2 over channels c - size//2 .. c + (size-1)//2)^beta."""
    y = np.zeros_like(x)
    channels = x.shape[1]
    for c in range(channels):
        lo, hi = max(0, c - size // 2), min(channels, c + (size - 1) // 2 + 1)
        y[:, c] = x[:, c] / (k + alpha / size * (x[:, lo:hi] ** 2).sum(axis=1)) ** beta
    return y


def upsample_nearest(x, scales):
    """PyTorch CPU 'nearest' with scale_factor: size floor(in*s); source min(floor(dst * (1/s)), in-1) in float32."""
    for axis, s in enumerate(scales, start=2):
        n = x.shape[axis]
        out = math.floor(n * s)
        source = [min(int(np.floor(np.float32(i) * np.float32(1.0 / s))), n - 1) for i in range(out)]
        if out == 2 * n:
            source = [i // 2 for i in range(out)]
        if out == n:
            source = list(range(n))
        x = np.take(x, source, axis=axis)
    return x


def elementwise(x, fn):
    return np.vectorize(fn, otypes=[float])(x)


ACTIVATIONS = {
    "relu": lambda v: max(v, 0.0),
    "relu6": lambda v: min(max(v, 0.0), 6.0),
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "tanh": math.tanh,
    "silu": lambda v: v / (1 + math.exp(-v)),
    "gelu": lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))),
    "identity": lambda v: v,
    "dropout": lambda v: v,
}


def linear(x, w, b):
    y = np.zeros((x.shape[0], w.shape[0]))
    for n in range(x.shape[0]):
        for o in range(w.shape[0]):
            y[n, o] = sum(x[n, i] * w[o, i] for i in range(x.shape[1])) + (0 if b is None else b[o])
    return y


def batchnorm(x, weight, bias, mean, var, eps):
    y = np.zeros_like(x)
    for c in range(x.shape[1]):
        y[:, c] = (x[:, c] - mean[c]) / math.sqrt(var[c] + eps) * weight[c] + bias[c]
    return y


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --- v2 kinds: one output cell at a time, straight from the definitions ---


def source(dst: int, size: int, out: int, align_corners: bool, scale: float | None, clamp: bool) -> float:
    """Where output cell `dst` samples the input (PyTorch's half-pixel or corner-aligned mapping)."""
    if align_corners:
        return dst * (size - 1) / (out - 1) if out > 1 else 0.0
    step = 1 / scale if scale else size / out
    real = step * (dst + 0.5) - 0.5
    return max(real, 0.0) if clamp else real


def bilinear(x, out_hw, align_corners, scales=(None, None)):
    """[N, C, H, W] -> [N, C, *out_hw]: the weighted sum of the 4 cells around each sampling point."""
    n, c, h, w = x.shape
    y = np.zeros((n, c, *out_hw))
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            sy = source(i, h, out_hw[0], align_corners, scales[0], True)
            sx = source(j, w, out_hw[1], align_corners, scales[1], True)
            y0, x0 = min(int(np.floor(sy)), h - 1), min(int(np.floor(sx)), w - 1)
            ly, lx = sy - y0, sx - x0
            y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
            y[:, :, i, j] = (
                (1 - ly) * (1 - lx) * x[:, :, y0, x0]
                + (1 - ly) * lx * x[:, :, y0, x1]
                + ly * (1 - lx) * x[:, :, y1, x0]
                + ly * lx * x[:, :, y1, x1]
            )
    return y


def keys_cubic(d: float, a: float = -0.75) -> float:
    """Keys' cubic convolution kernel W(d) (PyTorch's A = -0.75)."""
    d = abs(d)
    if d <= 1:
        return (a + 2) * d**3 - (a + 3) * d**2 + 1
    if d < 2:
        return a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a
    return 0.0


def bicubic(x, out_hw, align_corners):
    """Sum over the 4x4 cells around each sampling point of W(dy) * W(dx) * x, indices clamped at the edges."""
    n, c, h, w = x.shape
    y = np.zeros((n, c, *out_hw))
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            sy = source(i, h, out_hw[0], align_corners, None, False)
            sx = source(j, w, out_hw[1], align_corners, None, False)
            fy, fx = int(np.floor(sy)), int(np.floor(sx))
            for a in range(fy - 1, fy + 3):
                for b in range(fx - 1, fx + 3):
                    weight = keys_cubic(sy - a) * keys_cubic(sx - b)
                    y[:, :, i, j] += weight * x[:, :, min(max(a, 0), h - 1), min(max(b, 0), w - 1)]
    return y


def layer_norm_channels(x, eps):
    """At every position, (x - mean over channels) / sqrt(var over channels + eps)."""
    y = np.empty_like(x)
    for index in np.ndindex(x.shape[0], *x.shape[2:]):
        n, rest = index[0], index[1:]
        v = x[(n, slice(None), *rest)]
        y[(n, slice(None), *rest)] = (v - v.mean()) / np.sqrt(v.var() + eps)
    return y


def group_norm(x, groups, eps):
    y = np.empty_like(x)
    per = x.shape[1] // groups
    for n in range(x.shape[0]):
        for g in range(groups):
            v = x[n, g * per : (g + 1) * per]
            y[n, g * per : (g + 1) * per] = (v - v.mean()) / np.sqrt(v.var() + eps)
    return y


def pixel_shuffle(x, r):
    """out[c, h*r + i, w*r + j] = in[c*r*r + i*r + j, h, w] (the definition in PyTorch's docs)."""
    n, c, h, w = x.shape
    y = np.empty((n, c // (r * r), h * r, w * r))
    for ch, hh, ww, i, j in np.ndindex(c // (r * r), h, w, r, r):
        y[:, ch, hh * r + i, ww * r + j] = x[:, ch * r * r + i * r + j, hh, ww]
    return y


def channel_shuffle(x, groups):
    """out channel j*g + i = in channel i*(C/g) + j."""
    per = x.shape[1] // groups
    y = np.empty_like(x)
    for i in range(groups):
        for j in range(per):
            y[:, j * groups + i] = x[:, i * per + j]
    return y


def reflect_index(i: int, n: int) -> int:
    """Mirror an index outside [0, n) about the edge cells (which are not repeated)."""
    period = 2 * (n - 1) if n > 1 else 1
    i = abs(i) % period
    return period - i if i >= n else i


def pad(x, pads, mode, value=0.0):
    """Every output cell from its source index (reflect, replicate, circular) or the constant."""
    out_shape = (*x.shape[:2], *(n + b + a for n, (b, a) in zip(x.shape[2:], pads)))
    y = np.full(out_shape, value, dtype=float)
    for index in np.ndindex(*out_shape[2:]):
        src = []
        for i, (before, _), n in zip(index, pads, x.shape[2:]):
            k = i - before
            if mode == "reflect":
                k = reflect_index(k, n)
            elif mode == "replicate":
                k = min(max(k, 0), n - 1)
            elif mode == "circular":
                k %= n
            elif not 0 <= k < n:
                k = None
            src.append(k)
        if None not in src:
            y[(..., *index)] = x[(..., *src)]
    return y


def tf_same_pool(x, how, kernel, stride):
    """TensorFlow's SAME pooling: ceil(in/s) outputs, windows start at i*s - pad_before, only real cells count."""
    spatial = x.shape[2:]
    outs = [-(-n // s) for n, s in zip(spatial, stride)]
    befores = [max(0, (o - 1) * s + k - n) // 2 for o, s, k, n in zip(outs, stride, kernel, spatial)]
    y = np.empty((*x.shape[:2], *outs))
    for index in np.ndindex(*outs):
        box = tuple(
            slice(max(0, i * s - b), min(n, i * s - b + k))
            for i, s, b, k, n in zip(index, stride, befores, kernel, spatial)
        )
        cells = x[(..., *box)].reshape(*x.shape[:2], -1)
        y[(..., *index)] = cells.max(axis=-1) if how == "max" else cells.mean(axis=-1)
    return y
