"""--explain's worked formulas: each one, evaluated as arithmetic, gives the number it states, which is the row's."""

import json
import math
import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnncalc import analyze, parse_spec
from cnncalc.errors import LayerError

FORMULA = re.compile(r"^(?P<lhs>[A-Za-z]+) = (?P<expr>.+) = (?P<value>[0-9,]+)(?P<note>  \(.*\))?$")
CEIL_CORRECTION = re.compile(r"^(?P<expr>.+) = (?P<naive>\d+), minus 1 because .+$")


def evaluate(expr: str) -> float:
    """The formula as Python arithmetic (floor/ceil as math's; `/` is true division as written)."""
    return eval(expr.replace(",", ""), {"__builtins__": {}, "floor": math.floor, "ceil": math.ceil})


def check_lines(row) -> dict[str, int]:
    """Every `X = formula = n` line evaluates to n; returns {X: n}."""
    stated = {}
    for line in row.explain():
        match = FORMULA.match(line)
        if not match:
            continue
        expr, value = match["expr"], int(match["value"].replace(",", ""))
        correction = CEIL_CORRECTION.match(expr)
        if correction:  # ceil_mode: the naive count, then one window fewer
            assert evaluate(correction["expr"]) == int(correction["naive"]) == value + 1, line
        elif not expr.isidentifier():  # `C = out_channels = 96` names rather than computes
            assert evaluate(expr) == value, line
        stated[match["lhs"]] = value
    return stated


def one_layer(kind: str, args: dict, shape: list[int]):
    return analyze(parse_spec(f"input: {shape}\nlayers:\n  - {kind}: {json.dumps(args)}\n")).rows[0]


def spatial_names(ndim: int) -> list[str]:
    return {1: ["L"], 2: ["H", "W"], 3: ["D", "H", "W"]}[ndim]


@settings(max_examples=150, deadline=None)
@given(
    ndim=st.integers(1, 3),
    size=st.integers(3, 12),
    k=st.integers(1, 4),
    s=st.integers(1, 3),
    pads=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    d=st.integers(1, 2),
    groups=st.sampled_from([1, 2]),
    transposed=st.booleans(),
)
def test_conv_explain_evaluates_to_the_row(ndim, size, k, s, pads, d, groups, transposed):
    args = {"out_channels": 4, "kernel_size": k, "stride": s, "padding": [list(pads)] * ndim, "dilation": d}
    args["groups"] = groups
    kind = "conv_transpose" if transposed else "conv"
    try:
        row = one_layer(kind, args, [2, *[size] * ndim])
    except LayerError:
        assume(False)
    stated = check_lines(row)
    assert [stated[n] for n in spatial_names(ndim)] == list(row.output_shape[1:])
    assert stated["params"] == row.params
    assert stated["macs"] == row.macs


@settings(max_examples=150, deadline=None)
@given(
    ndim=st.integers(1, 3),
    size=st.integers(1, 12),
    k=st.integers(1, 4),
    s=st.integers(1, 3),
    data=st.data(),
    ceil_mode=st.booleans(),
    kind=st.sampled_from(["maxpool", "avgpool"]),
)
def test_pool_explain_evaluates_to_the_row(ndim, size, k, s, data, ceil_mode, kind):
    args = {"kernel_size": k, "stride": s, "padding": data.draw(st.integers(0, k // 2)), "ceil_mode": ceil_mode}
    if kind == "maxpool":
        args["dilation"] = data.draw(st.integers(1, 2))
    try:
        row = one_layer(kind, args, [2, *[size] * ndim])
    except LayerError:
        assume(False)
    stated = check_lines(row)
    assert [stated[n] for n in spatial_names(ndim)] == list(row.output_shape[1:])


def test_linear_and_flatten_explain():
    flatten, linear = analyze(parse_spec("input: [256, 6, 6]\nlayers: [flatten, linear: {out_features: 4096}]")).rows
    # Seed 001: [6x6x256] POOL3 -> FC6 4096 neurons.
    assert flatten.explain() == ["F = 256*6*6 = 9,216"]
    assert check_lines(linear) == {"F": 4096, "params": 9216 * 4096 + 4096, "macs": 9216 * 4096}
