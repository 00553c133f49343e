"""`cnncalc import --torch MODULE:FACTORY`: torch's model exported in memory, then the ONNX importer, end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app
from tests.conftest import DATA, ROOT

runner = CliRunner()
MODELS = DATA / "torch_models.py"
ENV = {"COLUMNS": "200", "NO_COLOR": "1"}


def invoke(*args: str, code: int = 0):
    result = runner.invoke(app, ["import", *args], env=ENV)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def params(spec_text: str, tmp_path: Path) -> int:
    from cnncalc.cli.common import load
    from cnncalc.engine.propagate import analyze

    path = tmp_path / "spec.yaml"
    path.write_text(spec_text)
    return sum(row.params for row in analyze(load(str(path))).rows if row.leaf)


def without_description(text: str) -> list[str]:
    """The spec's lines but its description (which names the source: a file, or MODULE:FACTORY)."""
    return [line for line in text.splitlines() if not line.startswith("description: ")]


# --- needs no torch: argument errors, and the message when torch is missing --------------------------


def test_a_file_and_torch_are_exclusive():
    both = invoke(str(DATA / "onnx" / "resnet50.onnx"), "--torch", "torchvision.models:resnet18", code=2)
    assert "not both" in both.stderr
    neither = invoke(code=2)
    assert "nothing to import" in neither.stderr and "--torch MODULE:FACTORY" in neither.stderr


def test_torch_wants_module_colon_factory_and_an_input():
    assert "MODULE:FACTORY" in invoke("--torch", "torchvision.models", "--input", "3,8,8", code=2).stderr
    assert "needs --input" in invoke("--torch", "torchvision.models:resnet18", code=2).stderr
    for bad in ("3,x,8", "3,0,8", ""):
        assert "--input wants" in invoke("--torch", "m:f", "--input", bad, code=2).stderr
    # An ONNX file carries its own input shape.
    assert "--input is for --torch" in invoke(str(DATA / "onnx" / "resnet50.onnx"), "--input", "3,8,8", code=2).stderr


NO_TORCH = (
    "import sys; sys.path.insert(0, sys.argv[1]); from cnncalc.cli import main; "
    "sys.argv = ['cnncalc', 'import', '--torch', 'torchvision.models:resnet18', '--input', '3,224,224']; main()"
)


