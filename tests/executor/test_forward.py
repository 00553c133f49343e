"""The executor's walk: no engine arithmetic, parameters made once, spec numbers used, errors positioned."""

from __future__ import annotations

import numpy as np
import pytest

from cnncalc.engine.propagate import analyze
from cnncalc.errors import CnncalcError
from cnncalc.executor import ops
from cnncalc.executor.forward import ExecutionError, Executor
from cnncalc.executor.verify import executed_rows
from cnncalc.layers import LAYER_KINDS
from cnncalc.layers.conv import Conv
from cnncalc.layers.structure import AddLayer, ConcatLayer, MultiplyLayer
from tests.executor.helpers import execute, make_spec

EVERY_KIND = [
    {"conv": {"out_channels": 4, "kernel_size": 3, "padding": "same", "groups": 2}},
    "batchnorm",
    {
        "residual": {
            "body": [
                *("hardswish", "hardsigmoid", "mish", "selu", "elu", "celu", "softplus", "hardtanh", "log_softmax"),
                {"prelu": {"num_parameters": 4}},
                *("layernorm", "layer_scale", "affine", "dropout2d", "dropout3d"),
                {"drop_path": {"p": 0.2}},
                {"groupnorm": {"num_groups": 2}},
                {"instancenorm": {"affine": True, "track_running_stats": True}},
                {"batchnorm": {"frozen": True}},
                {"batchnorm": {"scale": False}},
                {"pad": {"padding": 1, "mode": "reflect"}},
                {"conv": {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": "same"}},
                {"upsample": {"like": "input", "mode": "bilinear"}},
                {"pixel_unshuffle": {"downscale_factor": 2}},
                {"channel_shuffle": {"groups": 4}},
                {"pixel_shuffle": {"upscale_factor": 2}},
                {"maxpool": {"kernel_size": 3, "stride": 2, "padding": "same"}},
                {"avgpool": {"kernel_size": 2, "stride": 1, "padding": "same"}},
                {"upsample": {"size": 8, "mode": "bicubic", "align_corners": True}},
            ]
        }
    },
    {"leaky_relu": {"negative_slope": 0.1}},
    {"conv_transpose": {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1}},
    {"maxpool": {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}},
    {"avgpool": {"kernel_size": 2, "count_include_pad": False}},
    {"minpool": {"kernel_size": 1}},
    {"lppool": {"kernel_size": 1}},
    {"residual": {"body": ["relu6", "sigmoid", "tanh", "gelu", "silu"], "shortcut": ["identity"]}},
    {"concat": {"branches": [[], ["dropout", {"lrn": {"size": 3}}]]}},
    {"repeat": {"times": 2, "layers": [{"upsample": {"scale_factor": 2}}, {"adaptive_maxpool": {"output_size": 4}}]}},
    {"adaptive_avgpool": {"output_size": [None, 2]}},
    "global_maxpool",
    "global_avgpool",
    "flatten",
    {"linear": {"out_features": 3}},
    {"softmax": {"dim": 0}},
    "relu",
]


def test_every_kind_runs_without_the_engines_arithmetic(monkeypatch):
    spec = make_spec((2, 8, 8), EVERY_KIND)
    expected = analyze(spec)
    used = {type(row.layer) for row in expected.rows}
    merges = {AddLayer, MultiplyLayer, ConcatLayer}  # the `from:` kinds, run in tests/executor/test_graph.py
    assert used >= set(LAYER_KINDS.values()) - merges, "the spec should use every registered kind"

    def forbidden(*_args, **_kwargs):
        raise AssertionError("the executor called the engine's arithmetic")

    for cls in set(LAYER_KINDS.values()) | used:
        for method in ("output_shape", "param_count", "macs", "buffer_count", "infer", "merge_shape"):
            monkeypatch.setattr(cls, method, forbidden, raising=False)
    executor, y = execute(spec, np.random.default_rng(0).standard_normal((2, 2, 8, 8)))
    executed = executed_rows(executor, np.zeros((2, 2, 8, 8)))
    assert executed == {row.name: (row.output_shape, row.params) for row in expected.rows}
    np.testing.assert_allclose(y.sum(axis=1), 1.0)  # softmax over the 3 outputs


def test_every_registered_kind_has_a_forward_function():
    missing = {name for name, cls in LAYER_KINDS.items() if ops.op_for(cls.model_construct()) is None}
    assert not missing


def test_prepare_makes_all_parameters_so_the_timed_pass_makes_none():
    spec = make_spec(
        (3, 8, 8), [{"conv": {"out_channels": 4, "kernel_size": 3}}, "batchnorm", "flatten", {"fc": {"units": 2}}]
    )
    executor = Executor(seed=1)
    executor.prepare(spec)
    made = dict(executor.params.arrays)
    executor.forward(spec, executor.make_input(spec, batch=2))
    assert executor.params.arrays == made
    assert len(made) == 2 + 4 + 2  # conv weight/bias, batchnorm weight/bias/mean/var, linear weight/bias


def test_seeds_make_weights_reproducible():
    spec = make_spec((1, 6), [{"conv": {"out_channels": 2, "kernel_size": 3}}])

    def output(seed: int) -> np.ndarray:
        executor = Executor(seed)
        return executor.forward(spec, executor.make_input(spec))

    np.testing.assert_array_equal(output(3), output(3))
    assert not np.array_equal(output(3), output(4))


def test_given_weights_may_leave_out_size_one_axes():
    # Conv weight [2, 1, 1, 2] given as the 2x2 matrix of seed 000's two 1x2 filters.
    spec = make_spec(
        (1, 1, 3), [{"conv": {"out_channels": 2, "kernel_size": [1, 2], "bias": False, "weights": [[6, 8], [-2, 3]]}}]
    )
    _, y = execute(spec, np.array([[[[5, 3, 1]]]]))
    np.testing.assert_array_equal(y[0, :, 0], [[6 * 5 + 8 * 3, 6 * 3 + 8 * 1], [-2 * 5 + 3 * 3, -2 * 3 + 3 * 1]])


def test_a_failing_op_is_a_positioned_check_failure(monkeypatch):
    def broken(layer, x, ctx):
        raise ValueError("shapes (3,) and (4,) not aligned")

    monkeypatch.setitem(ops.OPS, Conv, broken)
    spec = make_spec((1, 5, 5), [{"conv": {"out_channels": 1, "kernel_size": 3}}])
    with pytest.raises(ExecutionError) as caught:
        execute(spec, np.zeros((1, 1, 5, 5)))
    assert caught.value.exit_code == 1
    assert "layer `conv1` (conv) failed on input [1, 5, 5]: shapes (3,) and (4,) not aligned" in str(caught.value)
    assert caught.value.render().startswith(f"{spec.layers[0].source}: error:")  # the layer's file:line:column


@pytest.mark.parametrize("kind", ["conv", "conv_transpose"])
@pytest.mark.parametrize(("channels", "out", "what"), [(6, 4, "6 input channels"), (8, 6, "6 out_channels")])
@pytest.mark.parametrize("keep_values", [True, False])
def test_the_executor_refuses_groups_that_do_not_divide_with_the_engines_error(kind, channels, out, what, keep_values):
    # nn.Conv2d(6, 4, 3, groups=4) raises "in_channels must be divisible by groups" too; the message is ours.
    spec = make_spec((channels, 8, 8), [{kind: {"out_channels": out, "kernel_size": 3, "groups": 4}}])
    with pytest.raises(CnncalcError) as engine:
        analyze(spec)
    executor = Executor(keep_values=keep_values)
    with pytest.raises(CnncalcError) as executed:
        executor.prepare(spec)
    assert f"groups=4 does not divide the {what}." in executed.value.message
    assert (executed.value.message, executed.value.hint, executed.value.position, executed.value.exit_code) == (
        engine.value.message,
        engine.value.hint,
        engine.value.position,
        2,
    )


def test_a_per_channel_bias_is_added_to_every_position_of_its_channel():
    y = np.arange(2 * 3 * 2 * 2, dtype=np.float64).reshape(2, 3, 2, 2)
    got = ops.plus_bias(y.copy(), np.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(got, y + np.array([10.0, 20.0, 30.0])[None, :, None, None])
    flat = ops.plus_bias(np.zeros((2, 3)), np.array([1.0, 2.0, 3.0]))  # a linear layer's [N, F]
    np.testing.assert_array_equal(flat, [[1, 2, 3], [1, 2, 3]])
