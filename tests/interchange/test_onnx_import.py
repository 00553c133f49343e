"""ONNX import: the torchvision fixtures against PyTorch's own figures, and small graphs built with onnx.helper."""

from __future__ import annotations

import json
from math import prod

import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from cnncalc import analyze  # noqa: E402
from cnncalc.interchange.onnx_import import UnsupportedOps, import_model, import_onnx  # noqa: E402
from cnncalc.layers import LAYER_KINDS  # noqa: E402
from tests.conftest import DATA  # noqa: E402

FIXTURES = DATA / "onnx"
# Made by tests/data/onnx/make_fixtures.py: torch 2.14.1 / torchvision 0.29.1 measured each model
# (sum of parameters' numel, FlopCounterMode / 2) and exported it with constant folding off.
FIGURES = json.loads((FIXTURES / "torch_figures.json").read_text())


def _missing(*kinds: str) -> list[str]:
    return [k for k in kinds if k not in LAYER_KINDS]


NEEDS = {  # kinds the vocabulary branch adds; the tests run by themselves once they land
    "mobilenet_v3_large": _missing("hardswish", "hardsigmoid"),
    "convnext_tiny": _missing("layernorm", "layer_scale"),
}


@pytest.mark.parametrize("model", sorted(FIGURES))
def test_torchvision_fixture_totals_and_shapes(model):
    if NEEDS.get(model):
        pytest.skip(f"needs the kind(s) {', '.join(NEEDS[model])} (being added on the vocabulary branch)")
    result = import_onnx(str(FIXTURES / f"{model}.onnx"))
    analysis = analyze(result.spec)
    truth = FIGURES[model]
    # inception_v3's auxiliary head is not run in eval mode, so its params are not in the graph.
    assert analysis.params == truth["params"] - truth["params_not_run"]
    assert analysis.buffers == truth["buffers"] - truth["buffers_not_run"]
    assert analysis.macs == truth["macs"]
    assert [list(shape) for _, shape in analysis.outputs] == truth["outputs"]
    # Every layer's shape equals onnx.shape_inference's for its output tensor.
    assert len(result.tensors) > 50
    assert result.mismatches == []


def test_published_resnet50_figures():
    # torchvision's model table: ResNet-50 has 25,557,032 params and 4.09 GFLOPS (multiply-adds).
    analysis = analyze(import_onnx(str(FIXTURES / "resnet50.onnx")).spec)
    assert analysis.params == 25_557_032
    assert round(analysis.macs / 1e9, 2) == 4.09


def test_resnet50_is_readable():
    text = import_onnx(str(FIXTURES / "resnet50.onnx")).text
    assert text.count("- residual:") == 16  # ResNet-50's 3 + 4 + 6 + 3 bottlenecks
    assert "from:" not in text  # a chain of residuals needs no reference
    assert "name: layer1_0\n" in text and "conv: {name: conv1, out_channels: 64, kernel_size: 1, bias: false}" in text


def test_params_are_counted_per_use_not_per_initializer():
    # torch's exporter shares equal initializers behind Identity nodes (ResNet-50's file has 200).
    model = onnx.load(str(FIXTURES / "resnet50.onnx"), load_external_data=False)
    sizes = {t.name: prod(t.dims) for t in model.graph.initializer}
    alias = {n.output[0]: n.input[0] for n in model.graph.node if n.op_type == "Identity"}
    per_use = 0
    for node in model.graph.node:
        slots = {"Conv": (1, 2), "Gemm": (1, 2), "BatchNormalization": (1, 2)}.get(node.op_type, ())
        per_use += sum(sizes[alias.get(node.input[s], node.input[s])] for s in slots if s < len(node.input))
    running = {n.input[i] for n in model.graph.node if n.op_type == "BatchNormalization" for i in (3, 4)}
    once = sum(size for name, size in sizes.items() if name not in {alias.get(r, r) for r in running})
    assert analyze(import_onnx(str(FIXTURES / "resnet50.onnx")).spec).params == per_use == 25_557_032
    assert once < per_use  # summing the initializers undercounts


