"""report/warning_text.py: the warning lines every format prints to stderr."""

from __future__ import annotations

from cnncalc.engine.propagate import analyze
from cnncalc.report.warning_text import warning_lines
from cnncalc.spec.build import load_spec, parse_spec
from tests.conftest import SPECS


def test_a_channels_last_input_gets_one_warning_line_before_the_layers():
    # CS231n writes CIFAR as 32x32x3 (issue 12); the hint is the analysis's first warning, at `input:`
    spec = parse_spec("input: [32, 32, 3]\nlayers:\n  - relu\n", "hwc.yaml")
    hint = "input [32, 32, 3] looks channels-last; cnncalc is channels-first; did you mean [3, 32, 32]?"
    analysis = analyze(spec)
    assert warning_lines(analysis) == [f"hwc.yaml:1:1: warning: {hint}"]
    assert analysis.warnings == [hint]  # so JSON's `warnings` has it too
    assert warning_lines(analyze(load_spec(SPECS / "lenet5.yaml"))) == []


def test_a_layer_name_in_a_warning_is_escaped():
    # the name is the spec's text: an escape sequence in it must not reach the terminal
    spec = parse_spec(
        'input: [3, 224, 224]\nlayers:\n  - conv: {name: "c\\e[2J", out_channels: 8, kernel_size: 3, stride: 2}\n',
        "esc.yaml",
    )
    (line,) = warning_lines(analyze(spec))
    assert "\x1b" not in line and line.startswith("esc.yaml:3:5: warning: c")
