"""The v2 kinds and TensorFlow padding through the real commands, on shipped spec files."""

import json

from typer.testing import CliRunner

from cnncalc.cli import app
from tests.conftest import SPECS

runner = CliRunner()
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None}


def invoke(*args: str, code: int = 0):
    result = runner.invoke(app, list(args), env=ENV)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def test_explain_shows_the_padding_tensorflow_chose():
    out = invoke("table", str(SPECS / "keras_mobilenet.yaml"), "--explain")
    # Keras MobileNet's first conv: 3x3 stride 2 `same` on 224 pads 0 before and 1 after (ZeroPadding2D((0, 1))).
    assert "H: padding same (TensorFlow): out = ceil(224 / 2) = 112, total = max(0, (112 - 1)*2 + 3 - 224) = 1" in out
    assert "before = 0, after = 1" in out


def test_json_report_of_a_multi_output_backbone_with_frozen_batchnorm():
    report = json.loads(invoke("table", str(SPECS / "resnet50_fpn.yaml"), "--format", "json"))
    assert [o["shape"] for o in report["outputs"]][-1] == [256, 4, 4]
    assert report["totals"]["buffers"] == 106_240  # FrozenBatchNorm2d: 4 buffers per channel
    kinds = {layer["kind"] for layer in report["layers"]}
    assert {"upsample", "add", "batchnorm"} <= kinds


def test_verify_runs_a_v2_network_forward():
    out = invoke("verify", str(SPECS / "shufflenet_v2_x1_0.yaml"))
    assert "all layers match" in out


def test_schema_offers_every_v2_kind():
    schema = json.loads(invoke("schema"))
    for kind in ("hardswish", "layernorm", "stochastic_depth", "drop_path", "pad", "pixel_shuffle", "layer_scale"):
        assert kind in schema["$defs"]["layer"]["anyOf"][0]["enum"]
    assert set(schema["$defs"]["upsample"]["properties"]) >= {"scale_factor", "size", "like", "mode", "align_corners"}
