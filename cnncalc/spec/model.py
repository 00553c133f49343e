"""The loaded spec: input, layer tree, expectations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cnncalc.errors import Position
from cnncalc.graph import Graph
from cnncalc.layers import Layer, Shape
from cnncalc.layers.base import NotBoolean, PositiveInt

# Answers: whole numbers, never booleans (`params: false` is no answer), and no larger than any figure
# a network can have (so a hint's arithmetic on them stays in range).
MAX_COUNT = 10**30
Count = Annotated[int, Field(ge=0, le=MAX_COUNT), NotBoolean]
Bound = Annotated[float, Field(ge=0), NotBoolean]
ShapeList = Annotated[list[PositiveInt], Field(min_length=1, description="channels-first shape")]
# `loss:` and `--loss`: what the backward pass (executor/backward.py) can differentiate; here, free of NumPy,
# for the loader and the schema too.
LOSSES = ("sum", "mse", "cross_entropy")


class LayerExpect(BaseModel):
    """What one named layer should give (a homework answer, or a CI assertion)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    output_shape: ShapeList | None = None
    params: Count | None = None
    macs: Count | None = None
    flops: Count | None = None
    # The backward pass (homework on gradients): dL/dX's shape, dL/dW's shape, and values.
    grad_shape: ShapeList | None = None
    grad_weights_shape: ShapeList | Literal["none"] | None = None  # none: a frozen layer's, no gradient
    grad_values: Any = None


class Expect(BaseModel):
    """`expect:` of a spec, or a separate answers file of the same form."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    output_shape: ShapeList | None = None
    params: Count | None = None
    trainable_params: Count | None = None
    buffers: Count | None = None  # BatchNorm running statistics and other non-parameter state
    macs: Count | None = None
    flops: Count | None = None
    max_params: Bound | None = None
    max_macs: Bound | None = None
    max_flops: Bound | None = None
    layers: dict[str, LayerExpect] = Field(default_factory=dict)


@dataclass
class Spec:
    """A parsed, validated architecture file."""

    name: str
    file: str
    input_shape: Shape
    layers: list[Layer]
    description: str = ""
    input_values: Any = None  # nested lists of the input's shape, when the spec gives numbers
    expect: Expect | None = None
    expect_raw: Any = None  # the positioned YAML of `expect:`, to point at a wrong answer
    source: Position | None = None
    input_source: Position | None = None  # where `input:` is written (the channels-last warning points there)
    blocks: dict[str, Any] = field(default_factory=dict)
    graph: Graph = field(default_factory=lambda: Graph(()))  # the builder lowers `layers` into it
    loss: str | None = None  # `loss:` for the backward pass (sum, mse, cross_entropy)
    target: Any = None  # `target:` of that loss: numbers for mse, a class for cross_entropy
