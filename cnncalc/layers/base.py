"""The layer base class and the registry of kinds.

Every kind is one pydantic model that owns its arithmetic (`output_shape`,
`param_count`, `macs`, `explain`), the way Keras layers own `compute_output_shape`.
Adding a kind means one class in a `cnncalc/layers/` module, one forward function in executor/ops.py
and one backward function in executor/backward_ops.py.
"""

# No `from __future__ import annotations` in the layer modules: pydantic would evaluate every base's
# string annotations again for each of the ~35 kinds, about 6 ms of `cnncalc table`'s start-up.

from collections.abc import Sequence
from dataclasses import dataclass, field
from math import prod
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr
from pydantic_core import PydanticCustomError

from cnncalc.errors import LayerError, Position
from cnncalc.graph import MAX_SIZE  # also the largest size a spec may give

Shape = tuple[int, ...]


def _not_a_boolean(value: Any) -> Any:
    """pydantic reads `true` as 1 for an int field (and 1.0 for a float one); a boolean is never a number."""
    if isinstance(value, bool):
        raise PydanticCustomError("bool_not_number", "a boolean is not a number")
    return value


NotBoolean = BeforeValidator(_not_a_boolean)
# Every number a spec or an answers file gives goes through one of these: booleans refused,
# sizes bounded, floats finite.
# (The constraints come before the validator so that the JSON Schema still shows them.)
Int = Annotated[int, NotBoolean]
Float = Annotated[float, Field(allow_inf_nan=False), NotBoolean]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False), NotBoolean]
PositiveInt = Annotated[int, Field(gt=0, le=MAX_SIZE), NotBoolean]
NonNegativeInt = Annotated[int, Field(ge=0, le=MAX_SIZE), NotBoolean]
# One value for every spatial dimension, or one per dimension.
SpatialInts = Annotated[
    PositiveInt | list[PositiveInt],
    Field(description="a positive integer, or a list with one per spatial dimension"),
]
Numbers = Annotated[Any, Field(description="nested lists of numbers")]
# What a layer does to receptive fields: None keeps them (elementwise), a window per spatial
# dim (effective kernel, stride, padding before), "global" sees its whole input, "n/a" is
# not covered by the sliding-window theory (Araujo et al., Distill 2019).
ReceptiveWindow = tuple[tuple[int, int, int], ...] | Literal["global", "n/a"] | None
Border = tuple[tuple[int, int], ...] | None

DIM_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}

# name -> class; filled by @register. Kind aliases (`fc`, `dense`, `norm`) map here too.
LAYER_KINDS: dict[str, type["Layer"]] = {}


def register(cls: type["Layer"]) -> type["Layer"]:
    """Class decorator: make a kind (and its kind aliases) usable in specs."""
    for name in (cls.kind, *cls.kind_aliases):
        LAYER_KINDS[name] = cls
    return cls


@dataclass(slots=True)
class Placement:
    """Set by the builder: the layer's dotted path and YAML positions, its `from:` names, `trainable`, and the
    graph nodes it reads first and writes."""

    path: str = ""
    source: Position | None = None
    arg_sources: dict[str, Position] = field(default_factory=dict)
    from_names: tuple[str, ...] = ()
    trainable: bool = True
    input_node: int = 0
    output_node: int = 0


