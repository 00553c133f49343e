"""ONNX export: valid models, shape inference agreeing on every tensor, round trips with no difference."""

from __future__ import annotations

from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")

from cnncalc import analyze, load_spec  # noqa: E402
from cnncalc.engine.diff import diff  # noqa: E402
from cnncalc.interchange.onnx_export import export_onnx  # noqa: E402
from cnncalc.interchange.onnx_import import import_model, import_onnx  # noqa: E402
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
