"""`run --backward`, `verify --backward`, and `check` on gradient answers: the real commands on real specs."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cnncalc.cli import app
from tests.conftest import ROOT, SPECS

runner = CliRunner()
SEED_000 = str(SPECS / "seed_000_kernel_gradient.yaml")
SEED_004 = str(SPECS / "seed_004_strided_conv_gradient.yaml")


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_run_backward_prints_each_gradient_with_its_shape():
    # Seed 000 with L = sum: dL/dW = [[a+b+c+e+f+g, ...]] = [[24, 30], [48, 54]] for a..l = 1..12.
    result = invoke("run", SEED_000, "--backward")
    assert result.exit_code == 0, result.output
    assert "conv1 dL/dW (conv) [1, 1, 2, 2]" in result.output
    assert "conv1 dL/dX (conv) [1, 3, 4]" in result.output
    lines = [line.split() for line in result.output.splitlines()]
    assert ["24", "30"] in lines and ["48", "54"] in lines
    assert "L = sum of the output = 444" in result.output  # L is linear in W: 1*24 + 2*30 + 3*48 + 4*54


def test_run_backward_json_adds_grad_input_and_grad_params():
    result = invoke("run", SEED_004, "--backward", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    (conv,) = report["layers"]
    # seed 004's g(G, V, 2) and h(K, G, 2) on the spec's numbers (worked in its comments)
    assert conv["grad_params"] == {"weights": [[[[3, 1, 0], [2, 3, 0], [2, 1, 2]]]]}
    assert conv["grad_params_shapes"] == {"weights": [1, 1, 3, 3]}
    assert conv["grad_input_shape"] == [1, 5, 5]
    assert conv["grad_input"][0][0] == [1, 0, 3, 0, 2]
    assert report["loss"] == {"kind": "mse", "value": 6}  # Z - T = [[2, 4], [-2, 0]]: (4 + 16 + 4 + 0) / 4


def test_run_loss_options_override_the_spec():
    result = invoke("run", SEED_000, "--loss", "mse", "--target", "0", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["loss"]["kind"] == "mse"


def test_run_bad_loss_exits_2_with_one_paragraph():
    result = invoke("run", SEED_000, "--loss", "hinge")
    assert result.exit_code == 2
    assert "unknown loss `hinge`" in result.output and "Traceback" not in result.output


def test_verify_backward_passes_and_reports_json():
    result = invoke("verify", str(SPECS / "lenet5.yaml"), "--backward", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] and len(report["layers"]) == 12
    assert all(layer["shapes_match"] and layer["worst_relative_error"] < 1e-3 for layer in report["layers"])
    assert report["backward_seconds"] > 0 and report["forward_seconds"] > 0


def test_verify_backward_table():
    result = invoke("verify", SEED_004, "--backward")
    assert result.exit_code == 0, result.output
    assert "every gradient checks out" in result.output


def test_check_marks_the_seed_gradient_examples_right():
    for name in ("seed_000_kernel_gradient", "seed_002_backprop_regression", "seed_004_strided_conv_gradient"):
        result = invoke("check", str(SPECS / f"{name}.yaml"))
        assert result.exit_code == 0, result.output
        assert "grad_values" in result.output and "✗" not in result.output


def test_check_a_wrong_gradient_answer_shows_the_formula():
    answers = ROOT / "tests" / "answers" / "seed_004_gradient_homework.yaml"
    result = invoke("check", SEED_004, "--answers", str(answers), "--format", "json")
    assert result.exit_code == 1, result.output
    (report,) = json.loads(result.output) if result.output.lstrip().startswith("[") else [json.loads(result.output)]
    answers_by_key = {a["key"]: a for a in report["answers"]}
    assert answers_by_key["layers.conv1.grad_shape"]["correct"]
    assert answers_by_key["layers.conv1.grad_weights_shape"]["correct"] is False  # 3x3 is not [1, 1, 3, 3]
    wrong = answers_by_key["layers.conv1.grad_values"]
    assert wrong["correct"] is False
    assert wrong["correct_value"] == [[[[3, 1, 0], [2, 3, 0], [2, 1, 2]]]]
    assert any("dL/dW[i] = Σ_positions G[p] · X[s·p + d·i]" in line for line in wrong["formula"])


def test_table_backward_columns_and_json_totals():
    # ResNet-18: 3,510,132,736 backward MACs (torch.utils.flop_counter, issue 13); train = forward + backward.
    result = invoke("table", str(SPECS / "resnet18.yaml"), "--columns", "name,macs,backward_macs,train_macs")
    assert result.exit_code == 0, result.output
    assert "3,510,132,736" in result.output and "5,324,206,080" in result.output
    totals = json.loads(invoke("table", str(SPECS / "resnet18.yaml"), "--format", "json").output)["totals"]
    assert totals["backward_macs"] == 3_510_132_736
    assert totals["train_macs"] == 1_814_073_344 + 3_510_132_736


TWO_OUTPUTS = """
input: [2, 6, 6]
layers:
  - conv: {name: trunk, out_channels: 3, kernel_size: 3}
  - conv: {name: head_a, out_channels: 2, kernel_size: 1}
  - conv: {name: head_b, from: trunk, out_channels: 4, kernel_size: 3, padding: 1}
