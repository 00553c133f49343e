"""The executor against values real PyTorch computed (tests/reference/op_values.json, written by
benchmarks/torch_op_values.py in float64), so CI checks the v2 kinds' algorithms without torch."""

from __future__ import annotations

import json
from math import prod

import numpy as np
import pytest

from tests.conftest import ROOT
from tests.executor.helpers import execute, make_spec

CASES = json.loads((ROOT / "tests" / "reference" / "op_values.json").read_text())["cases"]


def fixed_input(shape: list[int]) -> np.ndarray:
    """benchmarks/torch_op_values.py's input: sin(1.7 t) * 3 + cos(0.3 t) over t = 0, 1, ..."""
    t = np.arange(prod(shape), dtype=np.float64)
    return (np.sin(t * 1.7) * 3 + np.cos(t * 0.3)).reshape(shape)


@pytest.mark.parametrize("name", CASES)
def test_values_equal_pytorchs(name: str):
    case = CASES[name]
    x = fixed_input(case["input_shape"])
    _, y = execute(make_spec(tuple(case["input_shape"][1:]), [case["layer"]]), x)
    np.testing.assert_allclose(y, np.asarray(case["output"]), rtol=1e-9, atol=1e-9)


def test_every_interpolation_mode_and_padding_mode_is_covered():
    layers = [c["layer"] for c in CASES.values() if isinstance(c["layer"], dict)]
    modes = {(kind, args.get("mode")) for layer in layers for kind, args in layer.items()}
    for mode in ("linear", "bilinear", "bicubic", "trilinear"):
        assert ("upsample", mode) in modes
    for mode in ("reflect", "replicate", "circular"):
        assert ("pad", mode) in modes
    corners = {args.get("align_corners") for layer in layers for args in layer.values() if "align_corners" in args}
    assert corners == {True, False}