class Layer(BaseModel):
    """A layer's arguments plus where it came from; subclasses add the arithmetic."""

    model_config = ConfigDict(extra="forbid", defer_build=True, arbitrary_types_allowed=True)

    kind: ClassVar[str]
    kind_aliases: ClassVar[tuple[str, ...]] = ()
    arg_aliases: ClassVar[dict[str, str]] = {}
    summary: ClassVar[str] = ""
    # True when the op reads all of its graph node's inputs (a list of arrays in the executor), as a
    # merge does; `upsample` with `like:` reads a second one for its size.
    reads_several: ClassVar[bool] = False
    # True for the leaf merges written `add: {from: [a, b]}`: `from:` names several layers, all inputs.
    takes_from_list: ClassVar[bool] = False
    # The questions a quiz sheet asks about a layer of this kind (keys of classroom/quiz.py's QUESTION_TEXT).
    asked: ClassVar[tuple[str, ...]] = ()
    # How a quiz sheet names the kind when its arguments do not matter (`batch norm`); default: the kind.
    slides_name: ClassVar[str | None] = None
    # Temporaries of the input's size the executor's op holds at once, at most: traced, mish, softplus and
    # groupnorm hold 5 to 6 (tests/engine/test_pass_memory.py checks every kind against its trace).
    working_copies: ClassVar[int] = 6

    name: str | None = Field(None, description="row name; default `<kind><n>`")

    # Where the builder put this layer; one private record rather than seven private attributes, because
    # pydantic resolves each private default for every instance it makes (about 3 ms of ResNet-50's build).
    _at: Placement = PrivateAttr(default_factory=Placement)

    @property
    def placement(self) -> Placement:
        """Where the builder put this layer (read directly: pydantic's private `__getattr__` is slow)."""
        return self.__pydantic_private__["_at"]  # type: ignore[index]

    @property
    def path(self) -> str:
        """Dotted name of this layer in the network, e.g. `layer1.0.conv1`."""
        return self.placement.path

    @property
    def source(self) -> Position | None:
        return self.placement.source

    @property
    def from_names(self) -> tuple[str, ...]:
        """The names given in `from:` (empty when the layer reads the previous one)."""
        return self.placement.from_names

    @property
    def trainable(self) -> bool:
        return self.placement.trainable

    @property
    def input_node(self) -> int:
        """Index of the graph node whose output this layer (or structure) reads first."""
        return self.placement.input_node

    @property
    def output_node(self) -> int:
        """Index of the graph node that holds this layer's (or structure's) output."""
        return self.placement.output_node

    @property
    def kind_label(self) -> str:
        """What the report calls this kind (a block use shows the block's name)."""
        return self.kind

    def error(self, message: str, arg: str | None = None, hint: str | None = None) -> LayerError:
        """A LayerError pointing at this layer (or at one of its arguments)."""
        at = self.placement
        position = at.arg_sources.get(arg, at.source) if arg else at.source
        return LayerError(f"layer `{self.path}` ({self.kind}): {message}", position, hint)

    # --- arithmetic; the defaults describe a shape-preserving, parameter-free layer ---

    def infer(self, inputs: Sequence[Shape]) -> Shape:
        """The output shape from the shapes of the graph node's inputs (one, except for merges)."""
        return self.output_shape(inputs[0])

    def output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def param_count(self, input_shape: Shape) -> int:
        return 0

    def buffer_count(self, input_shape: Shape) -> int:
        """Non-trainable state (batchnorm running statistics), not counted as params."""
        return 0

    def macs(self, input_shape: Shape, output_shape: Shape) -> int:
        return 0

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        """The formulas with the numbers filled in, one line each."""
        return []

    def warnings(self, input_shape: Shape, padded: Border = None) -> list[str]:
        """`padded`: the zero padding a layer just before added around the input (see `zero_border`)."""
        return []

    def zero_border(self, input_shape: Shape) -> Border:
        """[before, after] cells per spatial dim of the output that are zeros this layer added (a pad's)."""
        return None

    def receptive_window(self, input_shape: Shape) -> ReceptiveWindow:
        """(k_eff, stride, pad_before) per spatial dim; None for an elementwise layer."""
        return None

    def extra_inputs(self) -> dict[str, str]:
        """Layers read besides the input, as {argument: layer name} (`upsample`'s `like:`); the builder wires them."""
        return {}

    # --- the forward pass's memory estimate (engine/pass_memory.py), per batch item ---

    def workspace_elements(self, input_shape: Shape, output_shape: Shape) -> int:
        """Elements of the working copies the executor makes besides the input and output: at most
        `working_copies` temporaries the size of the larger."""
        return self.working_copies * max(prod(input_shape), prod(output_shape))

    def prepared_elements(self, input_shape: Shape, output_shape: Shape) -> int:
        """Elements of the weight copies the executor's fast path prepares for this layer, at most."""
        return 0

    # --- what the classroom tools write about a layer ---

    def slides_text(self) -> str:
        """The layer as lecture slides write it, for a quiz sheet (`96 11x11 filters at stride 4, pad 0`)."""
        return self.slides_name or self.kind_label

    def backward_formula(self, input_shape: Shape, with_weights: bool) -> list[str]:
        """`check`'s worked formula for the gradient: of the weights if `with_weights`, else of the input."""
        return [f"dL/dX = the {self.kind_label} backward of G = dL/dY (`cnncalc run --backward` shows every step)"]

    # --- helpers shared by the kinds ---

    def spatial(self, input_shape: Shape, min_dims: int = 1) -> Shape:
        """The spatial dims of a channels-first input, with a clear error if there are none."""
        if len(input_shape) < 1 + min_dims or len(input_shape) > 4:
            raise self.error(
                f"needs a channels-first volume [C, L], [C, H, W] or [C, D, H, W], got {list(input_shape)}.",
                hint="Is there a `flatten` before it by mistake?" if len(input_shape) == 1 else None,
            )
        return input_shape[1:]

    def per_dim(self, value: int | Sequence[int], ndim: int, arg: str) -> tuple[int, ...]:
        """Broadcast an int to every spatial dim, or check a per-dim list's length."""
        if isinstance(value, int):
            return (value,) * ndim
        if len(value) != ndim:
            raise self.error(
                f"`{arg}` has {len(value)} entries, but the input has {ndim} spatial "
                f"dimension{'s' if ndim > 1 else ''}.",
                arg,
                "Give one value per spatial dimension, or a single number for all.",
            )
        return tuple(value)


class Structure(Layer):
    """A layer made of other layers (residual, concat, split, repeat, a block use)."""

    def groups(self) -> list[list[Layer]]:
        """The child layer lists, in execution order."""
        raise NotImplementedError
