"""Mutated real specs never crash: loading and analysing either works or raises CnncalcError,
and the CLI never prints a traceback, exits 0, 1 or 2 (never 3, an internal error), and shows no raw
control character nor a line GitHub would run as a command. Mutations: numbers (including integers
past Python's 4,300-digit limit), lines, stray characters, YAML tags, and names full of escapes.
Bounded so the whole test stays well under 20 s, and no single case may take more than 2 s."""

from __future__ import annotations

import re
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cnncalc.checking import check_expect
from cnncalc.cli import app
from cnncalc.engine.propagate import analyze
from cnncalc.errors import CnncalcError, all_errors
from cnncalc.spec.build import parse_spec
from tests.conftest import SPECS

TEXTS = {path.name: path.read_text(encoding="utf-8") for path in sorted(SPECS.glob("*.yaml"))}
NUMBER = re.compile(r"(?<![\w.$])\d+(?:\.\d+)?(?![\w.])")
REPLACEMENTS = ["0", "-1", "10000000000000", "abc", "1.5", "[]", "null", "{}", "$x", "[3, 0]", "''", "true", "false"]
BIG_NUMBERS = ["1" + "0" * 5000, "9" * 4300, str(2**63), str(2**64), "1e400", ".inf", ".nan", "0x7fffffffffffffff"]
GARBAGE = [":", "- ", "{", "}", "[", "]", ",", "&a ", "*a", "$x", "\t", "\x00", "é", "#", "'", "\n  - relu", ": {"]
GARBAGE += ["<<: *a ", "&a {<<: *a}", "\x1b", "\u202e"]
TAGS = ["!!int", "!!float", "!!bool", "!!timestamp", "!!str", "!!null", "!!binary", "!!set", "!!python/tuple"]
TAGS += ["!!python/object/apply:os.system", "!foo", "!<tag:example.com,2024:x>"]
# Written as YAML double-quoted escapes: screen clear, OSC 8 link, newline + workflow command, NUL, RTL override...
HOSTILE_NAMES = [r"\e[2J", r"\e]8;;http://x/y\e\\z\e]8;;\e\\", r"a\nb", r"x\n::error file=README,line=1::PWNED"]
HOSTILE_NAMES += [r"\x00", r"\u202eevil", r"\x9b31m", "[bold red]x", "$x$", ":thumbs_up:", r"\x01\x0b"]
LAYER_START = re.compile(r"^(\s*- \w+: \{)")
NAMED = re.compile(r"\bname: [^,}]+")


@st.composite
def mutated_spec(draw) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(TEXTS)))
    text = TEXTS[name]
    rnd = draw(st.randoms(use_true_random=False))  # positions spread over the whole file, not near the top
    for _ in range(draw(st.integers(1, 3))):
        lines = text.split("\n")
        i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
        kind = draw(
            st.sampled_from(
                ["number", "number", "big", "delete", "duplicate", "swap", "drop", "insert", "tag", "name", "name"]
            )
        )
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif kind in ("number", "big", "tag"):
            numbers = list(NUMBER.finditer(lines[i]))
            if numbers:
                m = rnd.choice(numbers)
                if kind == "tag":
                    new = f"{draw(st.sampled_from(TAGS))} {m.group()}"
                else:
                    new = draw(st.sampled_from(REPLACEMENTS if kind == "number" else BIG_NUMBERS))
                lines[i] = lines[i][: m.start()] + new + lines[i][m.end() :]
        elif kind == "name":  # a hostile name on a layer, or as the spec's name
            hostile = draw(st.sampled_from(HOSTILE_NAMES))
            layers = [k for k, line in enumerate(lines) if LAYER_START.match(line)]
            if layers and rnd.random() < 0.8:
                k = rnd.choice(layers)
                if NAMED.search(lines[k]):  # replace the layer's own name, so the key is not duplicated
                    lines[k] = NAMED.sub(lambda m, h=hostile: f'name: "{h}"', lines[k], count=1)
                else:
                    lines[k] = LAYER_START.sub(lambda m, h=hostile: f'{m.group(1)}name: "{h}", ', lines[k], count=1)
            else:
                lines = [line for line in lines if not line.startswith("name:")]
                lines.insert(0, f'name: "{hostile}"')
        text = "\n".join(lines)
        if kind in ("drop", "insert") and text:
            k = rnd.randrange(len(text))
            garbage = draw(st.sampled_from(GARBAGE)) if kind == "insert" else ""
            text = text[:k] + garbage + text[k + (kind == "drop") :]
    return name, text


MAX_SECONDS_PER_CASE = 2


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_spec())
def test_mutated_specs_load_or_raise_cnncalc_error(case):
    name, text = case
    started = time.perf_counter()
    try:
        spec = parse_spec(text, name)
        analysis = analyze(spec)
        if spec.expect is not None:
            check_expect(analysis, spec.expect, spec.expect_raw)
    except CnncalcError as error:
        # One line per problem (a spec's independent mistakes are all shown), control characters escaped.
        paragraphs = [e.render() for e in all_errors(error)]
        assert paragraphs and all(p and "\n" not in p and "\x1b" not in p for p in paragraphs)
    assert time.perf_counter() - started < MAX_SECONDS_PER_CASE


runner = CliRunner()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_spec())
def test_the_cli_never_prints_a_traceback(tmp_path_factory, case):
    name, text = case
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    for args in (["validate", str(path)], ["table", str(path), "--format", "csv"]):
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 1, 2), result.output  # 3 would be an internal error
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output
        for output in (result.stdout, result.stderr):
            assert "\x1b" not in output and "\x00" not in output and "\u202e" not in output
            assert not any(line.lstrip().startswith("::") for line in output.splitlines()), output
    assert time.perf_counter() - started < 2 * MAX_SECONDS_PER_CASE
