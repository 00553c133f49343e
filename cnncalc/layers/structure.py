"""Kinds with several inputs (merges) and kinds made of other layers (structures).

A merge rule (sum, broadcast product, channel concatenation) is one mixin, shared by the leaf
form `add: {from: [a, b]}` and the structure form `add: {branches: [...]}`. A structure declares
its layer groups (the arguments that hold layer lists), how they are wired (in parallel from the
same input, one after another, or fed channel sections) and, if parallel, its merge rule. The
builder, the JSON schema and the graph read these declarations; nothing else asks for a kind.
"""

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field

from cnncalc.layers.base import Layer, NonNegativeInt, PositiveInt, ReceptiveWindow, Shape, Structure, register

Wiring = Literal["parallel", "sequence", "sections"]


class Merge:
    """How several input volumes become one; `labels` name the inputs in messages."""

    symbol: ClassVar[str] = "+"
    # Receptive fields: an operand that already sees the whole input (a gate computed from a
    # global pool) does not widen the field of a product.
    gate: ClassVar[bool] = False
    merge_verb: ClassVar[str] = "add"

    def merge_shape(self, shapes: Sequence[Shape], labels: Sequence[str]) -> Shape:
        raise NotImplementedError

    def merge_error(self, message: str, hint: str | None = None) -> Exception:
        assert isinstance(self, Layer)
        return self.error(message, hint=hint)


def _shown(shapes: Sequence[Shape], labels: Sequence[str]) -> str:
    return ", ".join(f"{label}: {list(shape)}" for label, shape in zip(labels, shapes))


class SumMerge(Merge):
    """Elementwise sum: every input has the same shape."""

    symbol = "+"

    def merge_shape(self, shapes: Sequence[Shape], labels: Sequence[str]) -> Shape:
        if len(set(shapes)) > 1:
            raise self.merge_error(f"inputs of different shapes cannot be added ({_shown(shapes, labels)}).")
        return shapes[0]


class ProductMerge(Merge):
    """Elementwise product with PyTorch's broadcasting: per dim equal, or 1 (`[C, 1, 1] * [C, H, W]`)."""

    symbol = "×"
    gate = True
    merge_verb = "multiply"

    def merge_shape(self, shapes: Sequence[Shape], labels: Sequence[str]) -> Shape:
        if len({len(s) for s in shapes}) > 1:
            raise self.merge_error(
                f"cannot multiply volumes of different ranks ({_shown(shapes, labels)}).",
                "Keep the singleton axes, e.g. a gate [C, 1, 1] for a [C, H, W] volume (no `flatten`).",
            )
        out = []
        for sizes in zip(*shapes):
            big = {n for n in sizes if n != 1}
            if len(big) > 1:
                raise self.merge_error(
                    f"the shapes do not broadcast: each dimension must be equal or 1 ({_shown(shapes, labels)}).",
                )
            out.append(big.pop() if big else 1)
        return tuple(out)


class ChannelConcat(Merge):
    """Concatenation along the channels: every other size agrees."""

    symbol = "C"
    merge_verb = "concatenate"

    def merge_shape(self, shapes: Sequence[Shape], labels: Sequence[str]) -> Shape:
        if len({s[1:] for s in shapes}) > 1 or len({len(s) for s in shapes}) > 1:
            raise self.merge_error(
                f"branches must agree on every size but the channels to concatenate; got {_shown(shapes, labels)}.",
                "Check the strides and paddings of the branches.",
            )
        return (sum(s[0] for s in shapes), *shapes[0][1:])


# --- leaf merges: `add: {from: [a, b]}` --------------------------------------------------------------


class _FromMerge(Layer):
    """A leaf with several inputs, named by `from:`; 0 params, 0 MACs."""

    takes_from_list = True

    def infer(self, inputs: Sequence[Shape]) -> Shape:
        assert isinstance(self, Merge)
        return self.merge_shape(inputs, [f"`{name}`" for name in self.from_names])

    def receptive_window(self, input_shape: Shape) -> ReceptiveWindow:
        return None

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        return [f"{self.kind} of {', '.join(self.from_names)} -> {list(output_shape)}; params = 0"]


@register
class AddLayer(SumMerge, _FromMerge):
    """x_a + x_b + ... (shapes equal, as in a residual)."""

    kind = "add"
    summary = "elementwise sum of the layers named in `from:`"


@register
class MultiplyLayer(ProductMerge, _FromMerge):
    """x_a * x_b * ... with broadcasting (a squeeze-and-excitation gate)."""

    kind = "multiply"
    summary = "elementwise product (broadcasting) of the layers named in `from:`"


@register
class ConcatLayer(ChannelConcat, _FromMerge):
    """torch.cat of the layers named in `from:` along the channels."""

    kind = "concat"
    summary = "channel concatenation of the layers named in `from:`"


# --- structures -----------------------------------------------------------------------------------------

STRUCTURE_KINDS: dict[str, type["StructureKind"]] = {}


def structure(cls: type["StructureKind"]) -> type["StructureKind"]:
    """Class decorator: make a structure kind usable in specs."""
    STRUCTURE_KINDS[cls.kind] = cls
    return cls


