"""Property tests: the engine's shapes, params, MACs and tiling warnings against slow brute-force references.

Each reference below counts things one by one (window positions, scattered cells, weights, multiply-adds)
from the definitions in PyTorch's docs, independently of cnncalc.layers.arithmetic's closed formulas:
- Conv*d: a window starts every `stride` cells from the start of the padded input and must fit inside it.
- *Pool*d with ceil_mode: "sliding windows are allowed to go off-bounds if they start within the left
  padding or the input; windows that would start in the right padded region are ignored" (PyTorch docs);
  ceil rounding adds a window only while the previous one has not reached the padded end.
- ConvTranspose*d: every input cell scatters its kernel (stride apart, dilated taps); the output is that
  scatter's extent, cropped by the padding, plus output_padding.
- Adaptive pooling: bin i covers [floor(i*in/out), ceil((i+1)*in/out)) (AdaptivePooling.h), exact fractions.
"""

import itertools
import json
import math
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnncalc import analyze, parse_spec
from cnncalc.errors import LayerError
from cnncalc.layers import arithmetic

PROPERTY = settings(max_examples=200, deadline=None)


# --- brute-force references (one spatial dimension) ---------------------------------------------------


def conv_window_starts(size: int, k: int, s: int, pad_l: int, pad_r: int, d: int) -> list[int]:
    """Start positions (input coordinates) of every window that fits inside the padded input."""
    starts, p = [], -pad_l
    while p + d * (k - 1) <= size + pad_r - 1:
        starts.append(p)
        p += s
    return starts


def pool_window_starts(size: int, k: int, s: int, pad: int, d: int, ceil_mode: bool) -> list[int]:
    """Like conv; with ceil_mode one more window may hang over the end if it starts before the right padding."""
    if not ceil_mode:
        return conv_window_starts(size, k, s, pad, pad, d)
    starts, p = [], -pad
    # Ceil rounding: a window comes while the one before it (a virtual one a stride before the first)
    # ends short of the padded input's last cell; it must start inside the left padding or the input.
    while (p - s) + d * (k - 1) < size + pad - 1 and p < size:
        starts.append(p)
        p += s
    return starts


def transposed_extent(size: int, k: int, s: int, pad_l: int, pad_r: int, d: int, output_padding: int) -> int:
    """Cells touched when each input cell scatters its dilated kernel, cropped by the padding."""
    touched = {j * s + t * d for j in range(size) for t in range(k)}
    return (max(touched) + 1) - pad_l - pad_r + output_padding


def dropped_tail(size: int, k: int, s: int, pad_l: int, pad_r: int, d: int) -> int:
    """Input cells after the last window that a further window would have had to cover.

    Cells in the regular gap after the last window (a stride wider than the window skips them
    everywhere, by design) are not dropped; neither is padding.
    """
    starts = conv_window_starts(size, k, s, pad_l, pad_r, d)
    if not starts:
        return 0
    last = starts[-1]
    first_unreachable = max(last + d * (k - 1) + 1, last + s)
    return sum(1 for cell in range(size) if cell >= first_unreachable)


# --- strategies ---------------------------------------------------------------------------------------


@st.composite
def conv_dims(draw, ndim: int):
    """Per-dim (size, kernel, stride, pad_before, pad_after, dilation)."""
    return [
        (
            draw(st.integers(1, 12)),
            draw(st.integers(1, 5)),
            draw(st.integers(1, 4)),
            draw(st.integers(0, 3)),
            draw(st.integers(0, 3)),
            draw(st.integers(1, 3)),
        )
        for _ in range(ndim)
    ]


def one_layer(kind: str, args: dict, shape: tuple[int, ...]):
    """Analyze a one-layer spec through the real loader; returns the row."""
    text = f"input: {list(shape)}\nlayers:\n  - {kind}: {json.dumps(args)}\n"
    return analyze(parse_spec(text, "prop.yaml")).rows[0]


# --- conv ---------------------------------------------------------------------------------------------