def test_without_torch_one_paragraph_says_how_to_install(tmp_path: Path):
    # A stand-in `torch` that fails to import, as on an install without it (this venv may have the real one).
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError('no torch here')\n")
    done = subprocess.run(
        [sys.executable, "-c", NO_TORCH, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "needs PyTorch, which is not installed" in done.stderr and "pip install torch" in done.stderr
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1


def test_help_and_argument_errors_import_nothing_heavy():
    from tests.cli.test_table import NO_HEAVY_IMPORTS

    for args in (["import", "--help"], ["import"]):
        done = subprocess.run(
            [sys.executable, "-c", NO_HEAVY_IMPORTS.replace("(0, None)", "(0, 2, None)"), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr


# --- with torch and onnx ------------------------------------------------------------------------------


needs_torch = pytest.mark.skipif(
    any(__import__("importlib").util.find_spec(m) is None for m in ("torch", "onnx")), reason="needs torch and onnx"
)


@needs_torch
def test_resnet50_gives_the_committed_fixture_spec():
    # tests/data/onnx/make_fixtures.py exported resnet50.onnx exactly as --torch does (legacy exporter, folding
    # off, opset 17, eval mode, zeros of batch 1), so the specs agree line for line but for the description.
    from cnncalc.interchange.onnx_import import import_onnx

    result = invoke("--torch", "torchvision.models:resnet50", "--input", "3,224,224")
    fixture = import_onnx(str(DATA / "onnx" / "resnet50.onnx")).text
    assert without_description(result.stdout) == without_description(fixture)
    assert 'description: "Imported from torchvision.models:resnet50() through torch.onnx.export' in result.stdout


@needs_torch
@pytest.mark.parametrize("name, published", [("resnet18", 11_689_512), ("mobilenet_v2", 3_504_872)])
def test_torchvision_models_give_torchvisions_published_params(tmp_path: Path, name: str, published: int):
    # torchvision's model docs: ResNet18 11,689,512 params, MobileNet_V2 3,504,872. No committed fixture is
    # these models, so the spec is compared with `cnncalc import` of the same export written to a file.
    import torch
    import torchvision

    out = tmp_path / f"{name}.yaml"
    invoke("--torch", f"torchvision.models:{name}", "--input", "3,224,224", "-o", str(out))
    assert params(out.read_text(), tmp_path) == published
    onnx_file = tmp_path / f"{name}.onnx"
    model = getattr(torchvision.models, name)().eval()
    torch.onnx.export(
        model, (torch.zeros(1, 3, 224, 224),), str(onnx_file), dynamo=False, do_constant_folding=False, opset_version=17
    )
    from_file = invoke(str(onnx_file)).stdout
    assert without_description(out.read_text()) == without_description(from_file)


@needs_torch
def test_a_local_file_by_path(tmp_path: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("tiny_models_oracle", MODELS)
    assert spec and spec.loader
    oracle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(oracle)
    torch_params = sum(p.numel() for p in oracle.tiny().parameters())
    assert torch_params == 906  # Conv2d(3, 8, 3) 224 + conv 576 and BatchNorm2d 16 + Linear(8, 10) 90
    text = invoke("--torch", f"{MODELS}:tiny", "--input", "3,16,16").stdout
    assert text.startswith('name: "tiny"\n') and "residual:" in text and "input: [3, 16, 16]" in text
    assert params(text, tmp_path) == torch_params
    assert 'name: "mine"' in invoke("--torch", f"{MODELS}:tiny", "--input", "3,16,16", "--name", "mine").stdout
    # A dotted FACTORY and a one-dim input: Linear(12, 4) has 12 * 4 + 4 = 52 params.
    small = invoke("--torch", f"{MODELS}:Zoo.small", "--input", "12").stdout
    assert small.startswith('name: "small"\n') and "input: [12]" in small and params(small, tmp_path) == 52


@needs_torch
def test_without_onnx_says_so_before_running_the_model(tmp_path: Path):
    (tmp_path / "onnx").mkdir()
    (tmp_path / "onnx" / "__init__.py").write_text("raise ImportError('no onnx here')\n")
    script = NO_TORCH.replace("torchvision.models:resnet18", f"{MODELS}:chatty")
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and 'pip install "cnncalc[onnx]"' in done.stderr
    assert "building the chatty model" not in done.stderr  # the factory never ran


@needs_torch
def test_what_user_code_prints_goes_to_stderr():
    result = invoke("--torch", f"{MODELS}:chatty", "--input", "3,2,2")
    assert "building the chatty model" in result.stderr
    assert result.stdout.startswith('name: "chatty"') and "building" not in result.stdout


@needs_torch
@pytest.mark.parametrize(
    "target, said",
    [
        ("no_such_module_here:build", "importing `no_such_module_here` failed (ModuleNotFoundError"),
        (f"{DATA / 'torch_broken.py'}:build", "failed (ImportError: torch_broken cannot be imported)"),
        (f"{DATA / 'absent.py'}:build", "no such file"),
        (f"{MODELS}:missing", "has no `missing`"),
        (f"{MODELS}:NOT_CALLABLE", "`NOT_CALLABLE` is a int, not something to call"),
        (f"{MODELS}:raises", "calling `raises()` failed (RuntimeError: this factory always fails)"),
        (f"{MODELS}:needs_width", "calling `needs_width()` failed (TypeError"),
        (f"{MODELS}:not_a_module", "`not_a_module()` returned a list, not a torch.nn.Module"),
        (f"{MODELS}:Untraceable", "torch.onnx.export of `Untraceable()` on an input of [1, 3, 8, 8] failed"),
    ],
)
def test_each_failure_is_one_paragraph_naming_it(target: str, said: str):
    result = invoke("--torch", target, "--input", "3,8,8", code=2)
    assert said in result.stderr
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1


@needs_torch
def test_a_wrong_input_shape_is_an_export_failure():
    # The first conv of tiny() takes 3 channels: 4 cannot run.
    result = invoke("--torch", f"{MODELS}:tiny", "--input", "4,8,8", code=2)
    assert "torch.onnx.export of `tiny()`" in result.stderr and "--input" in result.stderr


@needs_torch
def test_names_are_escaped_and_outputs_never_replace_the_model(tmp_path: Path):
    evil = tmp_path / "m\x1b[2J.py"
    evil.write_text(MODELS.read_text())
    result = invoke("--torch", f"{evil}:missing", "--input", "3,8,8", code=2)
    assert "\x1b" not in result.stderr and "\\x1b[2J" in result.stderr
    copy = tmp_path / "models.py"
    copy.write_text(MODELS.read_text())
    before = copy.read_text()
    assert "refusing to write" in invoke("--torch", f"{copy}:tiny", "--input", "3,8,8", "-o", str(copy), code=2).stderr
    assert copy.read_text() == before
    # A dotted module is found from the current folder; its file is an input too.
    done = subprocess.run(
        [sys.executable, "-m", "cnncalc", "import", "--torch", "models:tiny", "--input", "3,8,8", "-o", "models.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2 and "refusing to write" in done.stderr and copy.read_text() == before
    out = tmp_path / "tiny.yaml"
    invoke("--torch", f"{copy}:tiny", "--input", "3,8,8", "-o", str(out))
    assert out.read_text().startswith('name: "tiny"')
