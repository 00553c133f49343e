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


def _guards(metadata: list[Any]) -> tuple[bool, bool]:
    """(booleans refused, infinities and NaN refused) by these pydantic metadata."""
    flat: list[Any] = []
    for item in metadata:
        flat.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    no_bool = any(item is NotBoolean for item in flat)
    finite = any(getattr(item, "allow_inf_nan", None) is False for item in flat)
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
        ("pad: {padding: 1, value: -.inf}", 30, "`pad` argument `value` must be a finite number; got -inf."),
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
    ["batchnorm: {momentum: null}", "instancenorm: {momentum: 1.5}", "elu: {alpha: -1}", "pad: {padding: 1, value: 2}"],
)
def test_what_pytorch_takes_is_still_taken(tmp_path: Path, layer):
    # nn.BatchNorm2d(momentum=None) is a cumulative average; torch also takes momentum 1.5 and ELU(alpha=-1.0).
    spec = tmp_path / "net.yaml"
    spec.write_text(f"input: [4, 8, 8]\nlayers:\n  - {layer}\n", encoding="utf-8")
    assert runner.invoke(app, ["table", str(spec)]).exit_code == 0
