"""`cnncalc verify`: exit codes, the table and the JSON keys."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.executor import ops
from cnncalc.layers.pooling import MaxPool
from tests.conftest import SPECS

runner = CliRunner()
SEED = str(SPECS / "seed_000_two_filters.yaml")


def test_verify_passes_with_a_mark_per_layer():
    result = runner.invoke(app, ["verify", SEED])
    assert result.exit_code == 0, result.output
    assert result.output.count("✓") == 3  # conv1, pool1, flatten1
    assert "all layers match" in result.output and "ms" in result.output


def test_verify_json_keys():
    result = runner.invoke(app, ["verify", SEED, "--format", "json", "--seed", "3", "--batch", "2"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"name", "match", "forward_seconds", "peak_memory_bytes", "layers"} <= set(report)
    assert report["match"] is True and report["batch"] == 2 and report["seed"] == 3
    assert report["layers"][0] == {
        "name": "conv1",
        "kind": "conv",
        "expected_shape": [2, 3, 2],
        "executed_shape": [2, 3, 2],
        "expected_params": 4,
        "executed_params": 4,
        "match": True,
    }


def test_verify_several_specs_gives_a_json_list():
    result = runner.invoke(app, ["verify", SEED, str(SPECS / "seed_001_maxpool.yaml"), "-f", "json"])
    assert result.exit_code == 0
    assert [r["name"] for r in json.loads(result.output)] == [
        "Seed 000 two 1x2 filters, 1x2 max pooling, flatten",
        "Seed 001 max pool 2x2, stride 2",
    ]


def test_verify_exits_1_naming_the_layer_when_a_shape_differs(monkeypatch):
    def broken_pool(layer, x, ctx):  # drops the last row: a wrong shape the engine does not predict
        return ops.OPS_ORIGINAL_MAXPOOL(layer, x, ctx)[..., :-1, :]

    monkeypatch.setattr(ops, "OPS_ORIGINAL_MAXPOOL", ops.OPS[MaxPool], raising=False)
    monkeypatch.setitem(ops.OPS, MaxPool, broken_pool)
    result = runner.invoke(app, ["verify", SEED])
    assert result.exit_code == 1
    assert "✗" in result.output
    assert "layer `pool1` (maxpool): the forward pass gave shape [2, 2, 1]" in result.output
    assert "the engine says [2, 3, 1]" in result.output


def test_verify_exits_2_on_a_bad_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [1, 5, 5]\nlayers:\n  - convv: {out_channels: 1, kernel_size: 3}\n")
    result = runner.invoke(app, ["verify", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:3:5" in result.output and "Traceback" not in result.output


# 10**14 float32 values = 364 TiB, more than a 47-bit address space holds: NumPy refuses at once.
VAST = "input: [1, 10000000, 10000000]\nlayers:\n  - relu\n"


def test_a_forward_pass_too_big_for_memory_is_one_clear_error(tmp_path):
    spec = tmp_path / "vast.yaml"
    spec.write_text(VAST)
    for command in ("verify", "run"):
        result = runner.invoke(app, [command, str(spec)])
        assert result.exit_code == 2, (command, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        # Refused from the engine's estimate, before anything is allocated, at the layer that needs the most.
        assert result.stderr.startswith(f"{spec}:3:5: error: the forward pass would need about 1,200.0 TB"), (
            result.stderr
        )
        assert "cnncalc table" in result.stderr and "--max-memory" in result.stderr


def test_a_negative_seed_is_refused_as_an_option_error():
    for command in ("verify", "run"):  # NumPy's generators take only seeds >= 0
        result = runner.invoke(app, [command, SEED, "--seed", "-1"])
        assert result.exit_code == 2, (command, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "--seed" in result.output


def test_verify_uses_given_weights_and_input():
    # The verify pass runs the spec's own numbers: the executor's input equals the seed 000 matrix.
    from cnncalc.executor.forward import Executor
    from cnncalc.spec.build import load_spec

    x = Executor(0).make_input(load_spec(SEED), batch=2)
    np.testing.assert_array_equal(x[1, 0], [[5, 3, 1], [6, 8, 1], [2, 3, 4]])


def test_verify_and_run_warn_on_stderr_as_table_does():
    # untiled.yaml: Conv2d(3, 8, 3, stride 2) on 224 leaves row and column 223 unread ((224 - 3) / 2 = 110.5).
    # `verify` and `run` printed no warning, so a stride that drops data passed them silently.
    untiled = str(SPECS.parent / "tests" / "data" / "untiled.yaml")
    expected = runner.invoke(app, ["table", untiled]).stderr
    assert "110.5 is not whole" in expected
    for args in (["verify"], ["verify", "--format", "json"], ["verify", "--backward"], ["run", "--format", "json"]):
        result = runner.invoke(app, [*args, untiled])
        assert result.exit_code == 0, result.output
        assert result.stderr.startswith(expected) and "warning" not in result.stdout
        if "json" in args:
            json.loads(result.stdout)