def test_fpn_levels_become_outputs_with_from():
    result = import_onnx(str(FIXTURES / "resnet18_fpn.onnx"))
    assert "outputs: [" in result.text and "add: {name:" in result.text and "from: [" in result.text


# --- graphs built here ---------------------------------------------------------------------------------


def _model(nodes, inputs, outputs, initializers=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _info(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def _weight(name, dims):
    return helper.make_tensor(name, TensorProto.FLOAT, dims, [0.0] * prod(dims))


def _ints(name, values):
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


def test_unsupported_ops_are_all_listed_with_node_and_position():
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3]),
        helper.make_node("Erf", ["c"], ["e"], name="erf_here"),
        helper.make_node("Relu", ["e"], ["r"], name="relu"),
        helper.make_node("Transpose", ["r"], ["y"], name="swap", perm=[0, 2, 3, 1]),
    ]
    model = _model(nodes, [_info("x", [1, 3, 8, 8])], [_info("y", None)], [_weight("w", [4, 3, 3, 3])])
    with pytest.raises(UnsupportedOps) as caught:
        import_model(model, "two_bad.onnx")
    found = [(u.position, u.node, u.op_type) for u in caught.value.found]
    assert found == [(1, "erf_here", "Erf"), (3, "swap", "Transpose")]
    assert "node 1 `erf_here` (Erf)" in caught.value.render()
    assert caught.value.render().splitlines()[1:3] == [  # one node a line
        "  node 1 `erf_here` (Erf): an error function that is not part of a GELU",
        "  node 3 `swap` (Transpose): a transpose to channels-last that is not transposed back "
        "(cnncalc's layers are channels-first)",
    ]


def test_an_unsupported_node_name_cannot_break_the_list():
    nodes = [helper.make_node("Erf", ["x"], ["y"], name="evil\n::error::x\x1b[2J")]
    with pytest.raises(UnsupportedOps) as caught:
        import_model(_model(nodes, [_info("x", [1, 3, 4, 4])], [_info("y", None)]), "evil.onnx")
    lines = caught.value.render().splitlines()
    assert len(lines) == 3 and "evil\\n\\x3a:error\\x3a:x\\x1b[2J" in lines[1]


def test_flatten_chain_weights_as_graph_inputs_and_opset_9():
    # Older exporters: weights listed as graph inputs, view(x.size(0), -1) as Shape/Gather/Concat/Reshape.
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Shape", ["c"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n"], ["n1"], axes=[0]),
        helper.make_node("Concat", ["n1", "minus_one"], ["target"], axis=0),
        helper.make_node("Reshape", ["c", "target"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1),
    ]
    zero = helper.make_tensor("zero", TensorProto.INT64, [], [0])
    inputs = [_info("x", [1, 2, 5, 5]), _info("w", [4, 2, 3, 3]), _info("b", [4]), _info("fw", [10, 100])]
    inputs.append(_info("fb", [10]))
    model = _model(nodes, inputs, [_info("y", [1, 10])], [zero, _ints("minus_one", [-1])], opset=9)
    result = import_model(model, "old.onnx")
    analysis = analyze(result.spec)
    # conv: 4*2*3*3 + 4 = 76; linear 100*10 + 10 = 1010 (the graph inputs' shapes).
    assert [(r.kind, r.params) for r in analysis.leaves] == [("conv", 76), ("flatten", 0), ("linear", 1010)]
    assert analysis.output_shape == (10,)


