"""The v2 activations: shape kept, params only for PReLU (nn.PReLU's num_parameters)."""

import pytest

from cnncalc import analyze, parse_spec
from cnncalc.errors import CnncalcError

KINDS = ["hardswish", "hardsigmoid", "mish", "selu", "elu", "celu", "softplus", "hardtanh", "log_softmax"]


def rows(text: str):
    return analyze(parse_spec(text, "t.yaml")).rows


def test_pointwise_activations_keep_the_shape_and_have_no_params():
    got = rows(f"input: [3, 5, 5]\nlayers: [{', '.join(KINDS)}]")
    assert [(r.output_shape, r.params, r.macs) for r in got] == [((3, 5, 5), 0, 0)] * len(KINDS)
    assert all(r.explain() for r in got)


@pytest.mark.parametrize(("n", "params"), [(1, 1), (16, 16)])
def test_prelu_has_one_slope_or_one_per_channel(n, params):
    # nn.PReLU() has 1 parameter, nn.PReLU(16) has 16.
    assert rows(f"input: [16, 4, 4]\nlayers: [prelu: {{num_parameters: {n}}}]")[0].params == params


@pytest.mark.parametrize(
    ("layer", "gist"),
    [
        ("prelu: {num_parameters: 3}", "num_parameters is 3, but the input has 16 channels"),
        ("hardtanh: {min_val: 1, max_val: 0}", "max_val must be greater than min_val"),
        ("celu: {alpha: 0}", "alpha must not be 0"),
        ("log_softmax: {dim: 3}", "dim 3 is out of range"),
    ],
)
def test_refusals(layer, gist):
    with pytest.raises(CnncalcError) as info:
        rows(f"input: [16, 4, 4]\nlayers:\n  - {layer}\n")
    assert gist in info.value.message
