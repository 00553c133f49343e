"""The executor on the graph: merges, broadcasting, split sections and several outputs, against NumPy written
out by hand (and, where torch is installed, against the PyTorch twin with the same weights)."""

from __future__ import annotations

import numpy as np
import pytest

from cnncalc.engine.propagate import analyze
from cnncalc.executor.verify import verify_spec
from cnncalc.spec.build import load_spec
from tests.conftest import ROOT
from tests.executor.helpers import execute, make_spec

GRAPH_SPEC = ROOT / "tests" / "data" / "graph_constructs.yaml"


def values(executor, name: str) -> np.ndarray:
    return next(r.values for r in executor.records if r.name == name)


def test_add_multiply_and_concat_from_named_layers():
    x = np.arange(2 * 2 * 3 * 3, dtype=float).reshape(2, 2, 3, 3) - 8
    spec = make_spec(
        (2, 3, 3),
        [
            {"relu": {"name": "r"}},
            {"global_maxpool": {"name": "g", "from": "input"}},
            {"add": {"name": "s", "from": ["r", "input"]}},
            {"multiply": {"name": "m", "from": ["input", "g"]}},
            {"concat": {"name": "c", "from": ["s", "m", "input"]}},
        ],
    )
    executor, y = execute(spec, x)
    relu = np.maximum(x, 0)
    gate = x.max(axis=(2, 3), keepdims=True)  # [N, C, 1, 1], broadcast over H and W
    np.testing.assert_array_equal(values(executor, "s"), relu + x)
    np.testing.assert_array_equal(values(executor, "m"), x * gate)
    np.testing.assert_array_equal(y, np.concatenate([relu + x, x * gate, x], axis=1))


def test_split_runs_each_branch_on_its_section():
    x = np.linspace(-1, 1, 1 * 6 * 2 * 2).reshape(1, 6, 2, 2)
    spec = make_spec((6, 2, 2), [{"split": {"sections": [1, 2, 3], "branches": [[], ["relu"], ["sigmoid"]]}}])
    _, y = execute(spec, x)
    expected = np.concatenate([x[:, :1], np.maximum(x[:, 1:3], 0), 1 / (1 + np.exp(-x[:, 3:]))], axis=1)
    np.testing.assert_allclose(y, expected)


def test_an_se_gate_is_a_real_broadcast_multiply():
    x = np.random.default_rng(0).standard_normal((1, 4, 5, 5))
    spec = make_spec(
        (4, 5, 5),
        [
            {
                "multiply": {
                    "branches": [[], ["global_avgpool", {"conv": {"out_channels": 4, "kernel_size": 1}}, "sigmoid"]]
                }
            }
        ],
    )
    executor, y = execute(spec, x)
    w = executor.params.arrays[("multiply1.1.conv1", "weights")].reshape(4, 4)
    b = executor.params.arrays[("multiply1.1.conv1", "bias_values")]
    gate = 1 / (1 + np.exp(-(w @ x.mean(axis=(2, 3))[0] + b)))
    np.testing.assert_allclose(y[0], x[0] * gate[:, None, None])


def test_several_outputs_are_returned_in_order():
    spec = load_spec(GRAPH_SPEC)
    executor, first = execute(spec, np.zeros((1, 8, 12, 12)))
    assert [o.shape[1:] for o in executor.outputs] == [(32, 6, 6), (16, 12, 12), (16, 6, 6)]
    assert first is executor.outputs[0]


def test_verify_checks_every_row_of_the_graph_spec():
    spec = load_spec(GRAPH_SPEC)
    report = verify_spec(spec, analyze(spec))
    assert report.match and {layer.name for layer in report.layers} >= {"p4", "both", "gated", "units.1.split1"}


def test_the_graph_spec_agrees_with_the_pytorch_twin():
    pytest.importorskip("torch")
    from tests.executor.test_against_torch import torch_output

    spec = load_spec(GRAPH_SPEC)
    x = np.random.default_rng(1).standard_normal((2, 8, 12, 12))
    executor, ours = execute(spec, x)
    np.testing.assert_allclose(ours, torch_output(spec, executor, x), rtol=1e-9, atol=1e-9)