def test_weights_from_constant_subgraphs_and_matmul_add_and_silu():
    nodes = [
        helper.make_node("ConstantOfShape", ["wshape"], ["w"]),
        helper.make_node("Reshape", ["wflat", "wshape"], ["w2"]),
        helper.make_node("Conv", ["x", "w"], ["c1"], name="a", kernel_shape=[1, 1]),
        helper.make_node("Conv", ["c1", "w2"], ["c2"], name="b", kernel_shape=[1, 1]),
        helper.make_node("Sigmoid", ["c2"], ["sg"], name="act_sig"),
        helper.make_node("Mul", ["c2", "sg"], ["act"], name="act"),
        helper.make_node("GlobalAveragePool", ["act"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("MatMul", ["f", "mw"], ["m"], name="fc"),
        helper.make_node("Add", ["m", "mb"], ["y"], name="fc_bias"),
    ]
    inits = [_ints("wshape", [3, 3, 1, 1]), _weight("wflat", [9]), _weight("mw", [3, 7]), _weight("mb", [7])]
    result = import_model(_model(nodes, [_info("x", [1, 3, 4, 4])], [_info("y", [1, 7])], inits), "sub.onnx")
    rows = analyze(result.spec).leaves
    assert [(r.kind, r.params) for r in rows] == [
        ("conv", 9),  # weight [3, 3, 1, 1] from ConstantOfShape, no bias input
        ("conv", 9),  # weight: a Reshape of a 9-element constant to [3, 3, 1, 1]
        ("silu", 0),  # x * sigmoid(x)
        ("global_avgpool", 0),
        ("flatten", 0),
        ("linear", 28),  # 3*7 + 7: the MatMul and the Add are one layer with a bias
    ]


def test_caffe_sum_and_asymmetric_ceil_pool_pads():
    # A Caffe-converted graph: residual as Sum, pooling with Caffe's ceil rule written as extra end padding.
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="branch2a", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="branch2a_relu"),
        helper.make_node("Sum", ["r", "x"], ["s"], name="res2a"),
        helper.make_node("MaxPool", ["s"], ["y"], name="pool1", kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1]),
    ]
    model = _model(nodes, [_info("x", [1, 4, 112, 112])], [_info("y", None)], [_weight("w", [4, 4, 3, 3])])
    result = import_model(model, "caffe.onnx")
    analysis = analyze(result.spec)
    # (112 + 0 + 1 - 3) / 2 + 1 = 56: ONNX shape inference gives [1, 4, 56, 56].
    assert analysis.output_shape == (4, 56, 56)
    assert result.mismatches == []
    assert "- residual:" in result.text and "padding: [[0, 1], [0, 1]]" in result.text


@pytest.mark.skipif(
    "affine" not in LAYER_KINDS, reason="needs the kind `affine` (being added on the vocabulary branch)"
)
def test_caffe_scale_as_per_channel_mul_add_is_affine():
    nodes = [
        helper.make_node("Mul", ["x", "gamma"], ["m"], name="scale"),
        helper.make_node("Add", ["m", "beta"], ["y"], name="shift"),
    ]
    inits = [_weight("gamma", [1, 8, 1, 1]), _weight("beta", [1, 8, 1, 1])]
    result = import_model(_model(nodes, [_info("x", [1, 8, 5, 5])], [_info("y", None)], inits), "scale.onnx")
    rows = analyze(result.spec).leaves
    assert [(r.kind, r.params) for r in rows] == [("affine", 16)]  # Caffe's Scale: C + C


# --- norms as torch decomposes them ---------------------------------------------------------------------


def _leaves(result):
    return [(r.name, r.kind, r.params, r.output_shape) for r in analyze(result.spec).leaves]


def test_decomposed_layernorms_are_one_layer_each_with_torchs_params():
    # tests/data/onnx/make_norm_fixtures.py: torch.onnx.export at opset 16 of ConvNeXt's channels-first LayerNorm
    # (ReduceMean over dim 1 ... Div, then weight[:, None, None] * x + bias), torchvision's LayerNorm2d (the same
    # over the last axis between two Transposes) and nn.LayerNorm on a vector. torch 2.14.1 printed the params
    # and output shapes quoted here; in all 1002 params, output [10].
    result = import_onnx(str(FIXTURES / "layernorm_decomposed.onnx"))
    assert _leaves(result) == [
        ("stem", "conv", 224, (8, 10, 10)),
        ("stem_norm", "layernorm", 16, (8, 10, 10)),
        ("down", "conv", 528, (16, 5, 5)),
        ("down_norm", "layernorm", 32, (16, 5, 5)),
        ("pool", "global_avgpool", 0, (16, 1, 1)),
        ("flatten", "flatten", 0, (16,)),
        ("head_norm", "layernorm", 32, (16,)),
        ("fc", "linear", 170, (10,)),
    ]
    assert analyze(result.spec).params == 1002
    assert result.mismatches == []
    # Both LayerNorm2d modules were built with eps=1e-6 (the Add before the Sqrt); nn.LayerNorm's is the default.
    assert "layernorm: {name: stem_norm, eps: 1e-06}" in result.text
    assert "layernorm: {name: head_norm}" in result.text


