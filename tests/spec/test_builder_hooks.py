"""The builder wires a leaf from its class's declarations (`takes_from_list`, `extra_inputs()`), never from its
kind's name: a kind defined here, outside cnncalc, is wired like the shipped ones. Shapes are worked by hand."""

from collections.abc import Sequence
from textwrap import dedent

import pytest

from cnncalc import analyze, parse_spec
from cnncalc.errors import CnncalcError, Position
from cnncalc.layers import LAYER_KINDS, Layer
from cnncalc.layers.base import Shape
from cnncalc.layers.structure import SumMerge


class Average(SumMerge, Layer):
    """A leaf merge the builder has never heard of: (a + b) / 2 of equal shapes."""

    kind = "average"
    takes_from_list = True

    def infer(self, inputs: Sequence[Shape]) -> Shape:
        return self.merge_shape(inputs, [f"`{name}`" for name in self.from_names])


class Resize(Layer):
    """A leaf that reads the spatial size of the layer named in `target:` (as upsample's `like:`)."""

    kind = "resize_to"
    reads_several = True
    target: str

    def extra_inputs(self) -> dict[str, str]:
        return {"target": self.target}

    def infer(self, inputs: Sequence[Shape]) -> Shape:
        return (inputs[0][0], *inputs[1][1:])


@pytest.fixture
def new_kinds(monkeypatch):
    monkeypatch.setitem(LAYER_KINDS, "average", Average)
    monkeypatch.setitem(LAYER_KINDS, "resize_to", Resize)


def build(text: str):
    return parse_spec(dedent(text).lstrip("\n"), "t.yaml")


def test_a_kind_whose_class_takes_a_from_list_is_a_merge_node_of_the_named_layers(new_kinds):
    spec = build(
        """
        input: [3, 8, 8]
        layers:
          - relu: {name: a}
          - sigmoid: {name: b, from: input}
          - average: {from: [a, b]}
        """
    )
    node = spec.graph.nodes[-1]
    assert node.op.kind == "average" and [spec.graph.nodes[i].name for i in node.inputs] == ["a", "b"]
    assert analyze(spec).rows[-1].output_shape == (3, 8, 8)


def test_the_refusal_of_a_from_list_names_the_kinds_whose_class_takes_one(new_kinds):
    with pytest.raises(CnncalcError) as info:
        build("input: [3, 4, 4]\nlayers:\n  - relu: {name: a}\n  - relu: {from: [a, input]}\n")
    assert info.value.message == (
        "`from:` of `relu` takes one layer name; a list of names is for add, multiply, concat and average."
    )
    assert info.value.position == Position("t.yaml", 4, 18)


def test_the_names_a_leaf_gives_in_extra_inputs_become_graph_inputs_after_its_own(new_kinds):
    spec = build(
        """
        input: [3, 8, 8]
        layers:
          - maxpool: {name: small, kernel_size: 2}
          - conv: {out_channels: 5, kernel_size: 1}
          - resize_to: {target: input}
        """
    )
    node = spec.graph.nodes[-1]
    assert [spec.graph.nodes[i].name for i in node.inputs] == ["conv1", "input"]
    assert analyze(spec).rows[-1].output_shape == (5, 8, 8)  # conv1's 5 channels at the input's 8x8


def test_an_unknown_name_in_extra_inputs_is_refused_at_that_argument_naming_it(new_kinds):
    with pytest.raises(CnncalcError) as info:
        build("input: [3, 4, 4]\nlayers:\n  - resize_to: {target: nothing}\n")
    assert info.value.message.startswith("`target: nothing`: no earlier layer is named `nothing`")
    assert info.value.position == Position("t.yaml", 3, 25)  # the value of `target:`


def test_upsample_like_names_its_second_input_and_nothing_otherwise():
    spec = build(
        """
        input: [2, 6, 6]
        layers:
          - maxpool: {name: small, kernel_size: 2}
          - upsample: {like: input}
          - upsample: {scale_factor: 2, name: doubled}
        """
    )
    like, doubled = spec.graph.nodes[-2], spec.graph.nodes[-1]
    assert like.op.extra_inputs() == {"like": "input"} and doubled.op.extra_inputs() == {}
    assert list(like.inputs) == [1, 0] and list(doubled.inputs) == [like.index]


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        ("residual", "Write `residual: {body: [...]}`."),
        ("concat", "Write `concat: {branches: [...]}`."),
        ("split", "Write `split: {branches: [...]}`."),
        ("repeat", "Write `repeat: {layers: [...]}`."),
        ("add", None),  # `add: [a, b]` may mean `from: [a, b]`: no guess
    ],
)
def test_a_list_right_after_a_structure_kind_is_pointed_to_the_argument_its_class_names(kind, hint):
    with pytest.raises(CnncalcError) as info:
        build(f"input: [3, 4, 4]\nlayers:\n  - {kind}: [relu]\n")
    assert "must be a mapping" in info.value.message and info.value.hint == hint
