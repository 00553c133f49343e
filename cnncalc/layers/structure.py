"""Kinds made of other layers: `residual`, `concat`, `repeat` and uses of `blocks`."""

from collections.abc import Callable

from pydantic import Field

from cnncalc.layers.base import Layer, PositiveInt, Shape, Structure

Run = Callable[[list[Layer], Shape], Shape]


class Residual(Structure):
    """body(x) + shortcut(x); the shortcut defaults to the identity."""

    kind = "residual"
    parallel = True
    summary = "output = body(x) + shortcut(x)"
    body: list[Layer] = Field(description="layers of the main path")
    # default=[] (pydantic copies it per instance): default_factory=list costs ~2.5 ms of inspect.signature at start-up
    shortcut: list[Layer] = Field(default=[], description="layers of the skip path; empty = identity")

    def children(self) -> list[list[Layer]]:
        return [self.body, self.shortcut]

    def combine(self, input_shape: Shape, run: Run) -> Shape:
        body, shortcut = run(self.body, input_shape), run(self.shortcut, input_shape)
        if body != shortcut:
            raise self.error(
                f"the body gives {list(body)} but the shortcut gives {list(shortcut)}; they must be equal to add.",
                hint="Give the shortcut a projection, e.g. `shortcut: [{conv: {out_channels: "
                f"{body[0]}, kernel_size: 1, stride: ...}}}}]`."
                if len(body) > 1
                else None,
            )
        return body


class Concat(Structure):
    """Channel-wise concatenation of branches; an empty branch is the identity."""

    kind = "concat"
    parallel = True
    summary = "concatenate branches along the channels"
    branches: list[list[Layer]] = Field(min_length=1, description="one list of layers per branch")

    def children(self) -> list[list[Layer]]:
        return self.branches

    def combine(self, input_shape: Shape, run: Run) -> Shape:
        outputs = [run(branch, input_shape) for branch in self.branches]
        spatial = {out[1:] for out in outputs}
        if len(spatial) > 1 or any(len(out) != len(outputs[0]) for out in outputs):
            shown = ", ".join(f"branch {i}: {list(out)}" for i, out in enumerate(outputs))
            raise self.error(
                f"branches must agree on every size but the channels to concatenate; got {shown}.",
                hint="Check the strides and paddings of the branches.",
            )
        return (sum(out[0] for out in outputs), *outputs[0][1:])


class Repeat(Structure):
    """`times` copies of the same layers, one after another (each with its own weights)."""

    kind = "repeat"
    summary = "the same layers N times in sequence"
    times: PositiveInt
    iterations: list[list[Layer]] = Field(description="built by the loader: one list of layers per copy")

    def children(self) -> list[list[Layer]]:
        return self.iterations

    def combine(self, input_shape: Shape, run: Run) -> Shape:
        for iteration in self.iterations:
            input_shape = run(iteration, input_shape)
        return input_shape


class BlockCall(Structure):
    """A use of a named block from the spec's `blocks:` section."""

    kind = "block"
    summary = "a use of a block defined under `blocks:`"
    block: str
    args: dict[str, object] = Field(default_factory=dict)
    layers: list[Layer]

    @property
    def kind_label(self) -> str:
        return self.block

    def children(self) -> list[list[Layer]]:
        return [self.layers]

    def combine(self, input_shape: Shape, run: Run) -> Shape:
        return run(self.layers, input_shape)