def test_torchs_groupnorm_export_is_one_groupnorm():
    # make_norm_fixtures.py, opset 16: nn.GroupNorm is Reshape [N, G, -1] / InstanceNormalization (Constant ones
    # and zeros) / Reshape back / Mul(weight) / Add(bias); GroupNorm(affine=False) multiplies by a Constant 1 and
    # adds 0. torch 2.14.1: gn1 (GroupNorm(2, 8)) 16 params, gn2 (GroupNorm(4, 12, eps=1e-3, affine=False)) 0;
    # 1116 in all, output [12, 10, 10].
    result = import_onnx(str(FIXTURES / "groupnorm_decomposed.onnx"))
    assert _leaves(result) == [
        ("conv1", "conv", 224, (8, 12, 12)),
        ("gn1", "groupnorm", 16, (8, 12, 12)),
        ("conv2", "conv", 876, (12, 10, 10)),
        ("gn2", "groupnorm", 0, (12, 10, 10)),
        ("relu", "relu", 0, (12, 10, 10)),
    ]
    assert result.mismatches == []
    assert "groupnorm: {name: gn1, num_groups: 2}" in result.text
    assert "groupnorm: {name: gn2, num_groups: 4, eps: 0.001, affine: false}" in result.text


@pytest.mark.parametrize("fixture", ["layernorm_decomposed", "groupnorm_decomposed"])
def test_decomposed_norms_round_trip_with_no_difference(fixture):
    from cnncalc.engine.diff import diff
    from cnncalc.interchange.onnx_export import export_onnx

    first = import_onnx(str(FIXTURES / f"{fixture}.onnx"))
    again = import_model(export_onnx(first.spec, weights=False), "again.onnx")  # LayerNormalization, opset 21
    result = diff(analyze(first.spec), analyze(again.spec), "fixture", "again")
    assert result.same, [(d.status, d.a and d.a.name, d.b and d.b.name) for d in result.layers]


def _layernorm_graph(first_axes, second_axes, weights=True):
    """ConvNeXt's channels-first LayerNorm as torch exports it at opset 13-17 (same nodes, same order)."""
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["u"], name="/norm/ReduceMean", axes=first_axes),
        helper.make_node("Sub", ["x", "u"], ["d"], name="/norm/Sub"),
        helper.make_node("Pow", ["d", "two"], ["p"], name="/norm/Pow"),
        helper.make_node("ReduceMean", ["p"], ["s"], name="/norm/ReduceMean_1", axes=second_axes),
        helper.make_node("Add", ["s", "eps"], ["se"], name="/norm/Add"),
        helper.make_node("Sqrt", ["se"], ["sd"], name="/norm/Sqrt"),
        helper.make_node("Div", ["d", "sd"], ["y0" if weights else "y"], name="/norm/Div"),
    ]
    inits = [
        helper.make_tensor("two", TensorProto.FLOAT, [], [2.0]),
        helper.make_tensor("eps", TensorProto.FLOAT, [], [1e-6]),
    ]
    if weights:
        nodes += [
            helper.make_node("Mul", ["w", "y0"], ["y1"], name="/norm/Mul"),
            helper.make_node("Add", ["y1", "b"], ["y"], name="/norm/Add_1"),
        ]
        inits += [_weight("w", [8, 1, 1]), _weight("b", [8, 1, 1])]
    return _model(nodes, [_info("x", [1, 8, 5, 5])], [_info("y", None)], inits)