@PROPERTY
@given(
    ndim=st.integers(1, 3),
    data=st.data(),
    groups=st.integers(1, 3),
    cin_per_group=st.integers(1, 2),
    cout_per_group=st.integers(1, 2),
    bias=st.booleans(),
)
def test_conv_shape_params_macs_and_warning_match_brute_force(ndim, data, groups, cin_per_group, cout_per_group, bias):
    dims = data.draw(conv_dims(ndim))
    cin, cout = groups * cin_per_group, groups * cout_per_group
    args = {
        "out_channels": cout,
        "kernel_size": [k for _, k, *_ in dims],
        "stride": [s for _, _, s, *_ in dims],
        "padding": [[pl, pr] for *_, pl, pr, _ in dims],
        "dilation": [d for *_, d in dims],
        "groups": groups,
        "bias": bias,
    }
    shape = (cin, *(size for size, *_ in dims))
    starts = [conv_window_starts(*dim) for dim in dims]
    if not all(starts):
        with pytest.raises(LayerError, match="does not fit"):
            one_layer("conv", args, shape)
        return
    row = one_layer("conv", args, shape)
    assert row.output_shape == (cout, *(len(s) for s in starts))

    weight_shape = [cout, cin // groups, *(k for _, k, *_ in dims)]
    assert row.params == math.prod(weight_shape) + (cout if bias else 0)

    kernel_cells = math.prod(k for _, k, *_ in dims)
    assert row.macs == sum(kernel_cells * (cin // groups) * cout for _ in itertools.product(*starts))

    dropped = [dropped_tail(*dim) for dim in dims]
    assert bool(row.warnings) == any(dropped)
    for n in dropped:
        if n:
            assert f"the last {n} input" in row.warnings[0]


@PROPERTY
@given(ndim=st.integers(1, 3), data=st.data(), groups=st.integers(1, 2), cin_per_group=st.integers(1, 2))
def test_conv_transpose_shape_params_macs_match_the_scatter(ndim, data, groups, cin_per_group):
    dims = data.draw(conv_dims(ndim))
    output_padding = [
        data.draw(st.integers(0, max(s, d) - 1)) for _, _, s, _, _, d in dims
    ]  # PyTorch: smaller than stride or dilation
    cin, cout = groups * cin_per_group, groups * 3
    args = {
        "out_channels": cout,
        "kernel_size": [k for _, k, *_ in dims],
        "stride": [s for _, _, s, *_ in dims],
        "padding": [[pl, pr] for *_, pl, pr, _ in dims],
        "dilation": [d for *_, d in dims],
        "output_padding": output_padding,
        "groups": groups,
    }
    shape = (cin, *(size for size, *_ in dims))
    expected = [transposed_extent(*dim, op) for dim, op in zip(dims, output_padding)]
    assume(all(n >= 1 for n in expected))
    row = one_layer("conv_transpose", args, shape)
    assert row.output_shape == (cout, *expected)
    # Weight [C_in, C_out/groups, *k] + bias (torch.nn.ConvTranspose*d).
    kernel_cells = math.prod(k for _, k, *_ in dims)
    assert row.params == cin * (cout // groups) * kernel_cells + cout
    # torch.utils.flop_counter counts a transposed conv once per *input* position.
    input_positions = itertools.product(*(range(size) for size, *_ in dims))
    assert row.macs == sum(kernel_cells * cin * (cout // groups) for _ in input_positions)


# --- pooling ------------------------------------------------------------------------------------------


@st.composite
def pool_dims(draw, ndim: int, dilated: bool):
    """Per-dim (size, kernel, stride, pad, dilation) with PyTorch's pad <= kernel // 2."""
    out = []
    for _ in range(ndim):
        k = draw(st.integers(1, 5))
        out.append(
            (
                draw(st.integers(1, 12)),
                k,
                draw(st.integers(1, 4)),
                draw(st.integers(0, k // 2)),
                draw(st.integers(1, 3)) if dilated else 1,
            )
        )
    return out


@PROPERTY
@given(ndim=st.integers(1, 3), data=st.data(), kind=st.sampled_from(["maxpool", "minpool", "avgpool"]))
def test_pool_shape_matches_window_counting(ndim, data, kind):
    dilated = kind != "avgpool"  # AvgPool has no dilation in PyTorch
    dims = data.draw(pool_dims(ndim, dilated))
    ceil_mode = data.draw(st.booleans())
    args = {
        "kernel_size": [k for _, k, *_ in dims],
        "stride": [s for _, _, s, *_ in dims],
        "padding": [p for *_, p, _ in dims],
        "ceil_mode": ceil_mode,
    }
    if dilated:
        args["dilation"] = [d for *_, d in dims]
    shape = (2, *(size for size, *_ in dims))
    starts = [pool_window_starts(*dim, ceil_mode) for dim in dims]
    if kind == "avgpool" and ndim == 3 and any(size < k for size, k, *_ in dims):
        # torch 2.13 AvgPool3d: "input image (T: 4 H: 4 W: 4) smaller than kernel size (kT: 5 ...)",
        # whatever the padding (aten pool3d_shape_check with check_input_size).
        with pytest.raises(LayerError, match="smaller than the kernel"):
            one_layer(kind, args, shape)
        return
    if not all(starts):
        with pytest.raises(LayerError, match="does not fit"):
            one_layer(kind, args, shape)
        return
    row = one_layer(kind, args, shape)
    assert row.output_shape == (2, *(len(s) for s in starts))
    assert row.params == 0 and row.macs == 0
    if ceil_mode:
        assert row.warnings == []  # ceil_mode reads the tail by design
    else:
        dropped = [dropped_tail(size, k, s, p, p, d) for size, k, s, p, d in dims]
        assert bool(row.warnings) == any(dropped)


@PROPERTY
@given(ndim=st.integers(1, 3), data=st.data())
def test_maxpool_padding_over_half_the_kernel_is_refused(ndim, data):
    k = data.draw(st.integers(1, 5))
    pad = data.draw(st.integers(k // 2 + 1, k + 2))
    dilation = data.draw(st.integers(1, 3))
    # torch 2.13 (check_max_pool1d, pool2d/3d_shape_check): pad <= kernel_size // 2, dilation regardless.
    with pytest.raises(LayerError, match="padding"):
        one_layer("maxpool", {"kernel_size": k, "padding": pad, "dilation": dilation}, (1, *[20] * ndim))


@PROPERTY
@given(size=st.integers(1, 40), out=st.integers(1, 40))
def test_adaptive_bins_match_exact_fractions(size, out):
    bins = arithmetic.adaptive_bins(size, out)
    expected = [(math.floor(Fraction(i * size, out)), math.ceil(Fraction((i + 1) * size, out))) for i in range(out)]
    assert bins == expected
    # Every bin is non-empty and together they cover the input from the first cell to the last.
    assert all(end > start for start, end in bins)
    assert bins[0][0] == 0 and bins[-1][1] == size
    assert all(nxt[0] <= prev[1] for prev, nxt in itertools.pairwise(bins))


@PROPERTY
@given(
    spatial=st.lists(st.integers(1, 30), min_size=1, max_size=3),
    data=st.data(),
    kind=st.sampled_from(["adaptive_avgpool", "adaptive_maxpool"]),
)
def test_adaptive_pool_output_is_the_requested_size(spatial, data, kind):
    sizes = data.draw(st.lists(st.one_of(st.none(), st.integers(1, 30)), min_size=len(spatial), max_size=len(spatial)))
    row = one_layer(kind, {"output_size": sizes}, (3, *spatial))
    # PyTorch: None keeps that dimension's input size.
    assert row.output_shape == (3, *(n if o is None else o for n, o in zip(spatial, sizes)))
    assert row.params == 0


# --- dense and flatten --------------------------------------------------------------------------------


@PROPERTY
@given(shape=st.lists(st.integers(1, 9), min_size=1, max_size=4), out=st.integers(1, 50), bias=st.booleans())
def test_flatten_then_linear_counts_every_weight(shape, out, bias):
    text = f"input: {shape}\nlayers:\n  - flatten\n  - linear: {{out_features: {out}, bias: {json.dumps(bias)}}}\n"
    flat, linear = analyze(parse_spec(text)).rows
    features = len(list(itertools.product(*(range(n) for n in shape))))
    assert flat.output_shape == (features,)
    assert linear.params == features * out + (out if bias else 0)
    assert linear.macs == features * out


# --- the closed formulas agree with the references (direct, cheap, many cases) -----------------------


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(1, 40),
    k=st.integers(1, 7),
    s=st.integers(1, 5),
    pl=st.integers(0, 4),
    pr=st.integers(0, 4),
    d=st.integers(1, 3),
)
def test_dropped_cells_formula_matches_brute_force(size, k, s, pl, pr, d):
    assume(conv_window_starts(size, k, s, pl, pr, d))
    assert arithmetic.dropped_cells(size, k, s, pl, pr, d) == dropped_tail(size, k, s, pl, pr, d)


def test_dropped_cells_never_exceed_the_input():
    # Found by the property above (random, so CI could turn red on it): a 1-cell input after 4 cells of
    # left padding, window 3 (kernel 2, dilation 2), stride 3: the unread tail of 2 covers 1 input cell.
    assert arithmetic.dropped_cells(1, 2, 3, 4, 0, 2) == dropped_tail(1, 2, 3, 4, 0, 2) == 1
