"""The forward pass's memory estimate (made before allocating) is never below what a fast pass really takes:
weights, the fast path's prepared copies (folded convs, Winograd filters) and the pass itself, traced."""

import tracemalloc

import pytest

from cnncalc.engine.pass_memory import forward_pass_estimate, prepared_elements
from cnncalc.engine.propagate import analyze
from cnncalc.executor.forward import Executor
from cnncalc.spec.build import load_spec
from tests.conftest import SPECS
from tests.executor.helpers import make_spec

WINOGRAD_ODD = make_spec(  # small spatial sizes, odd ones, more output channels than input: Winograd's worst
    (16, 7, 5),
    [
        {"conv": {"out_channels": 64, "kernel_size": 3, "padding": 1}},
        {"batchnorm": {}},
        "relu",
        {"conv": {"out_channels": 128, "kernel_size": 3, "padding": 1}},
    ],
)


def traced(spec, batch: int) -> tuple[int, int, int]:
    """(the peak of `prepare`, the weights and prepared copies it leaves, the peak of one fast pass beyond them)."""
    tracemalloc.start()
    try:
        executor = Executor(seed=0)
        executor.prepare(spec)
        prepare_peak = tracemalloc.get_traced_memory()[1]
        x = executor.make_input(spec, batch)
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        executor.forward(spec, x)
        pass_peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert executor.prepared_nbytes > 0  # the fast path made copies, which the estimate must count
    return prepare_peak, executor.params.nbytes + executor.prepared_nbytes, pass_peak


@pytest.mark.parametrize(
    ("spec", "batch"),
    [(WINOGRAD_ODD, 1), (WINOGRAD_ODD, 3), (SPECS / "resnet18.yaml", 1), (SPECS / "mobilenet_v2.yaml", 2)],
    ids=["winograd-odd", "winograd-odd-batch3", "resnet18", "mobilenet_v2-batch2"],
)
def test_the_estimate_covers_the_traced_peak_of_a_fast_pass(spec, batch):
    spec = spec if hasattr(spec, "graph") else load_spec(spec)
    prepare_peak, kept, pass_peak = traced(spec, batch)
    found = forward_pass_estimate(analyze(spec), batch)
    assert found.total_bytes >= kept + pass_peak, (found.total_bytes, kept, pass_peak)
    if prepare_peak > 2**24:  # the prepare-time temporaries (folding, filter transforms) fit too, where weights
        assert found.total_bytes >= prepare_peak  # outweigh the Python objects tracemalloc also counts


@pytest.mark.parametrize(
    "spec", [WINOGRAD_ODD, SPECS / "resnet18.yaml", SPECS / "vgg16.yaml"], ids=["odd", "r18", "vgg"]
)
def test_the_prepared_copies_are_bounded_layer_by_layer_and_absent_when_values_are_kept(spec):
    spec = spec if hasattr(spec, "graph") else load_spec(spec)
    fast, kept = Executor(seed=0), Executor(seed=0, keep_values=True)
    fast.prepare(spec)
    kept.prepare(spec)
    bound = sum(prepared_elements(row) for row in analyze(spec).leaves) * 4
    assert 0 < fast.prepared_nbytes <= bound
    assert kept.prepared_nbytes == 0