outputs: [head_a, head_b]
"""


def test_a_layer_only_another_output_needs_has_zero_gradients(tmp_path):
    # The loss is of the first output (head_a): head_b's output never reaches it, as torch would say.
    spec = tmp_path / "two.yaml"
    spec.write_text(TWO_OUTPUTS)
    text = invoke("run", str(spec), "--backward")
    assert text.exit_code == 0, text.output
    assert "head_b (conv): every gradient is 0" in text.output
    assert "head_b dL/dW" not in text.output and "head_a dL/dW" in text.output
    report = json.loads(invoke("run", str(spec), "--backward", "--format", "json").stdout)
    layers = {layer["name"]: layer for layer in report["layers"]}
    assert layers["head_b"]["grad_reached"] is False and layers["head_a"]["grad_reached"] is True
    assert layers["head_b"]["grad_params_shapes"] == {"weights": [4, 3, 3, 3], "bias": [4]}
    assert not any(any(row) for plane in layers["head_b"]["grad_params"]["weights"][0] for row in plane)
    verify = invoke("verify", str(spec), "--backward")
    assert verify.exit_code == 0, verify.output
    assert "not on the loss's path" in verify.output


FROZEN = str(ROOT / "tests" / "data" / "frozen.yaml")  # worked by hand in its comments


def test_run_backward_shows_a_frozen_layers_weights_as_none():
    result = invoke("run", FROZEN, "--backward")
    assert result.exit_code == 0, result.output
    assert "conv1 dL/dW (conv): none, frozen (trainable: false)" in result.output
    assert "conv1 dL/dX (conv) [1, 3, 4]" in result.output and ["8", "20", "20", "12"] in [
        line.split() for line in result.output.splitlines()
    ]
    layers = {
        layer["name"]: layer for layer in json.loads(invoke("run", FROZEN, "--backward", "-f", "json").output)["layers"]
    }
    assert layers["conv1"]["grad_frozen"] and layers["conv1"]["grad_params"] == {"weights": None}
    assert layers["conv1"]["grad_params_shapes"] == {"weights": None}
    assert not layers["conv2"]["grad_frozen"] and layers["conv2"]["grad_params"] == {"weights": [[[[444]]]]}


def test_verify_backward_checks_dx_of_a_frozen_layer_and_marks_it():
    result = invoke("verify", FROZEN, "--backward", "--format", "json")
    assert result.exit_code == 0, result.output
    layers = {layer["name"]: layer for layer in json.loads(result.output)["layers"]}
    assert layers["conv1"]["frozen"] and layers["conv1"]["ok"] and not layers["conv2"]["frozen"]
    assert "frozen: no dL/dW" in invoke("verify", FROZEN, "--backward").output


def test_check_wants_none_for_a_frozen_layers_weight_gradient(tmp_path):
    assert invoke("check", FROZEN).exit_code == 0  # its expect: says `none` for conv1's dL/dW
    answers = tmp_path / "a.yaml"
    # what the gradient would be were conv1 trained: 2 * seed 000's [[24, 30], [48, 54]]
    answers.write_text("layers:\n  conv1: {grad_values: [[48, 60], [96, 108]], grad_weights_shape: [1, 1, 2, 2]}\n"
                       "  conv2: {grad_weights_shape: none}\n")  # fmt: skip
    result = invoke("check", FROZEN, "--answers", str(answers), "-f", "json")
    assert result.exit_code == 1
    by_key = {a["key"]: a for a in json.loads(result.output)["answers"]}
    assert not any(a["correct"] for a in by_key.values())
    assert "frozen (`trainable: false`)" in by_key["layers.conv1.grad_values"]["hint"]
    assert "is trained" in by_key["layers.conv2.grad_weights_shape"]["hint"]
