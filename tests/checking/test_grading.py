"""Grading rules: points, error carried forward (only along a plain chain), tolerance, the key file.

AlexNet figures from the CS231n slides (seed 001) and tests/reference/alexnet_cs231n.json (PyTorch):
conv1 [96, 55, 55] with 34,944 params, pool1 [96, 27, 27], conv2 [256, 27, 27] with 614,656 params.
"""

from __future__ import annotations

import pytest

from cnncalc.checking.answers import read_sheet
from cnncalc.checking.grading import Rules, grade
from cnncalc.engine.propagate import analyze
from cnncalc.spec.build import load_spec, parse_spec
from cnncalc.spec.yaml_source import parse_yaml
from tests.conftest import SPECS


@pytest.fixture(scope="module")
def alexnet():
    return analyze(load_spec(SPECS / "alexnet_cs231n.yaml"))


def graded(analysis, text: str, rules: Rules | None = None):
    return grade(analysis, read_sheet(parse_yaml(text, "a.yaml"), "a.yaml"), rules)


def by_key(result):
    return {a.key: a for a in result.answers}


def test_params_carried_forward_from_wrong_channels(alexnet):
    # pool1 answered with 48 channels: conv2's params from that input are (5*5*48)*256 + 256 = 307,456
    result = graded(alexnet, "layers:\n  pool1: {output_shape: [48, 27, 27]}\n  conv2: {params: 307456}\n")
    conv2 = by_key(result)["layers.conv2.params"]
    assert conv2.state == "carried_forward" and conv2.points == 0.5 and "`pool1`" in conv2.hint
    assert result.score == 0.5 and result.max_score == 2


def test_macs_carried_forward_use_the_students_own_output_shape(alexnet):
    # pool1 [96, 25, 25] (wrong) -> conv2 [256, 25, 25] -> MACs 25*25*5*5*96*256 = 384,000,000
    text = "layers:\n  pool1: {output_shape: [96, 25, 25]}\n  conv2: {output_shape: [256, 25, 25], macs: 384000000}\n"
    answers = by_key(graded(alexnet, text))
    assert answers["layers.conv2.output_shape"].state == "carried_forward"
    assert answers["layers.conv2.macs"].state == "carried_forward"


def test_a_right_earlier_answer_carries_nothing(alexnet):
    answers = by_key(graded(alexnet, "layers:\n  pool1: {output_shape: [96, 27, 27]}\n  conv2: {params: 1}\n"))
    assert answers["layers.conv2.params"].state == "wrong"


def test_no_carrying_forward_across_a_block():
    analysis = analyze(
        parse_spec(
            "input: [8, 8, 8]\nlayers:\n  - conv: {name: a, out_channels: 8, kernel_size: 3, padding: 1}\n"
            "  - residual: {name: r, body: [{conv: {name: b, out_channels: 8, kernel_size: 3, padding: 1}}]}\n"
            "  - conv: {name: c, out_channels: 8, kernel_size: 1}\n"
        )
    )
    # a's shape wrong as [8, 6, 6]; c's [8, 6, 6] would follow only by walking through the residual
    answers = by_key(graded(analysis, "layers:\n  a: {output_shape: [8, 6, 6]}\n  c: {output_shape: [8, 6, 6]}\n"))
    assert answers["layers.c.output_shape"].state == "wrong"


def test_points_and_carry_forward_share(alexnet):
    rules = Rules(points={"layers.conv2.params": 4}, carry_forward=0.25)
    result = graded(alexnet, "layers:\n  pool1: {output_shape: [48, 27, 27]}\n  conv2: {params: 307456}\n", rules)
    assert by_key(result)["layers.conv2.params"].points == 1 and result.max_score == 5


def test_tolerance_accepts_rounded_counts_only(alexnet):
    text = "params: 62.4M\nlayers:\n  conv1: {params: 35K, output_shape: [96, 54, 54]}\n"
    exact = by_key(graded(alexnet, text))
    assert not exact["params"].correct and "rounded" in exact["params"].hint
    loose = by_key(graded(alexnet, text, Rules(tolerance=0.01)))
    assert loose["params"].correct and loose["layers.conv1.params"].correct  # 62,378,344 and 34,944 within 1%
    assert not loose["layers.conv1.output_shape"].correct  # shapes are always exact


def test_the_key_sets_the_questions(alexnet):
    key = read_sheet(parse_yaml("layers:\n  conv1: {params: }\nparams:\n", "key.yaml"), "key.yaml")
    result = graded(alexnet, "layers:\n  conv1: {params: 34944, macs: 1}\n", Rules(questions=key.givens))
    answers = by_key(result)
    assert answers["params"].state == "unanswered" and answers["layers.conv1.macs"].max_points == 0
    assert result.score == 1 and result.max_score == 2
