"""Grading rules: points, error carried forward (through the graph), tolerance, the key file.

AlexNet figures from the CS231n slides (seed 001) and tests/reference/alexnet_cs231n.json (PyTorch):
conv1 [96, 55, 55] with 34,944 params, pool1 [96, 27, 27], conv2 [256, 27, 27] with 614,656 params.
"""

from __future__ import annotations

import pytest

from cnncalc.checking.answers import read_sheet
from cnncalc.checking.grading import Rules, grade
from cnncalc.engine.propagate import analyze
from cnncalc.spec.build import load_spec
from cnncalc.spec.yaml_source import parse_yaml
from tests.conftest import ROOT, SPECS

DATA = ROOT / "tests" / "data"


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


@pytest.fixture(scope="module")
def graph_net():
    # tests/data/carry_forward.yaml; its true shapes (cnncalc table, checked by hand in the file's comments):
    # stem [8, 16, 16], res [8, 16, 16], mix [10, 16, 16] = 4 + 6 channels, d1 [16, 8, 8], head 16*5 + 5 = 85
    return analyze(load_spec(DATA / "carry_forward.yaml"))


def test_carried_forward_through_a_residual_and_a_concat(graph_net):
    # stem without its padding: (16 - 3)/1 + 1 = 14 -> [8, 14, 14]; res.a and res.b (padding 1) keep 14x14,
    # the identity shortcut is the student's stem, so res = [8, 14, 14] + [8, 14, 14]; mix's branches keep
    # 14x14: [4 + 6, 14, 14]; d1's main conv (14 + 2 - 3)//2 + 1 = 7 and its 1x1 proj (14 - 1)//2 + 1 = 7
    text = (
        "layers:\n  stem: {output_shape: [8, 14, 14]}\n  res: {output_shape: [8, 14, 14]}\n"
        "  mix: {output_shape: [10, 14, 14]}\n  d1: {output_shape: [16, 7, 7]}\n  sum: {output_shape: [16, 7, 7]}\n"
    )
    answers = by_key(graded(graph_net, text))
    assert answers["layers.stem.output_shape"].state == "wrong"
    for name, source in (("res", "stem"), ("mix", "res"), ("d1", "mix"), ("sum", "d1")):
        assert answers[f"layers.{name}.output_shape"].state == "carried_forward", name
        assert f"`{source}` output shape" in answers[f"layers.{name}.output_shape"].hint
    # `side` (from: d1) is recomputed from the student's d1 as [16, 7, 7], so the add `sum` is consistent


def test_a_residual_branch_wrong_then_followed(graph_net):
    # res.a answered with 16 channels instead of 8: res.b's params from that input are (3*3*16)*8 + 8 = 1,160
    # (true 584); the residual's params are its leaves': a's own (3*3*8)*8 + 8 = 584 (its input, the stem, is
    # right) plus act's 0 plus b's 1,160 = 1,744 (true 1,168)
    text = "layers:\n  res.a: {output_shape: [16, 16, 16]}\n  res.b: {params: 1160}\n  res: {params: 1744}\n"
    answers = by_key(graded(graph_net, text))
    assert answers["layers.res.b.params"].state == "carried_forward"
    assert answers["layers.res.params"].state == "carried_forward" and "`res.a`" in answers["layers.res.params"].hint


def test_a_concat_of_the_students_wrong_branches(graph_net):
    # mix.0.p answered with 5 channels (true 4), mix.1.q right with 6: the concat is [5 + 6, 16, 16];
    # d1's main conv then has (3*3*11)*16 + 16 = 1,600 params (true (3*3*10)*16 + 16 = 1,456)
    text = (
        "layers:\n  mix.0.p: {output_shape: [5, 16, 16]}\n  mix.1.q: {output_shape: [6, 16, 16]}\n"
        "  mix: {output_shape: [11, 16, 16]}\n  d1.residual1.main: {params: 1600}\n"
    )
    answers = by_key(graded(graph_net, text))
    assert answers["layers.mix.output_shape"].state == "carried_forward"
    assert "`mix.0.p` output shape [5, 16, 16]" in answers["layers.mix.output_shape"].hint
    assert "`mix.1.q`" not in answers["layers.mix.output_shape"].hint  # a right answer carries nothing
    assert answers["layers.d1.residual1.main.params"].state == "carried_forward"


def test_both_paths_of_a_residual_wrong_alike(graph_net):
    # main's padding forgotten: (16 - 3)//2 + 1 = 7; proj answered [16, 7, 7] as well (true (16 - 1)//2 + 1 = 8):
    # the residual adds the two to [16, 7, 7], carried from both
    text = (
        "layers:\n  d1.residual1.main: {output_shape: [16, 7, 7]}\n"
        "  d1.residual1.shortcut.proj: {output_shape: [16, 7, 7]}\n  d1: {output_shape: [16, 7, 7]}\n"
    )
    d1 = by_key(graded(graph_net, text))["layers.d1.output_shape"]
    assert d1.state == "carried_forward" and "`d1.residual1.main`" in d1.hint and "shortcut.proj`" in d1.hint


def test_nothing_carried_where_the_students_shapes_cannot_be_merged(graph_net):
    # main [16, 7, 7] wrong but proj unanswered: proj is recomputed as the true [16, 8, 8], and
    # [16, 7, 7] + [16, 8, 8] cannot be added, so d1's [16, 7, 7] follows from nothing the student wrote
    text = "layers:\n  d1.residual1.main: {output_shape: [16, 7, 7]}\n  d1: {output_shape: [16, 7, 7]}\n"
    assert by_key(graded(graph_net, text))["layers.d1.output_shape"].state == "wrong"
    # stem wrong [8, 14, 14] gives d1 [16, 7, 7], but side answered right as [16, 8, 8] cannot be added to it
    text = (
        "layers:\n  stem: {output_shape: [8, 14, 14]}\n  side: {output_shape: [16, 8, 8]}\n"
        "  sum: {output_shape: [16, 7, 7]}\n"
    )
    assert by_key(graded(graph_net, text))["layers.sum.output_shape"].state == "wrong"


def test_carried_forward_through_googlenet_inception():
    # Szegedy et al. 2015 Table 1: inception(3a) = 64 + 128 + 32 + 32 = 256 channels at 28x28. A student who
    # gives the 3x3 branch 96 channels (its reduce's count) concatenates 64 + 96 + 32 + 32 = 224, and then
    # inception(3b)'s 1x1 conv (128 filters, no bias) has 224*128 = 28,672 params (true 256*128 = 32,768)
    analysis = analyze(load_spec(SPECS / "googlenet.yaml"))
    text = (
        "layers:\n  inception3a.branch.1.conv_bn2: {output_shape: [96, 28, 28]}\n"
        "  inception3a: {output_shape: [224, 28, 28]}\n  inception3b.branch.0.conv: {params: 28672}\n"
    )
    answers = by_key(graded(analysis, text))
    assert answers["layers.inception3a.output_shape"].state == "carried_forward"
    assert answers["layers.inception3b.branch.0.conv.params"].state == "carried_forward"


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
