"""Every number a layer takes goes through layers/base.py's `Int` / `Float` family: booleans refused, floats finite."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.layers import LAYER_KINDS, STRUCTURE_KINDS
from cnncalc.layers.base import NotBoolean, PositiveFloat
from cnncalc.layers.rearrange import NO_NAN


def _guards(metadata: list[Any]) -> tuple[bool, bool]:
    """(booleans refused, infinities and NaN refused) by these pydantic metadata."""
    flat: list[Any] = []
    for item in metadata:
        flat.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    no_bool = any(item is NotBoolean for item in flat)
    # A pad's fill alone may be infinite (-inf before a max pool), never NaN: its validator says so.
    finite = any(getattr(item, "allow_inf_nan", None) is False or item is NO_NAN for item in flat)
    return no_bool, finite


def bare_numbers(annotation: Any, metadata: list[Any] | None = None) -> list[str]:
    """The `int` / `float` inside `annotation` that would take `true` (or a float NaN or infinity)."""
    if get_origin(annotation) is Annotated:
        inner, *extra = get_args(annotation)
        if inner in (int, float):
            return bare_numbers(inner, [*(metadata or []), *extra])
        return bare_numbers(inner)
    if annotation in (int, float):
        no_bool, finite = _guards(metadata or [])
        return [] if no_bool and (finite or annotation is int) else [annotation.__name__]
    if get_origin(annotation) is Literal:
        return []
    return [found for arg in get_args(annotation) for found in bare_numbers(arg)]


def field_problems(model: type[BaseModel]) -> list[str]:
    return [
        f"{model.__name__}.{name}: bare {found}"
        for name, info in model.model_fields.items()
        for found in bare_numbers(info.annotation, list(info.metadata))
    ]


def test_no_kind_takes_a_bare_number():
    kinds = {*LAYER_KINDS.values(), *STRUCTURE_KINDS.values()}
    assert len(kinds) > 50  # the scan sees the whole vocabulary
    assert [problem for kind in kinds for problem in field_problems(kind)] == []


def test_the_scan_finds_a_bare_number():
    class Loose(BaseModel):
        a: float = 1.0
        b: int | None = None
        c: list[Annotated[float, NotBoolean]] = []  # booleans refused, but NaN taken
        d: PositiveFloat = 1.0
        e: Literal[1, 2] = 1

    assert field_problems(Loose) == ["Loose.a: bare float", "Loose.b: bare int", "Loose.c: bare float"]


# --- the reviewer's examples, through the CLI: each ran and printed NaN maps before ---

runner = CliRunner()


@pytest.mark.parametrize(
    ("layer", "column", "message"),
    [
        ("groupnorm: {num_groups: 2, eps: true}", 37, "`groupnorm` argument `eps` must be a number, not true or false"),
        ("elu: {alpha: .nan}", 18, "`elu` argument `alpha` must be a finite number; got nan."),
        ("batchnorm: {momentum: .inf}", 27, "`batchnorm` argument `momentum` must be a finite number; got inf."),
        ("log_softmax: {dim: true}", 24, "`log_softmax` argument `dim` must be a number, not true or false"),
        ("pad: {padding: 1, value: .nan}", 30, "`pad` argument `value` must be a number or .inf or -.inf, not NaN"),
    ],
)
def test_a_boolean_or_non_finite_argument_is_refused_at_its_position(tmp_path: Path, layer, column, message):
    spec = tmp_path / "net.yaml"
    spec.write_text(f"input: [4, 8, 8]\nlayers:\n  - {layer}\n", encoding="utf-8")
    result = runner.invoke(app, ["run", str(spec)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith(f"{spec}:3:{column}: error: {message}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "layer",
    [
        "batchnorm: {momentum: null}",
        "instancenorm: {momentum: 1.5}",
        "elu: {alpha: -1}",
        "pad: {padding: 1, value: 2}",
        "pad: {padding: 1, value: -.inf}",  # F.pad(value=-inf) before a max pool: TensorFlow's `same`, timm's
    ],
)
def test_what_pytorch_takes_is_still_taken(tmp_path: Path, layer):
    # nn.BatchNorm2d(momentum=None) is a cumulative average; torch also takes momentum 1.5 and ELU(alpha=-1.0).
    spec = tmp_path / "net.yaml"
    spec.write_text(f"input: [4, 8, 8]\nlayers:\n  - {layer}\n", encoding="utf-8")
    assert runner.invoke(app, ["table", str(spec)]).exit_code == 0


def test_a_minus_infinity_pad_runs_exports_and_writes_strict_json(tmp_path: Path):
    # F.pad(x, 1, value=-inf) then a 3x3/2 max pool: torch gives the pool of the input alone, finite everywhere;
    # the pad's own output has -inf cells, which JSON (RFC 8259) cannot hold as numbers.
    import json

    spec = tmp_path / "net.yaml"
    spec.write_text(
        "input: {values: "
        + str([[[float(r * 6 + c) for c in range(6)] for r in range(6)]] * 2)
        + "}\nlayers:\n  - pad: {padding: 1, value: -.inf}\n  - maxpool: {kernel_size: 3, stride: 2}\n",
        encoding="utf-8",
    )
    ran = runner.invoke(app, ["run", str(spec), "--format", "json"])
    assert ran.exit_code == 0 and "Warning" not in ran.stderr, ran.output

    def strict(token: str) -> float:
        raise AssertionError(f"not JSON: {token}")

    report = json.loads(ran.stdout, parse_constant=strict)
    assert report["layers"][0]["values"][0][0][0] == "-inf"
    # the 3x3/2 windows over rows/cols -1..1, 1..3, 3..5 of 0..35 (6 per row): their maxima 7, 9, 11 / 19, ... 35
    assert report["layers"][1]["values"][0] == [[7, 9, 11], [19, 21, 23], [31, 33, 35]]
    code = runner.invoke(app, ["export", str(spec), "--to", "pytorch"]).stdout
    compile(code, "exported.py", "exec")  # -float("inf"), not repr's bare `-inf`
    assert 'ConstantPad2d((1, 1, 1, 1), -float("inf"))' in code
