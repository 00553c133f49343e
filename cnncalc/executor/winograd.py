"""Winograd's F(2x2, 3x3) for 3x3, stride-1, ungrouped 2-D convolutions (Lavin & Gray, "Fast Algorithms for
Convolutional Neural Networks", 2016): 16 multiplies per 2x2 output tile instead of 36. Which convs it runs is
`Conv.uses_winograd` (numpy-free, so the memory estimate reads the same rule).

Each overlapping 4x4 input tile d becomes V = B^T d B, each 3x3 filter g becomes U = G g G^T (once, at
prepare time), the 16 positions of the 4x4 transform domain are 16 GEMMs [C_out, C] @ [C, tiles], and each
tile's 2x2 output is Y = A^T M A. Only additions transform the input and output, so float32 rounding stays
that of im2col's dot products (tests/executor/test_winograd.py checks it against float64 and torch).
The work runs over bands of tile rows, so a transformed band stays in cache.
"""

from __future__ import annotations

import numpy as np

# The F(2x2, 3x3) filter transform (Lavin & Gray, section 4.1).
G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])

# Tiles per band of tile rows (batch included): enough GEMM columns for BLAS to run at speed on two threads,
# few enough that a band's transforms stay in cache. Measured on VGG-16's convs: 256-512 alike, 2048 is 1.2-1.4x
# slower, and a band sized by bytes (3 MB) was too short for the 28x28 layers' GEMMs.
BAND_TILES = 384


def filter_transform(weight: np.ndarray) -> np.ndarray:
    """U = G g G^T for every filter, as [16, C_out, C] (the 4x4 domain positions first); computed in float64
    over a few output channels at a time, so the temporaries stay small beside the weights."""
    c_out, c = weight.shape[:2]
    u = np.empty((16, c_out, c), weight.dtype)
    step = max(1, (1 << 14) // (9 * c))
    for first in range(0, c_out, step):
        g = weight[first : first + step].astype(np.float64)
        # [C_out, C, 3, 4] = g G^T, then [C_out, C, 4 (b), 4 (a)] = (G g G^T)[a, b]
        both = np.tensordot(np.tensordot(g, G, axes=([3], [1])), G, axes=([2], [1]))
        u[:, first : first + step] = both.transpose(3, 2, 0, 1).reshape(16, len(g), c)
    return u


def correlate(padded: np.ndarray, u: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """The stride-1 3x3 cross-correlation of a padded [N, C, H+2, W+2] with filters `u` (filter_transform), plus
    an optional per-channel bias; the caller pads H and W to even sizes (an odd one's last row is cropped)."""
    n, _, hp, wp = padded.shape
    tiles_h, tiles_w = (hp - 2) // 2, (wp - 2) // 2
    out = np.empty((n, u.shape[1], 2 * tiles_h, 2 * tiles_w), padded.dtype)
    band = max(1, -(-BAND_TILES // (n * tiles_w)))
    for top in range(0, tiles_h, band):  # a loop over bands of rows, not pixels
        _band(padded, u, bias, out, top, min(tiles_h, top + band), tiles_w)
    return out


def _band(x: np.ndarray, u: np.ndarray, bias: np.ndarray | None, out: np.ndarray, top: int, end: int, tw: int) -> None:
    n, c = x.shape[:2]
    rows = end - top
    x = x[:, :, 2 * top : 2 * end + 2]
    r = [x[:, :, k : k + 2 * rows : 2] for k in range(4)]  # row k of every tile in the band: [N, C, rows, W+2]
    # B^T d B, rows first: B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]].
    v = np.empty((4, 4, n, c, rows, tw), x.dtype)
    for a, row in enumerate((r[0] - r[2], r[1] + r[2], r[2] - r[1], r[1] - r[3])):
        col = [row[..., k : k + 2 * tw : 2] for k in range(4)]
        np.subtract(col[0], col[2], out=v[a, 0])
        np.add(col[1], col[2], out=v[a, 1])
        np.subtract(col[2], col[1], out=v[a, 2])
        np.subtract(col[1], col[3], out=v[a, 3])
    m = np.matmul(u[:, None], v.reshape(16, n, c, rows * tw))  # [16, N, C_out, tiles]
    if bias is not None:
        m[5] += bias[:, None]  # M[1, 1] reaches all four outputs of a tile once: A^T's column 1 is [1, 1]
    m = m.reshape(4, 4, n, u.shape[1], rows, tw)
    o = out[:, :, 2 * top : 2 * end]
    # A^T M A with A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]: columns first (j), then rows.
    for j in range(2):
        p = [m[a, 0] + m[a, 1] if j == 0 else m[a, 1] - m[a, 2] for a in range(4)]
        for a in range(4):
            if j == 0:
                p[a] += m[a, 2]
            else:
                p[a] -= m[a, 3]
        both = p[1] + p[2]
        np.add(p[0], both, out=o[:, :, 0::2, j::2])
        np.subtract(p[1], p[2], out=both)
        np.subtract(both, p[3], out=o[:, :, 1::2, j::2])
