"""Mutated real specs never crash: loading and analysing either works or raises CnncalcError,
and the CLI never prints a traceback. Bounded so the whole test stays well under 20 s."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cnncalc.checking import check_expect
from cnncalc.cli import app
from cnncalc.engine.propagate import analyze
from cnncalc.errors import CnncalcError
from cnncalc.spec.build import parse_spec
from tests.conftest import SPECS

TEXTS = {path.name: path.read_text(encoding="utf-8") for path in sorted(SPECS.glob("*.yaml"))}
NUMBER = re.compile(r"(?<![\w.$])\d+(?:\.\d+)?(?![\w.])")
REPLACEMENTS = ["0", "-1", "10000000000000", "abc", "1.5", "[]", "null", "{}", "$x", "[3, 0]", "''"]
GARBAGE = [":", "- ", "{", "}", "[", "]", ",", "&a ", "*a", "$x", "\t", "\x00", "é", "#", "'", "\n  - relu", ": {"]


@st.composite
def mutated_spec(draw) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(TEXTS)))
    text = TEXTS[name]
    rnd = draw(st.randoms(use_true_random=False))  # positions spread over the whole file, not near the top
    for _ in range(draw(st.integers(1, 3))):
        lines = text.split("\n")
        i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
        kind = draw(st.sampled_from(["number", "number", "number", "delete", "duplicate", "swap", "drop", "insert"]))
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "number":
            numbers = list(NUMBER.finditer(lines[i]))
            if numbers:
                m = rnd.choice(numbers)
                new = draw(st.sampled_from(REPLACEMENTS))
                lines[i] = lines[i][: m.start()] + new + lines[i][m.end() :]
        text = "\n".join(lines)
        if kind in ("drop", "insert") and text:
            k = rnd.randrange(len(text))
            garbage = draw(st.sampled_from(GARBAGE)) if kind == "insert" else ""
            text = text[:k] + garbage + text[k + (kind == "drop") :]
    return name, text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_spec())
def test_mutated_specs_load_or_raise_cnncalc_error(case):
    name, text = case
    try:
        spec = parse_spec(text, name)
        analysis = analyze(spec)
        if spec.expect is not None:
            check_expect(analysis, spec.expect, spec.expect_raw)
    except CnncalcError as error:
        assert error.render()  # renders as one message


runner = CliRunner()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_spec())
def test_the_cli_never_prints_a_traceback(tmp_path_factory, case):
    name, text = case
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