def test_a_hand_built_layernorm_matches_and_without_weights_has_none():
    # The graph of test_decomposed_layernorms_...: 8 channels -> weight and bias of 8 each (ConvNeXt's LayerNorm).
    assert _leaves(import_model(_layernorm_graph([1], [1]), "ln.onnx")) == [("norm", "layernorm", 16, (8, 5, 5))]
    # Without the Mul / Add: nn.LayerNorm(elementwise_affine=False) over the channels, 0 params.
    result = import_model(_layernorm_graph([1], [1], weights=False), "ln.onnx")
    assert _leaves(result) == [("norm", "layernorm", 0, (8, 5, 5))]
    assert "elementwise_affine: false" in result.text


def test_a_pattern_only_partly_a_layernorm_is_not_misread():
    # The variance's mean over the positions, the first mean over the channels: no layer norm of any kind.
    with pytest.raises(UnsupportedOps) as caught:
        import_model(_layernorm_graph([1], [2, 3]), "partial.onnx")
    found = [(u.position, u.op_type) for u in caught.value.found]
    assert (3, "ReduceMean") in found and "a mean of squared deviations over axes [2, 3]" in caught.value.render()
    # Both means over the positions (an instance norm written out): the first is a global pool, x - pool is refused.
    with pytest.raises(UnsupportedOps) as caught:
        import_model(_layernorm_graph([2, 3], [2, 3]), "instance.onnx")
    assert (1, "Sub") in [(u.position, u.op_type) for u in caught.value.found]
    # The deviations read a third time (also an output): the Div is not the layer norm's.
    model = _layernorm_graph([1], [1], weights=False)
    model.graph.output.append(_info("d", None))
    with pytest.raises(UnsupportedOps) as caught:
        import_model(model, "leaky.onnx")
    assert "layernorm" not in caught.value.render()


# make_norm_fixtures.py's LayerNormSpellings: the figures torch 2.14.1 printed for the nn.LayerNorm each
# hand-written norm equals (checked there to 1e-5 on random input), and for the convs and the linear.
SPELLED = [
    ("conv", 224, (8, 10, 10)),
    ("layernorm", 16, (8, 10, 10)),  # nn.LayerNorm(8, eps=1e-6): `d * d`, `d / sqrt` -> Mul(d, d) ... Div
    ("conv", 528, (16, 5, 5)),
    ("layernorm", 0, (16, 5, 5)),  # nn.LayerNorm(16, elementwise_affine=False): `torch.square`, `1 / sqrt`
    ("conv", 272, (16, 5, 5)),
    ("layernorm", 32, (16, 5, 5)),  # nn.LayerNorm(16, eps=1e-6): `pow(2)`, `torch.rsqrt`
    ("global_avgpool", 0, (16, 1, 1)),
    ("flatten", 0, (16,)),
    ("layernorm", 32, (16,)),  # nn.LayerNorm(16) on a vector: `d * d`, `sqrt(v).reciprocal()`
    ("linear", 170, (10,)),
]
SPELLED_NORMS = [(1e-6, True), (1e-5, False), (1e-6, True), (1e-5, True)]  # (eps, elementwise_affine) as built


@pytest.mark.parametrize("fixture", ["layernorm_spellings", "layernorm_spellings_dynamo"])
def test_other_layernorm_spellings_are_one_layer_each_with_nn_layernorms_params(fixture):
    # The legacy exporter (opset 16) writes the four norms with Mul(d, d) or Pow, then Div, Reciprocal -> Mul
    # and Div(1, Sqrt) -> Mul; dynamo=True (opset 18) writes rsqrt as Reciprocal too. torch: 1274 params, [10].
    result = import_onnx(str(FIXTURES / f"{fixture}.onnx"))
    analysis = analyze(result.spec)
    assert [(r.kind, r.params, r.output_shape) for r in analysis.leaves] == SPELLED
    norms = [r.layer for r in analysis.leaves if r.kind == "layernorm"]
    assert [(n.eps, n.elementwise_affine) for n in norms] == SPELLED_NORMS
    assert analysis.params == 1274 and result.mismatches == []