class StructureKind(Structure):
    """A structure's declaration: which arguments hold layers, and how they are wired."""

    wiring: ClassVar[Wiring] = "sequence"
    # Arguments holding one layer list each, or (`branches`) a list of layer lists.
    layer_args: ClassVar[tuple[str, ...]] = ()
    branch_args: ClassVar[tuple[str, ...]] = ()
    # How a layer_args group is named under the structure's path: None puts its layers right under it
    # (`body` -> `res1.conv1`), a word adds a level (`shortcut` -> `res1.shortcut`); branch i is always `path.i`.
    group_paths: ClassVar[dict[str, str | None]] = {}
    # Where a list written right after the kind (`residual: [...]`) belongs, for the builder's hint; None when
    # unclear (`add: [a, b]` may mean `from: [a, b]`).
    list_arg: ClassVar[str | None] = None

    def groups(self) -> list[list[Layer]]:
        """The layer lists, in execution order."""
        found: list[list[Layer]] = []
        for arg in (*self.layer_args, *self.branch_args):
            value = getattr(self, arg)
            found.extend(value if arg in self.branch_args else [value])
        return found

    def group_labels(self) -> list[str]:
        """What messages call each group's output."""
        return [f"branch {i}" for i in range(len(self.groups()))]

    def infer(self, inputs: Sequence[Shape]) -> Shape:
        """The merge node's shape: the merge rule over the groups' outputs."""
        assert isinstance(self, Merge)
        return self.merge_shape(inputs, self.group_labels())


@structure
class Residual(SumMerge, StructureKind):
    """body(x) + shortcut(x); the shortcut defaults to the identity."""

    kind = "residual"
    summary = "output = body(x) + shortcut(x); the shortcut defaults to the identity"
    wiring = "parallel"
    layer_args = ("body", "shortcut")
    list_arg = "body"
    group_paths = {"body": None, "shortcut": "shortcut"}
    body: list[Layer] = Field(description="layers of the main path")
    # default=[] (pydantic copies it per instance): default_factory=list costs ~2.5 ms of inspect.signature at start-up
    shortcut: list[Layer] = Field(default=[], description="layers of the skip path; empty = identity")

    def group_labels(self) -> list[str]:
        return ["the body", "the shortcut"]

    def merge_shape(self, shapes: Sequence[Shape], labels: Sequence[str]) -> Shape:
        body, shortcut = shapes
        if body != shortcut:
            raise self.error(
                f"the body gives {list(body)} but the shortcut gives {list(shortcut)}; they must be equal to add.",
                hint="Give the shortcut a projection, e.g. `shortcut: [{conv: {out_channels: "
                f"{body[0]}, kernel_size: 1, stride: ...}}}}]`."
                if len(body) > 1
                else None,
            )
        return body


class _Branches(StructureKind):
    wiring = "parallel"
    branch_args = ("branches",)
    branches: list[list[Layer]] = Field(min_length=1, description="one list of layers per branch; [] is the identity")


@structure
class Concat(ChannelConcat, _Branches):
    """Channel-wise concatenation of branches fed the same input; an empty branch is the identity."""

    kind = "concat"
    summary = "concatenate branches along the channels"
    list_arg = "branches"


@structure
class AddBranches(SumMerge, _Branches):
    """The sum of branches fed the same input; an empty branch is the identity."""

    kind = "add"
    summary = "sum of branches fed the same input"


@structure
class MultiplyBranches(ProductMerge, _Branches):
    """The broadcast product of branches fed the same input (`[[], [pool, fc, sigmoid]]` is an SE gate)."""

    kind = "multiply"
    summary = "broadcast product of branches fed the same input"


@structure
class Split(ChannelConcat, StructureKind):
    """Cut the channels into consecutive sections, run branch i on section i, concatenate (torch.split)."""

    kind = "split"
    summary = "channel sections, one branch each, concatenated (ShuffleNetV2, CSP)"
    wiring = "sections"
    branch_args = ("branches",)
    list_arg = "branches"
    sections: PositiveInt | list[PositiveInt] = Field(description="how many equal sections, or each section's size")
    branches: list[list[Layer]] = Field(min_length=1, description="one list of layers per section")

    def section_bounds(self, channels: int) -> list[tuple[int, int]]:
        """[start, stop) of each section of `channels`, checked against the branches."""
        if isinstance(self.sections, int):
            if channels % self.sections:
                raise self.error(
                    f"{self.sections} sections do not divide the {channels} input channels.",
                    "sections",
                    "Give the section sizes as a list instead, e.g. `sections: [a, b]`.",
                )
            sizes = [channels // self.sections] * self.sections
        else:
            sizes = list(self.sections)
            if sum(sizes) != channels:
                raise self.error(
                    f"the sections {sizes} add up to {sum(sizes)}, but the input has {channels} channels.",
                    "sections",
                )
        if len(sizes) != len(self.branches):
            raise self.error(
                f"{len(sizes)} sections but {len(self.branches)} branches; give one branch per section.",
                "branches",
                "An empty branch `[]` passes its section through.",
            )
        bounds, start = [], 0
        for size in sizes:
            bounds.append((start, start + size))
            start += size
        return bounds


class SplitSection:
    """The graph node that takes section `index` of a split's input (a view: no params, no copy)."""

    def __init__(self, split: Split, index: int):
        self.split, self.index = split, index

    @property
    def path(self) -> str:
        return f"{self.split.path}.section{self.index}"

    @property
    def source(self) -> Any:
        return self.split.source

    def infer(self, inputs: Sequence[Shape]) -> Shape:
        start, stop = self.split.section_bounds(inputs[0][0])[self.index]
        return (stop - start, *inputs[0][1:])


@structure
class Repeat(StructureKind):
    """`times` copies of the same layers, one after another (each with its own weights)."""

    kind = "repeat"
    summary = "the same layers N times in sequence; `$index` is the copy's number"
    times: NonNegativeInt
    iterations: list[list[Layer]] = Field(description="built by the loader: one list of layers per copy")
    spec_args: ClassVar[tuple[str, ...]] = ("times", "layers")
    list_arg = "layers"

    def groups(self) -> list[list[Layer]]:
        return self.iterations


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

    def groups(self) -> list[list[Layer]]:
        return [self.layers]
