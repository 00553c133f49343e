"""F.interpolate's CPU algorithms (aten UpSample.h, UpSampleKernel.cpp), one spatial axis at a time.

Nearest, linear and cubic interpolation are separable, so a bilinear, bicubic or trilinear
resize is the 1-D rule applied along each axis. Index arithmetic is done in the precision
PyTorch uses: float32 for `nearest`, the input's own (float32 or float64) for the others.
"""

from __future__ import annotations

import numpy as np

CUBIC_A = -0.75  # aten's get_cubic_upsample_coefficients


def compute_scale(size: int, out: int, scale: float | None, dtype: np.dtype) -> np.floating:
    """aten compute_scales_value: 1/scale_factor when one was given, else in/out."""
    if scale is not None and scale > 0:
        return dtype.type(1.0 / scale)
    return dtype.type(size) / dtype.type(out)


def nearest(x: np.ndarray, axis: int, out: int, scale: float | None) -> np.ndarray:
    """aten nearest_idx: src = min(floor(dst * float32 scale), in - 1), exact for 1x and 2x."""
    size = x.shape[axis]
    if out == size:
        return x
    if out == 2 * size:
        index = np.arange(out) >> 1
    else:
        step = compute_scale(size, out, scale, np.dtype(np.float32))
        index = np.minimum(np.floor(np.arange(out, dtype=np.float32) * step).astype(np.int64), size - 1)
    return np.take(x, index, axis=axis)


def source_positions(size: int, out: int, scale: float | None, align_corners: bool, cubic: bool, dtype: np.dtype):
    """aten area_pixel_compute_scale + area_pixel_compute_source_index, then guard_index_and_lambda."""
    if align_corners:
        step = dtype.type(size - 1) / dtype.type(out - 1) if out > 1 else dtype.type(0)
        real = step * np.arange(out, dtype=dtype)
    else:
        step = compute_scale(size, out, scale, dtype)
        real = step * (np.arange(out, dtype=dtype) + dtype.type(0.5)) - dtype.type(0.5)
        if not cubic:
            real = np.maximum(real, dtype.type(0))
    index = np.minimum(np.floor(real).astype(np.int64), size - 1)
    lam = np.clip(real - index.astype(dtype), 0, 1).astype(dtype)
    return index, lam


def _along(x: np.ndarray, axis: int, index: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """sum_j weights[:, j] * x[index[:, j]] along `axis`."""
    shape = [1] * x.ndim
    shape[axis] = weights.shape[0]
    out = np.take(x, index[:, 0], axis=axis) * weights[:, 0].reshape(shape)
    for j in range(1, weights.shape[1]):
        out += np.take(x, index[:, j], axis=axis) * weights[:, j].reshape(shape)
    return out


def linear(x: np.ndarray, axis: int, out: int, scale: float | None, align_corners: bool) -> np.ndarray:
    size, dtype = x.shape[axis], x.dtype
    i0, lam = source_positions(size, out, scale, align_corners, False, dtype)
    i1 = i0 + (i0 < size - 1)
    return _along(x, axis, np.stack([i0, i1], 1), np.stack([1 - lam, lam], 1).astype(dtype))


def cubic_weights(t: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution with A = -0.75, at distances t+1, t, 1-t, 2-t (aten's order)."""
    a = CUBIC_A

    def near(d):  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], 1)


def cubic(x: np.ndarray, axis: int, out: int, scale: float | None, align_corners: bool) -> np.ndarray:
    size, dtype = x.shape[axis], x.dtype
    i0, lam = source_positions(size, out, scale, align_corners, True, dtype)
    index = np.clip(i0[:, None] - 1 + np.arange(4)[None, :], 0, size - 1)
    return _along(x, axis, index, cubic_weights(lam).astype(dtype))


def interpolate(
    x: np.ndarray, sizes: tuple[int, ...], scales: tuple[float | None, ...], mode: str, align_corners: bool
) -> np.ndarray:
    """Resize the spatial axes of [N, C, *spatial] to `sizes`."""
    for axis, (out, scale) in enumerate(zip(sizes, scales), start=2):
        if mode == "nearest":
            x = nearest(x, axis, out, scale)
        elif mode == "bicubic":
            x = cubic(x, axis, out, scale, align_corners)
        else:
            x = linear(x, axis, out, scale, align_corners)
    return x
