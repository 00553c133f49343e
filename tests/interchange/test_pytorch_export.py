"""PyTorch export: every shipped spec's generated file, built and measured by PyTorch itself."""

from __future__ import annotations

import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from cnncalc import analyze, load_spec
from cnncalc.errors import CnncalcError
from cnncalc.interchange.pytorch_export import TORCH_CODE, code_for, export_pytorch
from cnncalc.layers import LAYER_KINDS
from cnncalc.layers.elementwise import Tanh
from tests.conftest import DATA, ROOT, SPECS

SHIPPED = sorted(SPECS.glob("*.yaml"))
EVERY_KIND = [*SHIPPED, DATA / "vocabulary.yaml"]  # the shipped specs and one layer of every new kind
# Leaf kinds cnncalc deliberately does not export (refused with "no PyTorch export for the kind"): none today.
NOT_EXPORTED: set[type] = set()


def _module(code: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(code, f"<{name}>", "exec"), module.__dict__)
    return module


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_generated_code_imports_only_torch(path: Path):
    code = export_pytorch(load_spec(path))
    imports = {line.split()[1] for line in code.splitlines() if line.startswith(("import ", "from "))}
    assert imports <= {"torch", "torch.nn.functional"}, imports
    assert "def build_model() -> nn.Module:" in code


def test_generated_code_passes_ruff(tmp_path: Path):
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    for path in EVERY_KIND:
        (tmp_path / f"{path.stem}.py").write_text(export_pytorch(load_spec(path)))
    config = ["--config", str(ROOT / "pyproject.toml")]
    for args in (["check", *config], ["format", "--check", *config]):
        done = subprocess.run([ruff, *args, str(tmp_path)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", EVERY_KIND, ids=lambda p: p.stem)
def test_torch_twin_of_the_export(path: Path):
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    spec = load_spec(path)
    model = _module(export_pytorch(spec), path.stem).build_model().eval()
    analysis = analyze(spec)
    # torch is the oracle: parameters' numel, forward-hook shapes, FlopCounterMode / 2 per module.
    assert sum(p.numel() for p in model.parameters()) == analysis.params
    shapes: dict[str, tuple[int, ...]] = {}
    for row in analysis.leaves:
        module = model.get_submodule(row.name)
        module.register_forward_hook(lambda _m, _i, out, name=row.name: shapes.__setitem__(name, tuple(out.shape[1:])))
    counter = FlopCounterMode(display=False)
    x = torch.zeros(1, *spec.input_shape) if spec.input_values is None else torch.tensor(spec.input_values)
    with torch.no_grad(), counter:
        out = model(x.reshape(1, *spec.input_shape).float())
    counts = counter.get_flop_counts()
    for row in analysis.leaves:
        assert shapes[row.name] == tuple(row.output_shape), row.name
        flops = sum(counts.get(f"Network.{row.name}", {}).values())
        assert flops // 2 == row.macs, row.name
        assert sum(p.numel() for p in model.get_submodule(row.name).parameters()) == row.params, row.name
    first = out[0] if isinstance(out, tuple) else out
    assert tuple(first.shape[1:]) == analysis.output_shape
    assert counter.get_total_flops() // 2 == analysis.macs


def test_blocks_become_classes_taking_the_blocks_arguments():
    code = export_pytorch(load_spec(SPECS / "resnet50.yaml"))
    # specs/resnet50.yaml: bottleneck(width, stride, project = stride != 1 or in_channels != width * 4).
    assert "class Bottleneck(nn.Module):" in code
    assert "def __init__(self, *, in_channels: int, width: int, stride: int, project: bool) -> None:" in code
    # The shortcut exists only where `project` holds (the spec's `when: $project`), and widths follow the arguments.
    assert "        if project:\n            self.res.shortcut = nn.Module()\n" in code
    assert "nn.Conv2d(width, width * 4, 1, stride=1, padding=0, groups=1, bias=False)" in code
    # layer1.0: 64 input channels, width 64, so 64 != 256 projects; layer1.1 reads 256 and does not.
    assert "block = Bottleneck(in_channels=64, width=64, stride=1, project=True)" in code
    assert "block = Bottleneck(in_channels=256, width=64, stride=1, project=False)" in code
    assert code.count("block = Bottleneck(") == 3 + 4 + 6 + 3


def test_a_layer_each_use_names_is_chosen_by_that_argument():
    code = export_pytorch(load_spec(SPECS / "mobilenet_v3_large.yaml"))
    # specs/mobilenet_v3_large.yaml's cba ends with `- $act` (relu or hardswish).
    assert '        if act == "relu":\n            self.relu1 = nn.ReLU()\n' in code
    assert "padding=k // 2" in code  # the spec's `padding: $k // 2`


@pytest.mark.parametrize("cls", sorted(set(LAYER_KINDS.values()), key=lambda c: c.kind), ids=lambda c: c.kind)
def test_every_leaf_kind_has_torch_code_or_is_refused_on_purpose(cls: type):
    # A new kind needs a @torch_code function in pytorch_export.py, or an entry in NOT_EXPORTED.
    found = code_for(cls.model_construct())  # the exporter's own lookup (the class or a base class)
    assert (found is None) == (cls in NOT_EXPORTED), cls.kind


def test_a_kind_without_torch_code_is_refused_at_its_layer(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delitem(TORCH_CODE, Tanh)
    path = SPECS / "lenet5.yaml"
    with pytest.raises(CnncalcError) as raised:
        export_pytorch(load_spec(path))
    # specs/lenet5.yaml: the first `- tanh` (tanh1 in the builder's numbering); the position is the item's own.
    lines = path.read_text().splitlines()
    row = lines.index("  - tanh")
    assert raised.value.message == "layer `tanh1`: cnncalc has no PyTorch export for the kind `tanh` yet."
    position = raised.value.position
    assert position is not None and (position.line, position.column) == (row + 1, lines[row].index("tanh") + 1)


def test_hostile_names_stay_inside_string_literals_and_comments():
    # Security review: a name `a", None); open(...); print("b` became code in `add_module("...")`, and names
    # with ESC or a newline wrote raw control characters and a `::error::` line into the file.
    import ast

    code = export_pytorch(load_spec(DATA / "hostile_names.yaml"))
    tree = ast.parse(code)  # still Python
    calls = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert "open" not in calls and "print" not in calls
    assert not any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029\u202e" for c in code)
    assert not any(line.lstrip().startswith("::") for line in code.splitlines())
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert 'a", None); open("/tmp/cnncalc-pwned", "w"); print("b' in strings  # the name itself, as a string
