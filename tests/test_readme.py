"""The README's examples must work as written."""

import re

from cnncalc import analyze, parse_spec
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", README, flags=re.S)


def test_readme_starts_with_the_two_setup_commands():
    first_blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)[:2]
    assert first_blocks[0].strip() == "pip install . && cnncalc table resnet50"
    assert first_blocks[1].strip() == 'pip install ".[test]" && python -m pytest'


def test_readme_spec_example_loads_and_meets_its_expectations():
    spec = parse_spec(yaml_blocks()[0], "README.md")
    analysis = analyze(spec)
    assert list(analysis.output_shape) == spec.expect.output_shape
    for name, expected in spec.expect.layers.items():
        assert list(analysis.row(name).output_shape) == expected.output_shape
    # Two stride-1/stride-2 stages on 32x32: 32 -> 32 -> 16 before global pooling (conv arithmetic).
    assert analysis.row("basic2").output_shape == (128, 16, 16)
