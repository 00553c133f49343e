"""report/verify.py: verify's JSON (forward and --backward alike), its table and its error lines, without the CLI."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.executor.verify import LayerCheck, VerifyReport, verify_spec
from cnncalc.executor.verify_backward import BackwardReport, GradientCheck, verify_backward
from cnncalc.report.verify import backward_failure_lines, mismatch_lines, print_backward, print_forward, reports_json
from cnncalc.spec.build import load_spec
from tests.conftest import SPECS

TWO_FILTERS = SPECS / "seed_000_two_filters.yaml"
KERNEL_GRADIENT = SPECS / "seed_000_kernel_gradient.yaml"


def _layer_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith('{"name"')]


def test_backward_json_is_laid_out_as_the_forward_json():
    # Both through json_text.dumps: indented down to the layers, each layer one line (--backward used
    # json.dumps(indent=2), a line per key).
    forward = reports_json([verify_spec(load_spec(TWO_FILTERS)).to_dict()])
    backward = reports_json([verify_backward(load_spec(KERNEL_GRADIENT)).model_dump()])
    assert len(_layer_lines(forward)) == 3  # conv1, pool1, flatten1
    assert len(_layer_lines(backward)) == 1 and _layer_lines(backward)[0].startswith('    {"name": "conv1"')
    assert json.loads(backward)["layers"][0]["shapes_match"] is True
    out = CliRunner().invoke(app, ["verify", str(KERNEL_GRADIENT), str(TWO_FILTERS), "--backward", "-f", "json"])
    assert out.exit_code == 0, out.output
    assert len(_layer_lines(out.stdout)) == 1 + 3 and _layer_lines(out.stdout)[0].startswith('      {"name": "conv1"')


def _mismatch(name: str) -> VerifyReport:
    # The seed-000 pool1 the engine computes, [2, 3, 1], against a forward pass that dropped a row.
    layer = LayerCheck(name, "maxpool", [2, 3, 1], [2, 2, 1], 0, 0, False)
    return VerifyReport("seed", False, 0.001, 1024, 0, 1, 0, [layer])


def test_a_mismatch_is_one_escaped_error_line_and_exit_1(capsys):
    report = _mismatch("pool\x1b[31m1")
    assert mismatch_lines([report]) == [
        "error: seed: layer `pool\\x1b[31m1` (maxpool): the forward pass gave shape [2, 2, 1] and 0 params, "
        "the engine says [2, 3, 1] and 0 params."
    ]
    assert print_forward([report], as_json=True) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["match"] is False and captured.err == mismatch_lines([report])[0] + "\n"
    assert print_forward([verify_spec(load_spec(TWO_FILTERS))]) == 0 and capsys.readouterr().err == ""


def test_a_failed_gradient_check_is_one_error_line_and_exit_1(capsys):
    bad = GradientCheck(
        name="conv1",
        kind="conv",
        shapes_match=True,
        shape_problems=[],
        worst_relative_error=0.25,
        at_kink=False,
        ok=False,
    )
    report = verify_backward(load_spec(KERNEL_GRADIENT)).model_copy(update={"ok": False, "layers": [bad]})
    assert isinstance(report, BackwardReport)
    assert backward_failure_lines([report]) == [
        f"error: {report.name}: layer `conv1` (conv): relative error 0.25 against finite differences."
    ]
    assert print_backward([report]) == 1 and "relative error 0.25" in capsys.readouterr().err


def test_the_backward_table_fits_a_terminal_and_keeps_full_names_piped():
    # QA: `verify lenet5 --backward` drew 85 columns and `verify resnet18 --backward` 112 whatever the terminal.
    import io

    from rich.console import Console

    from cnncalc.report.gradients import render_backward_report

    report = verify_backward(load_spec(SPECS / "resnet18.yaml"), samples=1)

    def lines(width: int | None) -> list[str]:
        out = io.StringIO()
        Console(file=out, width=width or 500, color_system=None).print(render_backward_report(report, width))
        return out.getvalue().splitlines()

    narrow, piped = lines(80), lines(None)
    assert max(len(line) for line in narrow) <= 80 and max(len(line) for line in piped) > 80
    rows = [line for line in narrow if line.startswith("│ ✓")]
    assert len(rows) == len(report.layers) and any("layer2.0.res.shortcut.conv" in line for line in piped)


def test_backward_json_has_no_nan_literal_and_numpy_says_nothing(tmp_path):
    # Security review: a -inf pad before a softmax made `"loss_value": NaN`, which strict parsers refuse, and
    # NumPy's RuntimeWarnings (with cnncalc's source lines) went to stderr.
    spec = tmp_path / "nan.yaml"
    spec.write_text("input: [1, 2, 2]\nlayers:\n  - pad: {padding: 1, value: -.inf}\n  - softmax\n")
    result = CliRunner().invoke(app, ["verify", "--backward", "--format", "json", str(spec)])
    assert result.exit_code == 1  # the NaN differences fail the check, by layer

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    report = json.loads(result.stdout, parse_constant=refuse)
    assert report["loss_value"] == "nan" and "RuntimeWarning" not in result.stderr
