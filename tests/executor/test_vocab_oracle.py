"""The v2 kinds' executor ops against the loop definitions in tests/executor/naive.py, on random cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.executor import naive
from tests.executor.helpers import execute, make_spec
from tests.executor.test_ops_oracle import CASES, random_input


def run(layer, x):
    return execute(make_spec(x.shape[1:], [layer]), x)[1]


@CASES
@given(
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    out=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    corners=st.booleans(),
    data=st.data(),
)
def test_bilinear_and_bicubic_to_a_size(h, w, out, corners, data):
    x = random_input(data, (1, 2, h, w))
    for mode, reference in (("bilinear", naive.bilinear), ("bicubic", naive.bicubic)):
        layer = {"upsample": {"size": list(out), "mode": mode, "align_corners": corners}}
        np.testing.assert_allclose(run(layer, x), reference(x, out, corners), rtol=1e-9, atol=1e-9)


@CASES
@given(h=st.integers(1, 6), w=st.integers(1, 6), scale=st.sampled_from([0.5, 1.5, 2, 2.5, 3]), data=st.data())
def test_bilinear_by_a_scale_factor_samples_at_one_over_scale(h, w, scale, data):
    x = random_input(data, (1, 1, h, w))
    out = (int(h * scale), int(w * scale))
    if min(out) < 1:
        return
    got = run({"upsample": {"scale_factor": scale, "mode": "bilinear"}}, x)
    np.testing.assert_allclose(got, naive.bilinear(x, out, False, (scale, scale)), rtol=1e-9, atol=1e-9)


@CASES
@given(c=st.integers(1, 5), spatial=st.lists(st.integers(1, 4), min_size=0, max_size=3), data=st.data())
def test_layernorm_over_the_channels_at_each_position(c, spatial, data):
    x = random_input(data, (2, c, *spatial))
    got = run({"layernorm": {"elementwise_affine": False, "eps": 1e-5}}, x)
    np.testing.assert_allclose(got, naive.layer_norm_channels(x, 1e-5), rtol=1e-9, atol=1e-9)


@CASES
@given(groups=st.integers(1, 3), per=st.integers(1, 3), spatial=st.lists(st.integers(1, 4), max_size=2), data=st.data())
def test_groupnorm_and_channel_shuffle(groups, per, spatial, data):
    x = random_input(data, (2, groups * per, *spatial))
    got = run({"groupnorm": {"num_groups": groups, "affine": False}}, x)
    np.testing.assert_allclose(got, naive.group_norm(x, groups, 1e-5), rtol=1e-9, atol=1e-9)
    if spatial:
        np.testing.assert_array_equal(run({"channel_shuffle": {"groups": groups}}, x), naive.channel_shuffle(x, groups))


@CASES
@given(c=st.integers(1, 3), r=st.integers(1, 3), h=st.integers(1, 4), w=st.integers(1, 4), data=st.data())
def test_pixel_shuffle_and_unshuffle_invert_each_other(c, r, h, w, data):
    x = random_input(data, (1, c * r * r, h, w))
    y = run({"pixel_shuffle": {"upscale_factor": r}}, x)
    np.testing.assert_array_equal(y, naive.pixel_shuffle(x, r))
    np.testing.assert_array_equal(run({"pixel_unshuffle": {"downscale_factor": r}}, y), x)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_padding_modes(mode):
    @CASES
    @given(sizes=st.lists(st.integers(2, 5), min_size=1, max_size=3), data=st.data())
    def check(sizes, data):
        pads = [(data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))) for n in sizes]
        x = random_input(data, (1, 2, *sizes))
        layer = {"pad": {"padding": [list(p) for p in pads], "mode": mode, "value": 1.5}}
        np.testing.assert_array_equal(run(layer, x), naive.pad(x, pads, mode, 1.5))

    check()


@pytest.mark.parametrize("how", ["max", "avg"])
def test_tensorflow_same_pooling(how):
    @CASES
    @given(
        sizes=st.lists(st.integers(1, 7), min_size=1, max_size=2),
        k=st.integers(1, 3),
        s=st.integers(1, 3),
        data=st.data(),
    )
    def check(sizes, k, s, data):
        x = random_input(data, (1, 2, *sizes))
        layer = {f"{how}pool": {"kernel_size": k, "stride": s, "padding": "same"}}
        expected = naive.tf_same_pool(x, how, [k] * len(sizes), [s] * len(sizes))
        np.testing.assert_allclose(run(layer, x), expected, rtol=1e-12, atol=1e-12)

    check()
