"""ONNX export: valid models, shape inference agreeing on every tensor, round trips with no difference."""

from __future__ import annotations

from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")

from cnncalc import analyze, load_spec  # noqa: E402
from cnncalc.engine.diff import diff  # noqa: E402
from cnncalc.errors import CnncalcError  # noqa: E402
from cnncalc.interchange.onnx_export import ONNX_NODES, export_onnx  # noqa: E402
from cnncalc.interchange.onnx_import import import_model, import_onnx  # noqa: E402
from cnncalc.layers import LAYER_KINDS  # noqa: E402
from cnncalc.layers.elementwise import Tanh  # noqa: E402
from cnncalc.spec.build import parse_spec  # noqa: E402
from tests.conftest import DATA, SPECS  # noqa: E402

SHIPPED = sorted(SPECS.glob("*.yaml"))


def _inferred(model) -> dict[str, tuple[int, ...]]:
    typed = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    shapes = {}
    for info in (*typed.graph.value_info, *typed.graph.output):
        dims = info.type.tensor_type.shape.dim
        shapes[info.name] = tuple(d.dim_value for d in dims[1:])  # the batch is symbolic
    return shapes


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_spec_exports_checks_and_round_trips(path: Path):
    spec = load_spec(path)
    model = export_onnx(spec, weights=False)
    onnx.checker.check_model(model, full_check=True)
    shapes, graph = _inferred(model), spec.graph
    for node in graph.nodes[1:]:  # every node's tensor, by name: shape inference agrees with cnncalc
        assert shapes[node.name] == graph.shape(node.index), node.name
    back = import_model(model, f"{path.stem}.onnx")
    assert back.mismatches == []
    result = diff(analyze(spec), analyze(back.spec), str(path), "export")
    assert result.same, [(d.status, d.a and d.a.name, d.b and d.b.name) for d in result.layers]


def test_import_export_import_of_a_fixture_reports_no_difference():
    first = import_onnx(str(DATA / "onnx" / "resnet50.onnx"))
    again = import_model(export_onnx(first.spec, weights=False), "again.onnx")
    assert diff(analyze(first.spec), analyze(again.spec), "a", "b").same


def test_weights_are_the_executors_and_onnxruntime_agrees():
    ort = pytest.importorskip("onnxruntime")
    import numpy as np

    from cnncalc.executor.forward import run_spec

    for name in ("lenet5", "resnet18", "seed_003_pooling", "googlenet"):
        spec = load_spec(SPECS / f"{name}.yaml")
        model = export_onnx(spec, weights=True)
        onnx.checker.check_model(model)
        executor, expected = run_spec(spec)
        x = executor.make_input(spec)
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        (got, *_) = session.run(None, {"input": x})
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4, err_msg=name)


def test_concrete_weights_are_kept():
    from onnx import numpy_helper

    spec = load_spec(SPECS / "seed_000_two_filters.yaml")
    conv = next(layer for layer in spec.graph.nodes[1:] if getattr(layer.op, "weights", None) is not None).op
    model = export_onnx(spec, weights=True)
    stored = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    assert stored[f"{conv.path}.weights"].ravel().tolist() == [float(v) for v in _flat(conv.weights)]


def _flat(values):
    if isinstance(values, list):
        for v in values:
            yield from _flat(v)
    else:
        yield values


VOCABULARY = DATA / "vocabulary.yaml"  # one layer of every kind issue 10 added


def test_every_new_kind_exports_checks_and_round_trips():
    spec = load_spec(VOCABULARY)
    model = export_onnx(spec, weights=False)
    onnx.checker.check_model(model, full_check=True)
    shapes, graph = _inferred(model), spec.graph
    for node in graph.nodes[1:]:
        assert shapes[node.name] == graph.shape(node.index), node.name
    back = import_model(model, "vocabulary.onnx")
    assert back.mismatches == []
    result = diff(analyze(spec), analyze(back.spec), "spec", "export")
    assert result.same, [(d.status, d.a and d.a.name, d.b and d.b.name) for d in result.layers]
    # The kinds come back too, not only the figures (ONNX's ops, or the doc_string hints cnncalc writes).
    kinds = [row.kind for row in analyze(back.spec).leaves]
    assert kinds == [row.kind for row in analyze(spec).leaves]


