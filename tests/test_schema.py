"""`cnncalc schema`: a valid draft 2020-12 schema that every shipped spec satisfies, and that catches typos."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.layers import LAYER_KINDS
from cnncalc.spec.schema import spec_schema
from cnncalc.spec.yaml_source import load_yaml_file, parse_yaml
from tests.conftest import SPECS

jsonschema = pytest.importorskip("jsonschema")


@pytest.fixture(scope="module")
def validator():
    schema = spec_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(validator, text: str) -> list[str]:
    return [e.message for e in validator.iter_errors(parse_yaml(text, "<test>"))]


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_spec_validates(validator, path):
    problems = sorted(validator.iter_errors(load_yaml_file(path)), key=lambda e: e.path)
    assert not problems, [f"{list(e.absolute_path)}: {e.message}" for e in problems[:3]]


def test_the_cli_prints_and_writes_the_same_schema(tmp_path):
    printed = CliRunner().invoke(app, ["schema"])
    assert printed.exit_code == 0
    out = tmp_path / "cnncalc.schema.json"
    written = CliRunner().invoke(app, ["schema", "-o", str(out)])
    assert written.exit_code == 0
    assert json.loads(printed.stdout) == json.loads(out.read_text()) == spec_schema()
    assert spec_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_kind_and_alias_is_offered(validator):
    schema = spec_schema()
    assert set(LAYER_KINDS) <= set(schema["$defs"]["layer"]["anyOf"][0]["enum"])
    conv = schema["$defs"]["conv"]["properties"]
    assert {"filters", "kernel", "pad", "out_channels"} <= set(conv)
    assert "units" in schema["$defs"]["linear"]["properties"]
    assert "size" in schema["$defs"]["maxpool"]["properties"]


GOOD = "input: [3, 32, 32]\nlayers:\n  - {layer}\n"


@pytest.mark.parametrize(
    "layer",
    [
        "relu",
        "conv: {filters: 8, kernel: 3, pad: 1}",
        "fc: {units: 10}",
        "maxpool: {size: 2}",
        "conv: {out_channels: 8, kernel_size: [3, 5], padding: [[0, 1], [1, 1]]}",
        "residual: {body: [relu]}",
        "concat: {branches: [[], [relu]]}",
        "repeat: {times: 3, layers: [relu]}",
        "flatten:",
    ],
)
def test_valid_layers_pass(validator, layer):
    assert errors(validator, GOOD.format(layer=layer)) == []


@pytest.mark.parametrize(
    "layer",
    [
        "conv: {out_channels: 8, kernal_size: 3}",  # unknown argument (typo)
        "conv: {out_channels: 8}",  # kernel_size missing
        "conv: {out_channels: 8, kernel_size: abc}",  # wrong type
        "conv: {out_channels: 0, kernel_size: 3}",  # not positive
        "residual: {body: [relu], short: [relu]}",
        "relu: {}\n    extra: 1",  # two keys
    ],
)
def test_invalid_layers_fail(validator, layer):
    assert errors(validator, GOOD.format(layer=layer))


def test_block_arguments_are_accepted_where_numbers_go(validator):
    text = """
input: [3, 32, 32]
blocks:
  unit:
    args: {width: 64, times: 2}
    layers:
      - conv: {out_channels: $width * 2, kernel_size: [$k, 3], stride: $stride, bias: $b}
      - repeat: {times: $times, layers: [relu]}
layers:
  - unit: {width: 8}
  - unit
"""
    assert errors(validator, text) == []


def test_unknown_top_level_key_fails(validator):
    assert errors(validator, "input: [3, 8, 8]\nlayer:\n  - relu\nlayers: [relu]\n")


def test_expect_block_is_checked(validator):
    assert errors(validator, "input: [3, 8, 8]\nlayers: [relu]\nexpect: {params: 0, max_macs: 5.0e9}\n") == []
    assert errors(validator, "input: [3, 8, 8]\nlayers: [relu]\nexpect: {param: 0}\n")


def test_quiz_block_is_checked(validator):
    # the shipped alexnet_cs231n declares one (test_every_shipped_spec_validates); a misspelt key fails
    assert errors(validator, "input: [3, 8, 8]\nlayers: [relu]\nquiz: {vary: {input_size: [8, 16]}}\n") == []
    assert errors(validator, "input: [3, 8, 8]\nlayers: [relu]\nquiz: {vray: {input_size: [8, 16]}}\n")


@pytest.mark.parametrize(("loss", "target"), [("sum", None), ("mse", "[0.5]"), ("cross_entropy", "1")])
def test_the_losses_the_schema_offers_are_the_ones_the_loader_and_the_backward_pass_take(validator, loss, target):
    from cnncalc import parse_spec
    from cnncalc.executor.backward import parse_loss

    text = f"input: [3]\nlayers: [relu]\nloss: {loss}\n" + (f"target: {target}\n" if target else "")
    assert errors(validator, text) == []
    spec = parse_spec(text, "t.yaml")
    assert parse_loss(spec.loss, spec.target).kind == loss
    assert errors(validator, text.replace(loss, "hinge"))