def test_the_legacy_spellings_read_as_their_modules():
    result = import_onnx(str(FIXTURES / "layernorm_spellings.onnx"))
    assert [r.name for r in analyze(result.spec).leaves if r.kind == "layernorm"] == [
        "stem_norm",
        "down_norm",
        "mid_norm",
        "head_norm",
    ]
    assert "layernorm: {name: down_norm, elementwise_affine: false}" in result.text


def _spelled_graph(square="mul", inverse="reciprocal", swap=False, eps_after_sqrt=False, last=False):
    """ConvNeXt's channels-first LayerNorm as torch's legacy exporter writes `d * d` and `d * (1 / sqrt(v))`
    (make_norm_fixtures.py, same nodes in the same order), with one part changed for a near miss; `last`:
    the same over the last axis between LayerNorm2d's Transposes."""
    axes = [3] if last else [1]
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["u"], name="/norm/ReduceMean", axes=axes),
        helper.make_node("Sub", ["x", "u"], ["d"], name="/norm/Sub"),
        {
            "mul": helper.make_node("Mul", ["d", "d"], ["p"], name="/norm/Mul"),
            "pow": helper.make_node("Pow", ["d", "two"], ["p"], name="/norm/Pow"),
            "other": helper.make_node("Mul", ["d", "x"], ["p"], name="/norm/Mul"),  # (x - mean) * x
        }[square],
        helper.make_node("ReduceMean", ["p"], ["s"], name="/norm/ReduceMean_1", axes=axes),
    ]
    if eps_after_sqrt:  # 1 / (sqrt(var) + eps): not torch's formula
        nodes += [
            helper.make_node("Sqrt", ["s"], ["sd0"], name="/norm/Sqrt"),
            helper.make_node("Add", ["sd0", "eps"], ["sd"], name="/norm/Add"),
        ]
    else:
        nodes += [
            helper.make_node("Add", ["s", "eps"], ["se"], name="/norm/Add"),
            helper.make_node("Sqrt", ["se"], ["sd"], name="/norm/Sqrt"),
        ]
    if inverse == "reciprocal":
        nodes.append(helper.make_node("Reciprocal", ["sd"], ["r"], name="/norm/Reciprocal"))
    elif inverse == "div_one":  # torch.rsqrt, legacy exporter
        nodes.append(helper.make_node("Div", ["one", "sd"], ["r"], name="/norm/Div"))
    if inverse == "div":
        nodes.append(helper.make_node("Div", ["d", "sd"], ["y0"], name="/norm/Div"))
    else:
        nodes.append(helper.make_node("Mul", ["r", "d"] if swap else ["d", "r"], ["y0"], name="/norm/Mul_1"))
    nodes += [
        helper.make_node("Mul", ["w", "y0"], ["y1"], name="/norm/Mul_2"),
        helper.make_node("Add", ["y1", "b"], ["y"], name="/norm/Add_1"),
    ]
    inits = [
        helper.make_tensor("two", TensorProto.FLOAT, [], [2.0]),
        helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]),
        helper.make_tensor("eps", TensorProto.FLOAT, [], [1e-6]),
        _weight("w", [8] if last else [8, 1, 1]),
        _weight("b", [8] if last else [8, 1, 1]),
    ]
    if last:
        nodes.insert(0, helper.make_node("Transpose", ["input"], ["x"], name="/norm/Transpose", perm=[0, 2, 3, 1]))
        nodes[-1].output[0] = "y_last"
        nodes.append(helper.make_node("Transpose", ["y_last"], ["y"], name="/norm/Transpose_1", perm=[0, 3, 1, 2]))
        return _model(nodes, [_info("input", [1, 8, 5, 5])], [_info("y", None)], inits)
    return _model(nodes, [_info("x", [1, 8, 5, 5])], [_info("y", None)], inits)


