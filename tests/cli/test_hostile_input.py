"""Hostile or careless input cannot hurt the user (issue 8): each class as a user would meet it, through the CLI.

Every refusal is exit 2 with file:line:column and no traceback; an unexpected exception is exit 3.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app

runner = CliRunner()

ESC = "\x1b"
# Written with YAML's double-quoted escapes: `\e` is ESC. A screen clear, and an OSC 8 hidden hyperlink.
CLEAR = r"\e[2J"
LINK = r"\e]8;;http://evil.example\e\\click\e]8;;\e\\"
LINK_NAME = LINK.replace(".", "/")  # layer names have no dots


def cli(*args: str, code: int | None = None, **kwargs):
    result = runner.invoke(app, list(args), **kwargs)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if code is not None:
        assert result.exit_code == code, (result.exit_code, result.output)
    return result


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def hostile_spec(tmp_path: Path, name: str = "net.yaml") -> Path:
    return write(
        tmp_path,
        name,
        f'name: "{CLEAR}{LINK}"\n'
        "input: [1, 4, 4]\n"
        "layers:\n"
        f'  - conv: {{name: "{CLEAR}", out_channels: 2, kernel_size: 3}}\n'
        f'  - relu: {{name: "{LINK_NAME}"}}\n'
        '  - flatten: {name: "[bold red]markup :thumbs_up:"}\n'
        "expect:\n"
        "  output_shape: [8]\n",
    )


def no_raw_controls(text: str) -> None:
    assert ESC not in text and "\x07" not in text and "\x9b" not in text, repr(text)


def no_workflow_command(text: str) -> None:
    """GitHub Actions runs a log line as a command when it starts with `::` (leading blanks trimmed)."""
    for line in text.splitlines():
        assert not line.lstrip().startswith("::"), repr(line)


# --- 1. terminal escape injection ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["table"],
        ["table", "--format", "markdown"],
        ["table", "--format", "csv"],
        ["table", "--explain", "--columns", "name,kind,output,rf,activations"],
        ["verify"],
        ["run"],
        ["check"],
        ["validate"],
        ["validate", "--format", "github"],
    ],
)
def test_escape_sequences_from_a_spec_never_reach_the_terminal(tmp_path, args):
    spec = hostile_spec(tmp_path)
    result = cli(*args, str(spec))
    assert result.exit_code in (0, 1), result.output
    no_raw_controls(result.output)
    no_raw_controls(result.stderr)
    if args[0] in ("table", "verify", "run"):
        assert "\\x1b[2J" in result.stdout  # shown, visibly
    if args[0] == "run":  # rich markup and :emoji: codes in a name are printed as written
        assert "[bold red]markup :thumbs_up:" in result.stdout


def test_escape_sequences_in_error_messages_are_escaped(tmp_path):
    bad = write(tmp_path, "bad.yaml", f'input: [1, 4, 4]\nlayers:\n  - "{CLEAR}"\n')
    result = cli("table", str(bad), code=2)
    no_raw_controls(result.stderr)
    assert result.stderr == f"{bad}:3:5: error: unknown layer kind `\\x1b[2J`. `cnncalc schema` lists the kinds.\n"
    answers = write(tmp_path, "answers.yaml", f'layers:\n  "{LINK}": {{params: 1}}\n')
    # One bad answer never loses a grade (issue 12): the unknown layer is that answer, marked wrong.
    result = cli("check", str(hostile_spec(tmp_path)), "--answers", str(answers), code=1)
    no_raw_controls(result.output)
    assert "there is no layer named `\\x1b]8;;http://evil" in " ".join(result.output.split())


def test_a_file_name_with_escapes_is_shown_escaped(tmp_path):
    spec = hostile_spec(tmp_path, f"a{ESC}[2Jb.yaml")
    for args in (["table", str(spec)], ["validate", str(spec)], ["table", str(tmp_path / f"{ESC}]8;;x.yaml")]):
        result = cli(*args)
        no_raw_controls(result.output)
        no_raw_controls(result.stderr)


def test_junit_and_svg_are_well_formed_for_any_input(tmp_path):
    # Control characters XML 1.0 forbids (\x01, \x0b, \x1b), in names, the spec's name and a file name.
    spec = write(
        tmp_path,
        "x\x01.yaml",
        'name: "a\\x01b\\x0bc\\e"\ninput: [1, 4, 4]\nlayers:\n'
        '  - conv: {name: "<&\\x01\\x1f>", out_channels: 2, kernel_size: 3}\n'
        "expect: {output_shape: [9]}\n",
    )
    broken = write(tmp_path, "broken\x02.yaml", 'input: [1, 4, 4]\nlayers:\n  - "\\x03x"\n')
    report = tmp_path / "report.xml"
    cli("validate", str(spec), str(broken), "--junit", str(report), code=2)
    root = ET.fromstring(report.read_bytes())  # well-formed, or this raises
    text = ET.tostring(root, encoding="unicode")
    assert "\\x01" in text and "\\x03x" in text
    picture = tmp_path / "net.svg"
    cli("draw", str(spec), "-o", str(picture), code=0)
    svg = ET.fromstring(picture.read_bytes())
    labels = [element.text for element in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "<&\\x01\\x1f>" in labels


# --- 2. GitHub workflow-command injection ------------------------------------------------------------


def test_no_line_starts_with_a_workflow_command_outside_format_github(tmp_path):
    payload = "::error file=README,line=1::PWNED"
    # After a newline; after a space (rich wraps long lines at spaces); deep in a long word (rich folds it).
    spec = write(
        tmp_path,
        "net.yaml",
        f'name: "{payload}"\ninput: [1, 4, 4]\nlayers:\n'
        f'  - relu: {{name: "x\\n{payload}"}}\n'
        f'  - relu: {{name: "{"word " * 30}{payload}"}}\n'
        f'  - conv: {{name: "{"w" * 75}{payload}", out_channels: 1, kernel_size: 3, stride: 2}}\n'
        f'expect:\n  layers:\n    "y\\n{payload}": {{params: 0}}\n',
    )
    named = hostile_spec(tmp_path, f"m\n{payload}.yaml")
    leading = hostile_spec(tmp_path, f"{payload}.yaml")
    for args in (
        ["validate", str(spec)],
        ["validate", str(named), str(leading)],
        ["table", str(spec)],
        ["table", str(spec), "--format", "csv"],
        ["table", str(spec), "--format", "markdown"],
        ["check", str(spec)],
        ["run", str(spec)],
        ["verify", str(spec)],
        ["table", payload + "missing.yaml"],
    ):
        result = cli(*args)
        no_workflow_command(result.stdout)
        no_workflow_command(result.stderr)


def test_format_github_prints_only_cnncalcs_own_escaped_annotations(tmp_path):
    payload = "::error file=README,line=1::PWNED"
    spec = write(tmp_path, "net.yaml", f'input: [1, 4, 4]\nlayers:\n  - "x\\n{payload}"\n')
    result = cli("validate", "--format", "github", str(spec), code=2)
    commands = [line for line in result.stdout.splitlines() if line.lstrip().startswith("::")]
    assert len(commands) == 1
    assert commands[0].startswith(f"::error file={spec},line=3,col=5,title=cnncalc::unknown layer kind")
    assert "PWNED" in commands[0] and "\n" not in commands[0]


# --- 3. data loss --------------------------------------------------------------------------------------


def test_an_output_that_is_an_input_is_refused_before_anything_is_written(tmp_path):
    spec = hostile_spec(tmp_path, "s.yaml")
    original = spec.read_bytes()
    (tmp_path / "l.svg").symlink_to(spec)
    os.link(spec, tmp_path / "hard.svg")
    (tmp_path / "j.xml").symlink_to(spec)
    for args, gist in (
        (["validate", str(spec), "--junit", str(spec)], "Use a .xml file name"),
        (["validate", str(spec), "--junit", str(tmp_path / "j.xml")], "it is the input"),
        (["validate", str(tmp_path), "--junit", str(tmp_path / "j.xml")], "it is the input"),
        (["schema", "-o", str(spec)], "Use a .json file name"),
        (["draw", str(spec), "-o", str(tmp_path / "l.svg")], "through a symbolic link"),
        (["draw", str(spec), "-o", str(tmp_path / "hard.svg")], "it is the input"),
        (["plot", str(spec), "-o", str(tmp_path / "l.svg")], "it is the input"),
    ):
        result = cli(*args, code=2)
        assert gist in result.stderr, (args, result.stderr)
        assert spec.read_bytes() == original, args
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard.svg", "j.xml", "l.svg", "s.yaml"]  # no temp files


def test_outputs_need_their_extension_and_are_written_whole(tmp_path):
    spec = hostile_spec(tmp_path)
    cli("schema", "-o", str(tmp_path / "schema.txt"), code=2)
    cli("validate", str(spec), "--junit", str(tmp_path / "report.json"), code=2)
    assert not (tmp_path / "schema.txt").exists() and not (tmp_path / "report.json").exists()
    schema = tmp_path / "schema.json"
    schema.write_text("old")
    schema.chmod(0o640)
    cli("schema", "-o", str(schema), code=0)
    assert json.loads(schema.read_text())["$schema"].startswith("https://json-schema.org/")
    assert schema.stat().st_mode & 0o777 == 0o640  # replaced, permissions kept


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")  # the PNG route (the test extra installs it)
    from cnncalc.report import draw

    spec = hostile_spec(tmp_path)
    picture = tmp_path / "net.png"
    picture.write_bytes(b"the previous picture")

    def half_then_fail(_picture, path, dpi=150):
        Path(path).write_bytes(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(draw, "save_with_matplotlib", half_then_fail)
    result = cli("draw", str(spec), "-o", str(picture), code=2)
    assert result.stderr == f"error: cannot write `{picture}` (No space left on device).\n"
    assert picture.read_bytes() == b"the previous picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.png", "net.yaml"]


# --- 4. tracebacks, and the internal-error handler -------------------------------------------------------


HEADER = "input: [3, 8, 8]\nlayers:\n"


@pytest.mark.parametrize(
    ("layer", "column", "gist"),
    [
        ("conv: {out_channels: !!int x, kernel_size: 3}", 26, "`x` is not a valid `!!int` value."),
        ("dropout: {p: !!float x}", 18, "`x` is not a valid `!!float` value."),
        ("conv: {out_channels: 4, kernel_size: 3, bias: !!bool maybe}", 51, "`maybe` is not a valid `!!bool` value."),
        ("conv: {out_channels: !!timestamp 3, kernel_size: 3}", 26, "`3` is not a valid `!!timestamp` value."),
        ("conv: {out_channels: 2001-13-45, kernel_size: 3}", 26, "`2001-13-45` is not a valid `!!timestamp`"),
        (
            f"conv: {{out_channels: 1{'0' * 5000}, kernel_size: 3}}",
            26,
            "the integer `100000000000...` has 5,001 digits",
        ),
    ],
)
def test_bad_scalars_are_clear_errors(tmp_path, layer, column, gist):
    spec = write(tmp_path, "bad.yaml", HEADER + f"  - {layer}\n")
    result = cli("table", str(spec), code=2)
    assert result.stderr.startswith(f"{spec}:3:{column}: error: {gist}"), result.stderr


@pytest.mark.parametrize(
    ("text", "where", "gist"),
    [
        # A product of sizes beyond what a tensor holds (and beyond 4,300 digits after a few layers).
        ("input: [1000000000, 1000000000, 1000000000]\nlayers: [relu]\n", "1:8", "would hold 1.0e+27 elements"),
        (HEADER + "  - upsample: {scale_factor: 1.0e+300}\n", "3:5", "would hold more than 1e+308 elements"),
        (
            HEADER + "  - repeat: {times: 200, layers: [{upsample: {scale_factor: 1000000}}]}\n",
            "3:35",
            "layer `repeat1.1` (upsample): its output [3, 8,000,000,000,000, 8,000,000,000,000] would hold",
        ),
        (
            "input: [3, 8, 8]\nblocks:\n  b:\n    args: {w: 2}\n    layers:\n"
            "      - conv: {out_channels: $w * $w * $w * $w, kernel_size: 1}\n"
            f"layers:\n  - b: {{w: 1{'0' * 20}}}\n",
            "6:30",
            "gives a number beyond 1e+30",
        ),
        ("base: &a {<<: *a}\n" + HEADER + "  - relu\n", "1:15", "the alias `*a` refers to a list or mapping"),
        (HEADER + "  - &l [relu, *l]\n", "3:15", "the alias `*l` refers to a list or mapping that contains it"),
    ],
)
def test_huge_integers_and_self_merges_are_clear_errors(tmp_path, text, where, gist):
    spec = write(tmp_path, "bad.yaml", text)
    result = cli("table", str(spec), code=2)
    assert result.stderr.startswith(f"{spec}:{where}: error:"), result.stderr
    assert gist in result.stderr


def test_verify_on_sizes_numpy_cannot_index_is_cnncalcs_own_error(tmp_path):
    spec = write(tmp_path, "vast.yaml", "input: [1, 3000000000, 3000000000]\nlayers:\n  - relu\n")
    for command in ("verify", "run"):
        result = cli(command, str(spec), "--max-memory", "100000000TB", code=2)
        assert result.stderr.startswith(f"{spec}:3:5: error: this forward pass cannot run in NumPy"), result.stderr
        assert "Maximum allowed dimension" not in result.stderr


CRASH = (
    "import sys, cnncalc.engine.propagate as p\n"
    "def boom(*args, **kwargs): raise ZeroDivisionError('a bug')\n"
    "p.analyze = boom\n"
    "sys.argv = ['cnncalc', 'table', 'lenet5']\n"
    "from cnncalc.cli import main\n"
    "main()\n"
)


def test_an_unexpected_exception_is_an_internal_error_with_exit_code_3(tmp_path):
    result = subprocess.run([sys.executable, "-c", CRASH], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("cnncalc: internal error (ZeroDivisionError: a bug). This is a bug in cnncalc")
    assert "report it" in result.stderr and "CNNCALC_TRACEBACK=1" in result.stderr
    env = {**os.environ, "CNNCALC_TRACEBACK": "1"}
    shown = subprocess.run([sys.executable, "-c", CRASH], capture_output=True, text=True, env=env, timeout=60)
    assert shown.returncode not in (0, 1, 2, 3) or "Traceback" in shown.stderr
    assert "ZeroDivisionError: a bug" in shown.stderr


def test_internal_errors_never_read_as_exit_1_or_2(monkeypatch):
    import cnncalc.validation

    def boom(*args, **kwargs):
        raise KeyError("oops")

    monkeypatch.setattr(cnncalc.validation, "validate_file", boom)
    result = cli("validate", str(Path(__file__).parents[2] / "specs" / "lenet5.yaml"), code=3)
    assert result.stderr.startswith("cnncalc: internal error (KeyError: 'oops').")


# --- 5. YAML tags ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "column", "gist"),
    [
        ("!!python/tuple [1, 2]", 26, "unknown YAML tag `!!python/tuple`"),
        ("!!python/object/apply:os.system [ls]", 26, "unknown YAML tag `!!python/object/apply:os.system`"),
        ("!!python/name:os.system ''", 26, "unknown YAML tag `!!python/name:os.system`"),
        ("!local 3", 26, "unknown YAML tag `!local`"),
        ("!<tag:example.com,2024:x> 3", 26, "unknown YAML tag `tag:example.com,2024:x`"),
        ("!!set {a, b}", 26, "the YAML tag `!!set` is not supported on a mapping"),
        ("!!str [1]", 26, "the YAML tag `!!str` is not supported on a list"),
    ],
)
def test_tags_that_are_not_standard_yaml_are_named_at_their_position(tmp_path, value, column, gist):
    spec = write(tmp_path, "tags.yaml", HEADER + f"  - conv: {{out_channels: {value}, kernel_size: 3}}\n")
    result = cli("table", str(spec), code=2)
    assert result.stderr.startswith(f"{spec}:3:{column}: error: {gist}"), result.stderr


def test_a_python_tag_on_the_spec_name_is_not_called_text(tmp_path):
    spec = write(tmp_path, "tags.yaml", "name: !!python/object/apply:os.system [echo hi]\n" + HEADER + "  - relu\n")
    result = cli("table", str(spec), code=2)
    assert result.stderr.startswith(f"{spec}:1:7: error: unknown YAML tag `!!python/object/apply:os.system`")


def test_standard_tags_are_read(tmp_path):
    spec = write(tmp_path, "tags.yaml", HEADER + '  - conv: {name: !!str 7, out_channels: !!int "4", kernel_size: 3}\n')
    result = cli("table", str(spec), "--format", "json", code=0)
    assert json.loads(result.stdout)["layers"][0]["name"] == "7"


# --- 6. booleans are never numbers --------------------------------------------------------------------------


def test_booleans_are_never_numbers(tmp_path):
    spec = write(tmp_path, "b.yaml", HEADER + "  - conv: {out_channels: true, kernel_size: 3}\n")
    result = cli("table", str(spec), code=2)
    assert result.stderr == (
        f"{spec}:3:26: error: `conv` argument `out_channels` must be a number, not true or false; got True.\n"
    )
    spec = write(tmp_path, "b2.yaml", HEADER + "  - dropout: {p: false}\n")
    assert "must be a number, not true or false" in cli("table", str(spec), code=2).stderr
    spec = write(tmp_path, "b3.yaml", HEADER + "  - conv: {out_channels: 4, kernel_size: [true, 3]}\n")
    assert cli("table", str(spec), code=2).stderr.startswith(f"{spec}:3:42:")


def test_a_boolean_answer_is_not_marked_correct(tmp_path):
    spec = write(tmp_path, "net.yaml", HEADER + "  - relu\n")  # 0 params: `false == 0` in Python
    answers = write(tmp_path, "answers.yaml", "params: false\nlayers:\n  relu1: {macs: true}\n")
    # A wrong type makes that answer wrong (issue 12), never right: `false == 0` must not pass.
    result = cli("check", str(spec), "--answers", str(answers), code=1)
    assert "0/2 right" in result.output and "is not a count" in result.output
    spec = write(tmp_path, "expect.yaml", HEADER + "  - relu\nexpect: {params: false}\n")
    assert cli("validate", str(spec), code=2).stdout.startswith(f"✗ {spec}:4:18: ")


# --- 7. resource exhaustion -----------------------------------------------------------------------------------


def test_a_forward_pass_too_big_for_memory_is_refused_before_allocating(tmp_path, monkeypatch):
    # A chain of 2x upsamplings: 64x64 -> 262,144x262,144 on 3 channels, refused at once: the last layer's input
    # (206 GB of float32), its output (825 GB) and the working copies of an op (`working_copies`, 6 outputs):
    # about 6.0 TB.
    spec = write(tmp_path, "ups.yaml", HEADER.replace("8, 8", "64, 64") + "  - upsample: {scale_factor: 2}\n" * 12)
    from cnncalc.executor.forward import Executor

    prepared: list[object] = []
    monkeypatch.setattr(Executor, "prepare", lambda self, spec: prepared.append(spec))  # would allocate weights
    for args in (["verify", str(spec)], ["run", str(spec)], ["validate", "--execute", str(spec)]):
        result = cli(*args, code=2)
        assert prepared == []  # refused on the estimate: nothing allocated
        out = result.stderr or result.stdout
        assert f"{spec}:14:5: " in out, out
        assert "the forward pass would need about 6.0 TB (estimated before allocating), more than the " in out
        assert "of memory available; layer `upsample12` (upsample) needs the most: 6.0 TB" in out
        assert "--max-memory" in out


def test_max_memory_sets_the_limit(tmp_path, monkeypatch):
    result = cli("verify", "lenet5", "--max-memory", "100kB", code=2)
    assert "more than the limit of 100.0 kB set by --max-memory" in result.stderr
    cli("verify", "lenet5", "--max-memory", "1GB", code=0)
    monkeypatch.setenv("CNNCALC_MAX_MEMORY", "100kB")
    assert "set by CNNCALC_MAX_MEMORY" in cli("run", "lenet5", code=2).stderr
    assert "is not a size" in cli("verify", "lenet5", "--max-memory", "lots", code=2).stderr


def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path, monkeypatch):
    spec = tmp_path / "big.yaml"
    spec.write_text(HEADER + "  - relu\n" + "# padding\n" * 600_000)  # 6 MB of comments
    result = cli("table", str(spec), code=2)
    assert result.stderr.startswith(
        f"{spec}:1:1: error: the file is 6.0 MB; files over 5.0 MB are refused before parsing"
    )
    assert "--max-file-size" in result.stderr and "alias" not in result.stderr
    cli("table", str(spec), "--max-file-size", "10MB", code=0)
    monkeypatch.setenv("CNNCALC_MAX_FILE_SIZE", "10MB")
    cli("validate", str(spec), code=0)


def test_fifos_and_devices_are_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "a FIFO (named pipe)"), (Path("/dev/zero"), "a character device")):
        run = [sys.executable, "-m", "cnncalc", "table", str(path)]
        result = subprocess.run(run, capture_output=True, text=True, timeout=30)
        assert result.returncode == 2
        expected = f"{path}:1:1: error: this is {kind}, not a regular file; cnncalc reads spec files only.\n"
        assert result.stderr == expected
    answers = cli("check", "lenet5", "--answers", str(fifo), code=2)
    assert "a FIFO" in answers.stderr


def not_a_layer_built(monkeypatch) -> list[str]:
    """Record every layer the builder builds (none, when the layer count refuses a spec first)."""
    from cnncalc.spec.builder import SpecBuilder

    built: list[str] = []
    original = SpecBuilder.build

    def build(self, e, path, *args):
        built.append(path)
        return original(self, e, path, *args)

    monkeypatch.setattr(SpecBuilder, "build", build)
    return built


def test_a_block_doubling_itself_40_times_hits_the_layer_limit_at_once(tmp_path, monkeypatch):
    lines = ["input: [3, 8, 8]", "blocks:", "  b0:", "    layers: [relu, relu]"]
    for i in range(1, 41):
        lines += [f"  b{i}:", f"    layers: [b{i - 1}, b{i - 1}]"]
    spec = write(tmp_path, "double.yaml", "\n".join([*lines, "layers:", "  - b40"]) + "\n")
    built = not_a_layer_built(monkeypatch)
    result = cli("table", str(spec), code=2)
    assert built == []  # counted on the YAML and refused before building any layer (no time asserted)
    assert result.stderr.startswith(
        f"{spec}:36:14: error: the network expands to more than 100,000 layers: this use of block `b15` alone "
        "expands to at least 131,071 layers (reached from the layer at line 86)."
    )
    assert "times:" not in result.stderr  # block expansion, not a repeat


def test_layers_passed_as_arguments_that_double_are_counted_too(tmp_path, monkeypatch):
    nested = "relu"
    for _ in range(30):
        nested = f"{{d: {{x: {nested}}}}}"
    spec = write(
        tmp_path,
        "d.yaml",
        f"input: [3, 8, 8]\nblocks:\n  d:\n    args: [x]\n    layers: [$x, $x]\nlayers:\n  - {nested}\n",
    )
    built = not_a_layer_built(monkeypatch)
    result = cli("table", str(spec), code=2)
    assert built == []
    assert "expands to more than 100,000 layers" in result.stderr


# --- 8. validate reports every file it cannot read -----------------------------------------------------------


def test_validate_reports_unreadable_candidates_and_follows_no_loop(tmp_path):
    folder = tmp_path / "models"
    (folder / "sub").mkdir(parents=True)
    write(folder, "good.yaml", HEADER + "  - relu\n")
    (folder / "dangling.yaml").symlink_to(folder / "nowhere.yaml")
    (folder / "loop1.yaml").symlink_to(folder / "loop2.yaml")
    (folder / "loop2.yaml").symlink_to(folder / "loop1.yaml")
    os.mkfifo(folder / "pipe.yml")
    (folder / "sub" / "up").symlink_to(folder)  # a folder loop
    (folder / "sub" / "same.yaml").symlink_to(folder / "good.yaml")
    for given in (str(folder), f"{folder}/**/*.yaml", f"{folder}/**"):
        result = cli("validate", given, code=2)
        lines = result.stdout.splitlines()
        assert lines[-1].endswith("1 passed, 0 failed, 3 unusable.") or lines[-1].endswith("4 unusable."), lines
        assert sum("good.yaml" in line for line in lines) == 1  # once, however many links reach it
        assert f"✗ {folder}/dangling.yaml:1:1: this is a symbolic link to " in result.stdout
        assert f"✗ {folder}/loop1.yaml:1:1: this is a symbolic link loop" in result.stdout
        if given != f"{folder}/**/*.yaml":
            assert f"✗ {folder}/pipe.yml:1:1: this is a FIFO (named pipe)" in result.stdout


# --- 9. messages that point the right way ----------------------------------------------------------------------


def test_a_million_input_values_are_not_blamed_on_aliases(tmp_path):
    spec = write(tmp_path, "values.yaml", "input: {values: [" + ", ".join(["1"] * 1_000_000) + "]}\nlayers: [relu]\n")
    result = cli("table", str(spec), code=2)
    assert result.stderr.startswith(f"{spec}:1:")
    assert "more than 200,000 YAML values" in result.stderr and "`input.values[" in result.stderr
    assert "alias" not in result.stderr and "billion" not in result.stderr


def test_aliases_that_multiply_are_still_called_so(tmp_path):
    lines = ["a0: &a0 [relu, relu, relu, relu, relu, relu, relu, relu, relu, relu]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    spec = write(tmp_path, "bomb.yaml", "\n".join([*lines, "input: [3, 8, 8]", "layers: *a6"]) + "\n")
    assert "billion laughs" in cli("table", str(spec), code=2).stderr


def test_a_nul_byte_is_reported_where_it_is(tmp_path):
    spec = tmp_path / "nul.yaml"
    spec.write_bytes(b"input: [3, 8, 8]\nlayers:\n  - re\x00lu\n")
    result = cli("table", str(spec), code=2)
    assert result.stderr.startswith(f"{spec}:3:7: error: contains a NUL character (U+0000)")
    assert "position" not in result.stderr


def test_an_empty_answers_file_is_told_what_answers_look_like(tmp_path):
    answers = write(tmp_path, "answers.yaml", "# my answers\n")
    # QA: it was read as no answers ("0/0 right", exit 1); with no key to ask questions it is unusable input
    result = cli("check", "lenet5", "--answers", str(answers), code=2)
    assert result.stderr.startswith(f"{answers}:1:1: error: the answers file is empty")
    assert "`cnncalc quiz` writes" in result.stderr and "layers: {conv1: {output_shape:" in result.stderr
    assert "input:" not in result.output


def test_inputs_that_gave_internal_errors_are_unusable_input(tmp_path):
    # Security review: each of these ended in "internal error" (exit 3), not one clear message and exit 2.
    long = "x" * 300  # over the 255 bytes a file name may have (ENAMETOOLONG)
    for args in (["table", f"{long}.yaml"], ["draw", "lenet5", "-o", str(tmp_path / f"{long}.svg")]):
        result = cli(*args, code=2)  # the system's own reason follows the path; its wording is libc's
        assert f"{long}." in result.stderr.split(": ")[1] and "internal error" not in result.stderr
    loop = tmp_path / "loop1.yaml"
    loop.symlink_to(tmp_path / "loop2.yaml")
    (tmp_path / "loop2.yaml").symlink_to(loop)
    assert "symbolic link loop" in cli("check", "lenet5", "--answers", str(loop), code=2).stderr
    for format in ("table", "csv", "markdown"):
        assert "names no column" in cli("table", "lenet5", "--columns", ",", "--format", format, code=2).stderr
    assert "--width" in cli("draw", "lenet5", "-o", str(tmp_path / "x.png"), "--width", "100000000", code=2).stderr


def test_an_onnx_graph_with_a_cycle_is_refused_by_name(tmp_path):
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 4])
    nodes = [helper.make_node("Relu", ["x2"], ["y"], name="r"), helper.make_node("Add", ["x", "y"], ["x2"], name="a")]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y]), opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "cycle.onnx"
    path.write_bytes(model.SerializeToString())
    for command in (["import", str(path)], ["diff", "lenet5", str(path)]):
        assert "reads `x2` before any node makes it" in cli(*command, code=2).stderr
