"""`verify_spec` on every shipped spec: the forward pass must agree with the engine on every layer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cnncalc.engine.propagate import analyze
from cnncalc.executor.verify import verify_spec
from cnncalc.spec.build import load_spec
from tests.conftest import SPECS

# Specs above this many MACs take seconds in NumPy; they run only with CNNCALC_SLOW=1.
HEAVY_MACS = 2.0e9
# ...except these, which the default run always covers (issue 3).
ALWAYS = {"resnet18", "alexnet", "alexnet_cs231n"}


def spec_params() -> list:
    params = []
    for path in sorted(SPECS.glob("*.yaml")):
        heavy = path.stem not in ALWAYS and analyze(load_spec(path)).macs > HEAVY_MACS
        marks = [pytest.mark.skipif(not os.environ.get("CNNCALC_SLOW"), reason="heavy; set CNNCALC_SLOW=1")] * heavy
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


@pytest.mark.parametrize("path", spec_params())
def test_shipped_spec_executes_with_the_engines_shapes(path: Path):
    spec = load_spec(path)
    report = verify_spec(spec)
    assert report.match, [layer for layer in report.layers if not layer.match]
    assert len(report.layers) == len(analyze(spec).rows)
    assert report.forward_seconds > 0


def test_batch_is_kept_out_of_the_shapes():
    report = verify_spec(load_spec(SPECS / "seed_000_two_filters.yaml"), batch=3)
    assert report.match and report.batch == 3
    assert report.layers[0].executed_shape == [2, 3, 2]  # seed 000: two 3x2 feature maps
