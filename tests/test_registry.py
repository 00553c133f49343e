"""ClassRegistry: the one dispatch the forward ops, backward ops and both exporters share."""

from __future__ import annotations

from cnncalc.executor import backward_ops, ops
from cnncalc.interchange import pytorch_export
from cnncalc.layers.structure import AddLayer, ConcatLayer, SumMerge
from cnncalc.registry import ClassRegistry


class Rule:
    pass


class Leaf(Rule):
    pass


class Special(Leaf):
    pass


def test_the_decorator_registers_one_function_for_each_class_and_returns_it_unchanged():
    registry: ClassRegistry[str] = ClassRegistry()
    assert registry.register(Leaf, Special)("leaf") == "leaf"
    assert registry == {Leaf: "leaf", Special: "leaf"}


def test_the_own_class_wins_then_the_nearest_base_then_none():
    registry: ClassRegistry[str] = ClassRegistry({Rule: "rule", Special: "special"})
    assert registry.for_(Special()) == "special"
    assert registry.for_(Leaf()) == "rule"  # through type(obj).__mro__
    assert registry.for_(object()) is None
    del registry[Rule]  # what tests do with monkeypatch.delitem: the lookup sees it at once
    assert registry.for_(Leaf()) is None


def test_a_leaf_merge_finds_its_merge_rules_function_in_every_pass():
    add, concat = AddLayer.model_construct(), ConcatLayer.model_construct()
    assert ops.op_for(add) is ops.OPS[SumMerge]
    assert backward_ops.backward_for(add) is backward_ops.BACKWARD[SumMerge]
    assert pytorch_export.code_for(concat) is not None
    assert ops.op_for(object()) is None
