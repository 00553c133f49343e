"""Issue 14's conveniences, end to end on real spec files: --version, `-` for standard input, --help without
`<bool>`, shell completion offered, validate --jobs, verify --runs and its width."""

import json
import re
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cnncalc import __version__
from cnncalc.cli import app
from tests.conftest import ROOT, SPECS

runner = CliRunner()
ENV = {"COLUMNS": "80", "NO_COLOR": "1", "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None}


def invoke(*args: str, code: int = 0, stdin: str | None = None):
    result = runner.invoke(app, list(args), env=ENV, input=stdin)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def test_version_is_the_package_version():
    assert invoke("--version").stdout.strip() == f"cnncalc {__version__}"


def test_a_dash_reads_the_spec_from_standard_input():
    text = (SPECS / "lenet5.yaml").read_text()
    from_file = json.loads(invoke("table", "lenet5", "--format", "json").stdout)
    from_stdin = json.loads(invoke("table", "-", "--format", "json", stdin=text).stdout)
    assert from_stdin["layers"] == from_file["layers"] and from_stdin["file"] == "<stdin>"


def test_draw_and_plot_read_a_dash_as_their_help_says(tmp_path):
    # Security review: both said "`-` is neither a file nor a shipped spec", looking for it as an input file.
    pytest.importorskip("matplotlib")
    text = (SPECS / "lenet5.yaml").read_text()
    for command, name in (("draw", "net.svg"), ("plot", "net.png")):
        out = tmp_path / name
        invoke(command, "-", "-o", str(out), stdin=text)
        assert out.stat().st_size > 0, command


def test_a_bad_spec_on_standard_input_is_positioned_as_stdin():
    # Line 3 holds the conv that lacks its out_channels.
    result = invoke("table", "-", stdin="input: [3, 8, 8]\nlayers:\n  - conv: {kernel_size: 3}\n", code=2)
    assert result.stderr.startswith("<stdin>:3:")


def test_help_pages_show_no_bool_placeholder_and_offer_completion():
    for command in ("table", "verify", "validate", "check", "draw", "run", "quiz", "import", "export", "diff"):
        page = invoke(command, "--help").stdout
        assert "<bool>" not in page and "<list[" not in page, command  # Python types are no placeholders
        usage = next(line for line in page.splitlines() if "Usage:" in line)
        assert "...}..." not in usage and "......" not in usage, usage  # a variadic argument says `...` once
        # At 80 columns (ENV) no placeholder breaks across lines, as `<float32|float16|bfloat1` / `6|int8>` did.
        assert not re.search(r"│ +[\w|-]+> ", page), page
        # one word per kind of value, as SIZE and FILE (typer 0.29 wrote `<int range>`, `<path>`, `<str>`)
        assert not re.search(r"<(int|float|str|path)\b", page), command
    # a sentence of a command's description is never broken by the docstring's own line breaks
    # (typer 0.29 keeps the docstring's line breaks, older typer reflows the paragraph)
    verify = invoke("verify", "--help").stdout
    line = next(line for line in verify.splitlines() if "Peak memory" in line)
    assert not line.strip().startswith("Peak memory") or "weights apart." in line, line
    top = invoke("--help").stdout
    assert "--install-completion" in top and "--version" in top


def test_only_the_command_run_is_imported():
    code = (
        "import sys; from cnncalc.cli.app import app\n"
        "try: app(['list'])\nexcept SystemExit: pass\n"
        "print([m for m in ('cnncalc.cli.verify', 'cnncalc.cli.table', 'cnncalc.cli.draw') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_bad_option_values_are_usage_errors():
    assert "'xml' is not one of" in invoke("table", "lenet5", "--format", "xml", code=2).output
    assert "x>=1" in invoke("table", "lenet5", "--batch", "0", code=2).output


def test_validate_jobs_gives_the_same_output_and_exit_code_in_the_same_order(tmp_path):
    for i in range(12):
        shutil.copy(SPECS / ("lenet5.yaml" if i % 3 else "alexnet_cs231n.yaml"), tmp_path / f"s{i:02d}.yaml")
    (tmp_path / "s05.yaml").write_text("layers: [\n")  # unusable: exit 2 whichever process reads it
    one = invoke("validate", str(tmp_path), "--jobs", "1", code=2)
    two = invoke("validate", str(tmp_path), "--jobs", "2", code=2)
    assert one.stdout == two.stdout
    files = [
        json.loads(invoke("validate", str(tmp_path), "-j", str(j), "-f", "json", code=2).stdout)["files"]
        for j in (1, 2)
    ]
    assert files[0] == files[1]
    assert [f["path"] for f in files[1]] == sorted(f["path"] for f in files[1])


def test_verify_runs_reports_median_and_minimum():
    report = json.loads(invoke("verify", "lenet5", "--runs", "3", "--format", "json").stdout)
    assert report["runs"] == 3 and 0 < report["forward_seconds_min"] <= report["forward_seconds"]
    assert {"name", "match", "forward_seconds", "peak_memory_bytes", "weights_bytes", "batch", "seed"} <= set(report)


def test_verify_table_fits_80_columns():
    # Issue 14: `verify lenet5` was 82 wide; ResNet-50's dotted names are shortened in the middle.
    from rich.console import Console

    from cnncalc.cli.common import load
    from cnncalc.executor.verify import verify_spec
    from cnncalc.report.verify import render_report

    for name in ("lenet5", "resnet50"):
        console = Console(width=80, record=True, file=open("/dev/null", "w"), color_system=None)  # noqa: SIM115
        console.print(render_report(verify_spec(load(name)), 80), crop=False)
        lines = console.export_text().splitlines()
        assert max(len(line) for line in lines if not line.startswith(("all layers", "forward"))) <= 80, name
    # In a terminal, rows are named within their enclosing layer and indented, as `table` names them (QA:
    # `layer4…s.bn1` could be any of a dozen layers): ResNet-50's layer4.2.res.bn1 is `bn1`, 3 levels deep.
    rows = [line.split("│")[2] for line in lines if line.startswith("│")]
    assert "      bn1" in [row[1:].rstrip() for row in rows]
    assert {row.strip() for row in rows if "…" in row} == {"short…conv"}  # only `shortcut.conv` is too long


# --- the console script leaves without tearing the interpreter down (start-up, issue 14) ------------------


def console(*args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """`cnncalc ARGS` through the console script's `main`, in a fresh process, output piped."""
    code = f"import sys\n{prelude}\nsys.argv = ['cnncalc', *sys.argv[1:]]\nfrom cnncalc.cli import main\nmain()\n"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_the_console_script_keeps_every_exit_code(tmp_path):
    assert console("--version").returncode == 0
    assert console("table", "no_such_spec").returncode == 2  # unusable input
    # A failed check: the seed 003 stride-1 spec's output shape, [1, 3, 3], answered as [1, 4, 4].
    answers = tmp_path / "answers.yaml"
    answers.write_text("output_shape: [1, 4, 4]\n", encoding="utf-8")
    assert console("check", "seed_003_stride1", "--answers", str(answers)).returncode == 1


def test_the_console_script_flushes_all_piped_output_and_runs_atexit_handlers():
    result = console(
        "table", "resnet50", "--format", "json", prelude="import atexit; atexit.register(print, 'atexit ran')"
    )
    assert result.returncode == 0
    report, _, tail = result.stdout.rpartition("}")
    assert json.loads(report + "}")["totals"]["params"] == 25_557_032  # torchvision's ResNet-50 figure
    assert tail.strip() == "atexit ran"


def test_leave_reads_exit_codes_as_sys_exit_does():
    for code, status, stderr in ((None, 0, ""), (2, 2, ""), ("a message", 1, "a message\n")):
        prelude = f"from cnncalc.cli.app import leave; leave({code!r})"
        result = subprocess.run([sys.executable, "-c", prelude], capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert (result.returncode, result.stderr) == (status, stderr)