def test_onnxruntime_agrees_with_the_executor_on_every_new_kind():
    ort = pytest.importorskip("onnxruntime")
    import numpy as np

    from cnncalc.executor.forward import run_spec

    spec = load_spec(VOCABULARY)
    model = export_onnx(spec, weights=True)
    executor, expected = run_spec(spec)
    # Every layer's output, not only the last: ask onnxruntime for each node's tensor.
    names = [node.name for node in spec.graph.nodes[1:]]
    for name in names:
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"input": executor.make_input(spec)})))
    for record in executor.records:  # every layer's values (the executor keeps them), not only the output
        if record.values is not None and record.name in got:
            np.testing.assert_allclose(got[record.name], record.values, rtol=1e-3, atol=1e-4, err_msg=record.name)
    np.testing.assert_allclose(got[names[-1]], expected, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("cls", sorted(set(LAYER_KINDS.values()), key=lambda c: c.kind), ids=lambda c: c.kind)
def test_every_leaf_kind_has_an_onnx_handler(cls: type):
    # A new kind needs an @onnx_node handler in onnx_export.py (a leaf merge finds its merge rule's).
    assert ONNX_NODES.for_(cls.model_construct()) is not None, cls.kind


def test_a_kind_without_an_onnx_handler_is_refused_at_its_layer(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delitem(ONNX_NODES, Tanh)
    path = SPECS / "lenet5.yaml"
    with pytest.raises(CnncalcError) as raised:
        export_onnx(load_spec(path), weights=False)
    # specs/lenet5.yaml: the first `- tanh` (tanh1 in the builder's numbering); the position is the item's own.
    lines = path.read_text().splitlines()
    row = lines.index("  - tanh")
    assert raised.value.message == "layer `tanh1`: cnncalc has no ONNX export for the kind `tanh` yet."
    position = raised.value.position
    assert position is not None and (position.line, position.column) == (row + 1, lines[row].index("tanh") + 1)


def test_each_dropping_kind_is_one_dropout_node_and_comes_back_as_itself():
    spec = parse_spec(
        "name: drops\ninput: [4, 2, 6, 6]\nlayers:\n  - dropout: {p: 0.1}\n  - dropout2d: {p: 0.2}\n"
        "  - dropout3d: {p: 0.3}\n  - stochastic_depth: {p: 0.4, mode: batch}\n"
    )
    model = export_onnx(spec, weights=False)
    assert [node.op_type for node in model.graph.node] == ["Dropout"] * 4
    # ONNX has one Dropout: plain dropout needs no hint, the others keep their kind (and the depth's mode).
    assert [node.doc_string for node in model.graph.node] == [
        "",
        'cnncalc {"kind": "dropout2d", "p": 0.2}',
        'cnncalc {"kind": "dropout3d", "p": 0.3}',
        'cnncalc {"kind": "stochastic_depth", "mode": "batch", "p": 0.4}',
    ]
    back = import_model(model, "drops.onnx").spec
    assert [(row.kind, row.layer.p) for row in analyze(back).leaves] == [
        ("dropout", 0.1),
        ("dropout2d", 0.2),
        ("dropout3d", 0.3),
        ("stochastic_depth", 0.4),
    ]
    assert analyze(back).leaves[-1].layer.mode == "batch"


@pytest.mark.parametrize("fill", ["-.inf", ".inf", "-2.5"])
def test_a_pads_fill_keeps_its_sign_through_export_and_import(fill: str):
    # Review: an infinite fill was written back as `.inf` whatever its sign, so TensorFlow's `same` max pool
    # (pad -inf, then the pool) came back padding with +inf, and every border output became +inf.
    spec = parse_spec(
        f"input: [2, 6, 6]\nlayers:\n  - pad: {{padding: 1, value: {fill}}}\n  - maxpool: {{kernel_size: 3}}\n"
    )
    back = import_model(export_onnx(spec, weights=False), "pad.onnx")
    assert f"value: {fill}" in back.text
    assert back.spec.layers[0].value == spec.layers[0].value


def test_hostile_names_are_escaped_in_every_onnx_name():
    # Security review: only graph.name was escaped; node, tensor and initializer names kept ESC, BEL, newlines
    # and U+2028 raw, for Netron (or a log printing them) to show.
    from cnncalc.shown import shown

    model = export_onnx(load_spec(DATA / "hostile_names.yaml"))
    onnx.checker.check_model(model)
    graph = model.graph
    names = [graph.name, *(n.name for n in graph.node), *(t.name for t in graph.initializer)]
    names += [name for n in graph.node for name in (*n.input, *n.output)]
    names += [v.name for v in (*graph.input, *graph.output)]
    bad = [n for n in names if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029\u202e" for c in n)]
    assert not bad, bad
    assert shown("c\x1b]0;t\x07\n::error::x") in {n.name for n in graph.node}  # escaped as everywhere, not dropped