@pytest.mark.parametrize(
    "parts",
    [
        {"square": "mul", "inverse": "div"},
        {"square": "mul", "inverse": "reciprocal"},
        {"square": "pow", "inverse": "reciprocal", "swap": True},  # (1 / std) * (x - mean)
        {"square": "mul", "inverse": "div_one"},
        {"square": "mul", "inverse": "reciprocal", "last": True},  # torchvision's LayerNorm2d layout
    ],
)
def test_each_spelling_by_itself_is_convnexts_layernorm(parts):
    # torch: ConvNeXt's LayerNorm(8, eps=1e-6) = nn.LayerNorm(8, eps=1e-6) on the channels, 16 params.
    result = import_model(_spelled_graph(**parts), "ln.onnx")
    assert _leaves(result) == [("norm", "layernorm", 16, (8, 5, 5))]
    assert "layernorm: {name: norm, eps: 1e-06}" in result.text


def _refusal(model, file="near.onnx"):
    with pytest.raises(UnsupportedOps) as caught:
        import_model(model, file)
    assert "layernorm" not in caught.value.render()
    return {(u.position, u.op_type): u.reason for u in caught.value.found}


def test_a_spelling_only_near_a_layernorm_is_refused_at_its_nodes():
    # (x - mean) * x, not (x - mean) squared: the deviations are not a variance's.
    found = _refusal(_spelled_graph(square="other"))
    assert found[(1, "Sub")] == "x - mean(x) that is not part of a layer norm"
    # The inverse standard deviation also read elsewhere (a second output): no layer norm owns it.
    model = _spelled_graph()
    model.graph.output.append(_info("r", None))
    found = _refusal(model)
    assert found[(6, "Reciprocal")] == "an inverse standard deviation that is not part of a layer norm"
    # eps after the square root, 1 / (sqrt(var) + eps): not torch's LayerNorm, whose eps is under the root.
    found = _refusal(_spelled_graph(eps_after_sqrt=True))
    assert found[(4, "Sqrt")].startswith("a square root (only the one of a layer norm's variance plus epsilon")
    assert found[(6, "Reciprocal")].startswith("a reciprocal (only the one of a layer norm's standard deviation")
    # The deviations read a third time (also an output): the Mul by the inverse is not the layer norm's.
    model = _spelled_graph()
    model.graph.output.append(_info("d", None))
    assert (1, "Sub") in _refusal(model)
    # A reciprocal of anything else has no kind.
    lone = [helper.make_node("Reciprocal", ["x"], ["y"], name="inv")]
    found = _refusal(_model(lone, [_info("x", [1, 3, 4, 4])], [_info("y", None)]))
    assert list(found) == [(0, "Reciprocal")]


def test_a_grouped_instance_norm_not_reshaped_back_is_refused():
    # torch's GroupNorm(2, 8) export, but the second Reshape goes to [N, 8, 25]: not the input's [1, 8, 5, 5].
    nodes = [
        helper.make_node("Reshape", ["x", "groups"], ["g"], name="/gn/Reshape"),
        helper.make_node("InstanceNormalization", ["g", "ones", "zeros"], ["n"], name="/gn/InstanceNormalization"),
        helper.make_node("Reshape", ["n", "back"], ["y"], name="/gn/Reshape_1"),
    ]
    fills = [
        helper.make_node("Constant", [], [name], value=helper.make_tensor(name, TensorProto.FLOAT, [2], [v, v]))
        for name, v in (("ones", 1.0), ("zeros", 0.0))
    ]
    inits = [_ints("groups", [1, 2, -1]), _ints("back", [1, 8, 25])]
    model = _model([*fills, *nodes], [_info("x", [1, 8, 5, 5])], [_info("y", None)], inits)
    with pytest.raises(UnsupportedOps) as caught:
        import_model(model, "gn.onnx")
    # Every node is listed: the first two halves of a group norm have no kind on their own either.
    assert [u.op_type for u in caught.value.found] == ["Reshape", "InstanceNormalization", "Reshape"]
    assert "not back to [1, 8, 5, 5]" in caught.value.render()
    # Reshaped back, the same graph is GroupNorm(2, 8, affine=False): 0 params.
    model.graph.initializer[1].CopyFrom(_ints("back", [1, 8, 5, 5]))
    assert _leaves(import_model(model, "gn.onnx")) == [("gn", "groupnorm", 0, (8, 5, 5))]
