"""`cnncalc import`, `export` and `diff` run for real on real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT

pytest.importorskip("onnx")
FIXTURE = DATA / "onnx" / "resnet50.onnx"


def cnncalc(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], cwd=cwd, capture_output=True, text=True)


def test_import_then_diff_against_the_model_agrees(tmp_path: Path):
    spec = tmp_path / "resnet50.yaml"
    done = cnncalc("import", str(FIXTURE), "-o", str(spec))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote {spec}\n"  # as draw and plot say what they wrote
    same = cnncalc("diff", str(spec), str(FIXTURE))
    assert same.returncode == 0 and "same: no difference" in same.stdout
    # The shipped hand-written spec still matches the exported model (the README's CI recipe).
    assert cnncalc("diff", "resnet50", str(FIXTURE)).returncode == 0


@pytest.mark.parametrize("target", ["pytorch", "onnx"])
def test_export_to_a_file_says_what_it_wrote_and_to_stdout_writes_only_the_code(tmp_path: Path, target: str):
    out = tmp_path / ("lenet5.py" if target == "pytorch" else "lenet5.onnx")
    done = cnncalc("export", "lenet5", "--to", target, "-o", str(out))
    assert done.returncode == 0 and done.stdout == f"wrote {out}\n" and out.stat().st_size > 0
    if target == "pytorch":
        assert cnncalc("export", "lenet5", "--to", target).stdout == out.read_text()


def test_diff_that_differs_exits_1_in_every_format():
    for fmt in ("text", "json", "markdown", "github"):
        done = cnncalc("diff", "resnet18", "resnet50", "--format", fmt)
        assert done.returncode == 1, (fmt, done.stderr)
    report = json.loads(cnncalc("diff", "resnet18", "resnet50", "--format", "json").stdout)
    # torchvision: ResNet-50 25,557,032 params, ResNet-18 11,689,512.
    assert report["totals"]["params"] == {"a": 11689512, "b": 25557032, "delta": 13867520}
    markdown = cnncalc("diff", "resnet18", "resnet50", "--format", "markdown").stdout
    assert "| params | 11,689,512 | 25,557,032 | +13,867,520 (+13.9M) |" in markdown


def test_export_onnx_then_diff(tmp_path: Path):
    out = tmp_path / "r18.onnx"
    assert cnncalc("export", "resnet18", "--to", "onnx", "-o", str(out)).returncode == 0
    assert cnncalc("diff", "resnet18", str(out)).returncode == 0
    bare = tmp_path / "bare.onnx"
    assert cnncalc("export", "resnet18", "--to", "onnx", "--no-weights", "-o", str(bare)).returncode == 0
    assert bare.stat().st_size < out.stat().st_size / 100  # shapes only: 11.7M weights are not written


def test_export_pytorch_to_stdout():
    done = cnncalc("export", "lenet5", "--to", "pytorch")
    assert done.returncode == 0 and "def build_model() -> nn.Module:" in done.stdout


def test_outputs_never_overwrite_an_input(tmp_path: Path):
    spec = tmp_path / "net.yaml"
    spec.write_text((ROOT / "specs" / "lenet5.yaml").read_text())
    before = spec.read_text()
    done = cnncalc("export", str(spec), "--to", "pytorch", "-o", str(spec))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert spec.read_text() == before
    model = tmp_path / "m.onnx"
    model.write_bytes(FIXTURE.read_bytes())
    assert cnncalc("import", str(model), "-o", str(model)).returncode == 2
    assert model.read_bytes() == FIXTURE.read_bytes()


def test_bad_files_are_one_paragraph_exit_2(tmp_path: Path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00not a model\xff" * 10)
    done = cnncalc("import", str(junk))
    assert done.returncode == 2 and "not a readable ONNX model" in done.stderr and "Traceback" not in done.stderr
    assert cnncalc("import", str(tmp_path / "missing.onnx")).returncode == 2
    assert cnncalc("export", "lenet5", "--to", "onnx").returncode == 2  # a binary needs -o


def test_missing_onnx_says_how_to_install(tmp_path: Path):
    # A stand-in `onnx` that fails to import, as on an install without the extra.
    (tmp_path / "onnx").mkdir()
    (tmp_path / "onnx" / "__init__.py").write_text("raise ImportError('no onnx here')\n")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); from cnncalc.cli import main; "
            "sys.argv = ['cnncalc', 'import', sys.argv[2]]; main()",
            str(tmp_path),
            str(FIXTURE),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert 'pip install "cnncalc[onnx]"' in done.stderr


def test_github_format_never_lets_a_name_start_a_command(tmp_path: Path):
    evil = tmp_path / "x\n::set-output name=a::b.yaml"  # a file name is untrusted text too
    evil.write_text("input: [1, 4]\nlayers:\n  - flatten\n  - linear: {out_features: 2}\n")
    done = cnncalc("diff", str(evil), "lenet5", "--format", "github")
    assert done.returncode == 1
    assert all(line.startswith(("::error ", "::notice ")) for line in done.stdout.splitlines())


SPELLINGS = DATA / "onnx" / "layernorm_spellings.onnx"


def test_import_reads_every_layernorm_spelling_of_both_torch_exporters(tmp_path: Path):
    # tests/data/onnx/make_norm_fixtures.py: LayerNorms written `d * d`, `torch.square`, `1 / sqrt`, `rsqrt`,
    # `.reciprocal()`; each equals an nn.LayerNorm (checked there), and torch 2.14.1 counts 1274 params in all.
    spec = tmp_path / "spellings.yaml"
    done = cnncalc("import", str(SPELLINGS), "-o", str(spec))
    assert done.returncode == 0, done.stderr
    text = spec.read_text()
    assert "layernorm: {name: stem_norm, eps: 1e-06}" in text  # nn.LayerNorm(8, eps=1e-6)
    assert "layernorm: {name: down_norm, elementwise_affine: false}" in text  # nn.LayerNorm(16, affine off)
    assert "layernorm: {name: head_norm}" in text  # nn.LayerNorm(16): the default eps
    # The dynamo=True export of the same model (rsqrt as Reciprocal, opset 18) is the same network.
    dynamo = SPELLINGS.with_name("layernorm_spellings_dynamo.onnx")
    same = cnncalc("diff", str(spec), str(dynamo), "--format", "json")
    assert same.returncode == 0, same.stdout
    assert json.loads(same.stdout)["totals"]["params"]["a"] == 1274


def test_a_near_layernorm_spelling_is_one_paragraph_exit_2(tmp_path: Path):
    import onnx
    from onnx import TensorProto, helper

    # The real export, with down_norm's 1 / std also read by the caller: no layer norm owns it any more.
    model = onnx.load(str(SPELLINGS))
    model.graph.output.append(helper.make_tensor_value_info("/down_norm/Reciprocal_output_0", TensorProto.FLOAT, None))
    near = tmp_path / "near.onnx"
    onnx.save(model, str(near))
    done = cnncalc("import", str(near))
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stdout == ""
    assert (
        "node 27 `/down_norm/Reciprocal` (Reciprocal): an inverse standard deviation that is not part of a layer norm"
        in done.stderr
    )
    assert "stem_norm" not in done.stderr  # the other three norms still read as layer norms


def test_diff_names_a_layer_once_and_a_shape_that_did_not_change_once(tmp_path: Path):
    # LeNet-5 with F6 widened from 84 to 100: nn.Linear(120, 100) has 120*100 + 100 = 12,100 params (10,164
    # before, the paper's), and the output layer nn.Linear(100, 10) 1,010; its shape [10] stays.
    wide = tmp_path / "lenet5_wide.yaml"
    wide.write_text((ROOT / "specs" / "lenet5.yaml").read_text().replace("out_features: 84}", "out_features: 100}"))
    text = cnncalc("diff", "lenet5", str(wide)).stdout
    assert "  changed  F6 (linear): shape [84] -> [100], params 10,164 -> 12,100, MACs 10,080 -> 12,000\n" in text
    assert "  changed  output (linear): shape [10], params 850 -> 1,010, MACs 840 -> 1,000\n" in text


@pytest.mark.parametrize("args", [["diff", "lenet5", "resnet18"], ["export", "lenet5", "--to", "pytorch"]])
def test_max_file_size_is_an_option_of_every_command_that_reads_a_spec(args: list[str]):
    # the README: `--max-file-size` on every command that reads a spec; LeNet-5's spec is over 1 kB
    done = cnncalc(*args, "--max-file-size", "1KB")
    assert (
        done.returncode == 2 and "files over 1.0 kB are refused" in done.stderr and "No such option" not in done.stderr
    )
