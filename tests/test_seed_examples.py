"""The lecture notes' worked examples (shared/seeds/), run by the executor: every number from the slides.

Each spec is specs/seed_*.yaml; its `expect:` block holds the slide's shapes and counts, which the
engine must also meet.
"""

from __future__ import annotations

import numpy as np
import pytest

from cnncalc.engine.propagate import analyze
from cnncalc.executor.forward import run_spec
from cnncalc.spec.build import load_spec
from tests.conftest import SPECS


def outputs(name: str) -> dict[str, np.ndarray]:
    """Each layer's output (batch axis dropped) for the spec specs/<name>.yaml."""
    executor, _ = run_spec(load_spec(SPECS / f"{name}.yaml"))
    return {record.name: record.values[0] for record in executor.records}


def test_seed_004_convolved_feature():
    # 004_dbf4440b6b16890f.txt, "Convolutions": image * [[1,0,1],[0,1,0],[1,0,1]] -> the convolved feature.
    np.testing.assert_array_equal(outputs("seed_004_conv5x5")["conv1"][0], [[4, 3, 4], [2, 4, 3], [2, 3, 4]])


def test_seed_000_two_filters_pool_and_concatenate():
    # 000_74c1b62540589894.txt, "Concretely, Consider": feature maps 1 and 2, pooled (1x2), then joined.
    out = outputs("seed_000_two_filters")
    np.testing.assert_array_equal(out["conv1"][0], [[54, 26], [100, 56], [36, 50]])
    np.testing.assert_array_equal(out["conv1"][1], [[-1, -3], [12, -13], [5, 6]])
    np.testing.assert_array_equal(out["pool1"][:, :, 0], [[54, 100, 50], [-1, 12, 6]])
    np.testing.assert_array_equal(out["flatten1"], [54, 100, 50, -1, 12, 6])


def test_seed_002_conv_with_padding_then_relu():
    # 002_233095ce89c02862.txt, "Convolutional Layer: 2D example": "After convolution" and "& ReLU".
    # The slide's numbers agree with the arithmetic on its image (checked here, value by value).
    out = outputs("seed_002_conv_relu")
    slide = [[0, -4, 0, -3, -1], [-2, -7, -2, -4, 1], [-2, -5, -2, -5, -2], [-2, -7, -2, -5, 0], [0, -4, 0, -4, 0]]
    np.testing.assert_array_equal(out["conv1"][0], slide)
    after_relu = np.zeros((5, 5))
    after_relu[1, 4] = 1  # the single 1 at row 2, column 5
    np.testing.assert_array_equal(out["relu1"][0], after_relu)


@pytest.mark.parametrize(
    ("stride", "slide"),
    [
        (1, [[0, 0, 1, 1], [1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 0, 0]]),
        (3, [[0, 1], [1, 0]]),
    ],
)
def test_seed_002_max_pooling_size_3(stride, slide):
    # 002_233095ce89c02862.txt, "Max pooling layer: 2D example", "E.g. stride 1" and "E.g. stride 3".
    np.testing.assert_array_equal(outputs(f"seed_002_maxpool_stride{stride}")["pool1"][0], slide)


def test_seed_003_stride_2_keeps_every_other_output_of_stride_1():
    # 003_7fd83f4d4fb53afe.txt, "Interpreting Stride > 1": stride 1 and stride 2 outputs (input constructed).
    stride1 = outputs("seed_003_stride1")["conv1"][0]
    stride2 = outputs("seed_003_stride2")["conv1"][0]
    np.testing.assert_array_equal(stride1, [[9, 9, 7], [2, 5, 6], [-7, 9, -10]])
    np.testing.assert_array_equal(stride2, [[9, 7], [-7, -10]])
    np.testing.assert_array_equal(stride2, stride1[::2, ::2])


def test_seed_003_max_mean_min_pooling():
    # 003_7fd83f4d4fb53afe.txt, pooling slides ("Max, Mean, Min"); max [[16,9],[67,13]] is on the slide,
    # mean and min follow from the definitions: (4+8+16+10)/4 = 9.5, ..., min(4,8,16,10) = 4, ...
    out = outputs("seed_003_pooling")["pools"]
    np.testing.assert_array_equal(out[0], [[16, 9], [67, 13]])
    np.testing.assert_array_equal(out[1], [[9.5, 4.75], [25.75, 7.75]])
    np.testing.assert_array_equal(out[2], [[4, 0], [6, 3]])


def test_seed_001_max_pool_2x2_stride_2():
    # 001_2a3459ff36330a72.txt, "Pooling": max pool with 2x2 filters and stride 2 -> [[6, 8], [3, 4]].
    np.testing.assert_array_equal(outputs("seed_001_maxpool")["pool1"][0], [[6, 8], [3, 4]])


def test_seed_002_one_d_filter_with_bias():
    # 002_233095ce89c02862.txt, "Convolutional Layer: 1D example": 0*-1 + 0*1 + 1*-1 = -1, then bias +1.
    out = outputs("seed_002_conv1d")
    assert out["conv1"][0, 0] == -1 + 1


@pytest.mark.parametrize("path", sorted(SPECS.glob("seed_*.yaml")), ids=lambda p: p.stem)
def test_seed_spec_meets_its_expect_block(path):
    # The slides' shapes and counts (e.g. 4 weights for a size-3 filter with bias; 10 x 11 = 110 for a
    # fully connected 10 -> 10), checked against the engine.
    spec = load_spec(path)
    analysis = analyze(spec)
    assert spec.expect is not None
    if spec.expect.output_shape:
        assert list(analysis.output_shape) == spec.expect.output_shape
    if spec.expect.params is not None:
        assert analysis.params == spec.expect.params
    for name, layer in spec.expect.layers.items():
        row = analysis.row(name)
        assert row is not None, name
        assert layer.output_shape is None or list(row.output_shape) == layer.output_shape
        assert layer.params is None or row.params == layer.params


def test_seed_parameter_counts_from_the_slides():
    # 002_233095ce89c02862.txt: "How many weights (including bias)? 4" and "10 x 11 = 110".
    assert analyze(load_spec(SPECS / "seed_002_conv1d.yaml")).row("conv1").params == 4
    assert analyze(load_spec(SPECS / "seed_002_fully_connected.yaml")).params == 110
