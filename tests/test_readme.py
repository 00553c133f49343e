"""The README's examples must work as written."""

import re

from cnncalc import analyze, load_spec, parse_spec
from cnncalc.spec.yaml_source import parse_yaml
from tests.conftest import ROOT, SPECS

README = (ROOT / "README.md").read_text(encoding="utf-8")


def yaml_block(first_line: str) -> str:
    """The README's ```yaml block that starts with `first_line`."""
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", README, flags=re.S) if b.startswith(first_line)]
    assert len(blocks) == 1, f"README has {len(blocks)} yaml blocks starting with {first_line!r}"
    return blocks[0]


def test_readme_starts_with_the_two_setup_commands():
    first_blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)[:2]
    assert README.index("```bash") < README.index("**cnncalc**")
    assert first_blocks[0].strip() == "pip install . && cnncalc table resnet50"
    assert first_blocks[1].strip() == 'pip install ".[test]" && python -m pytest'


def test_readme_spec_example_loads_and_meets_its_expectations():
    spec = parse_spec(yaml_block("name: Small ResNet"), "README.md")
    analysis = analyze(spec)
    assert list(analysis.output_shape) == spec.expect.output_shape
    for name, expected in spec.expect.layers.items():
        assert list(analysis.row(name).output_shape) == expected.output_shape
    # Two stride-1/stride-2 stages on 32x32: 32 -> 32 -> 16 before global pooling (conv arithmetic).
    assert analysis.row("basic2").output_shape == (128, 16, 16)


def test_readme_answers_example_is_judged_as_the_readme_says():
    from cnncalc.checking.answers import read_sheet
    from cnncalc.checking.grading import grade

    raw = parse_yaml(yaml_block("# answers.yaml"), "answers.yaml")
    result = grade(analyze(load_spec(SPECS / "alexnet_cs231n.yaml")), read_sheet(raw, "answers.yaml"))
    verdicts = {answer.key: answer for answer in result.answers}
    # The README says: conv1's 34,848 forgets the biases (slide: (11x11x3)x96 weights, +96 biases = 34,944).
    assert not verdicts["layers.conv1.params"].correct
    assert "34,944" in verdicts["layers.conv1.params"].formula[-1]
    assert verdicts["layers.conv1.output_shape"].correct and verdicts["layers.pool1.params"].correct
    assert verdicts["layers.pool1.output_shape"].correct  # written 96x27x27 (slide: 27x27x96 POOL1)
    # conv2 with pad 2 keeps 27 (slide: [27x27x256] CONV2); 23 is the padding-forgotten answer.
    assert not verdicts["layers.conv2.output_shape"].correct
    # 447,897,600 = 27*27*(5*5*96)*256 is conv2's MAC count; as FLOPs (2 per MAC) it is half the answer.
    assert not verdicts["layers.conv2.flops"].correct and verdicts["layers.conv2.flops"].correct_value == 2 * 447897600
    assert "MAC" in verdicts["layers.conv2.flops"].hint
    assert str(verdicts["layers.conv1.params"].position) == "answers.yaml:3:47"
    assert "(`answers.yaml:3:47`)" in README
