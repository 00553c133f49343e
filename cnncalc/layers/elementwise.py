"""Kinds that keep the shape: v1's activations, dropout, LRN; and upsample."""

from collections.abc import Sequence
from math import prod
from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from cnncalc.layers import arithmetic
from cnncalc.layers.base import (
    DIM_NAMES,
    Float,
    Int,
    Layer,
    PositiveFloat,
    PositiveInt,
    ReceptiveWindow,
    Shape,
    SpatialInts,
    register,
)


def _activation(kind_name: str, doc: str, slides_name: str | None = None, working_copies: int = 6) -> type[Layer]:
    namespace: dict[str, object] = {"__doc__": doc, "__module__": __name__, "kind": kind_name, "summary": doc}
    namespace.update(slides_name=slides_name, working_copies=working_copies)
    cls = type(kind_name.title().replace("_", ""), (Layer,), namespace)
    return register(cls)


ReLU = _activation("relu", "max(0, x)", "ReLU", working_copies=1)  # np.maximum: the output only
ReLU6 = _activation("relu6", "min(max(0, x), 6)", working_copies=2)  # np.clip, and a small temporary
Sigmoid = _activation("sigmoid", "1 / (1 + exp(-x))")
Tanh = _activation("tanh", "hyperbolic tangent")
SiLU = _activation("silu", "x * sigmoid(x) (swish)")
Identity = _activation("identity", "passes its input through", working_copies=0)


@register
class LeakyReLU(Layer):
    """x if x > 0 else negative_slope * x."""

    kind = "leaky_relu"
    summary = "leaky ReLU"
    negative_slope: Float = 0.01


@register
class GELU(Layer):
    """x * Phi(x); `approximate: tanh` as in PyTorch."""

    kind = "gelu"
    summary = "Gaussian error linear unit"
    approximate: Literal["none", "tanh"] = "none"
    # The exact form's erf (Cody's rational approximations) holds about 25 temporaries: the executor computes it
    # this many values at a time, so its memory stays bounded whatever the input's size.
    erf_chunk: ClassVar[int] = 1 << 14

    def workspace_elements(self, input_shape: Shape, output_shape: Shape) -> int:
        if self.approximate == "tanh":
            return super().workspace_elements(input_shape, output_shape)
        return 32 * min(self.erf_chunk, prod(input_shape))  # one slice's temporaries, whatever the input's size


@register
class Softmax(Layer):
    """Softmax over `dim` (0 = channels, batch excluded, as every shape here)."""

    kind = "softmax"
    summary = "softmax over the channel (or feature) axis"
    dim: Int = Field(0, description="axis, batch excluded: 0 is channels/features")

    def output_shape(self, input_shape: Shape) -> Shape:
        if not -len(input_shape) <= self.dim < len(input_shape):
            raise self.error(f"dim {self.dim} is out of range for the input {list(input_shape)}.", "dim")
        return input_shape


@register
class Dropout(Layer):
    """Zeroes inputs with probability p while training; the identity at inference."""

    kind = "dropout"
    summary = "dropout (identity at inference)"
    p: Float = Field(0.5, ge=0, le=1)


@register
class Dropout2d(Layer):
    """nn.Dropout2d: zeroes whole channels while training; the identity at inference."""

    kind = "dropout2d"
    summary = "channel dropout, 2-D (identity at inference)"
    p: Float = Field(0.5, ge=0, le=1)


@register
class Dropout3d(Layer):
    """nn.Dropout3d: zeroes whole channels while training; the identity at inference."""

    kind = "dropout3d"
    summary = "channel dropout, 3-D (identity at inference)"
    p: Float = Field(0.5, ge=0, le=1)


@register
class StochasticDepth(Layer):
    """torchvision.ops.StochasticDepth: drops a residual branch while training; the identity at inference."""

    kind = "stochastic_depth"
    kind_aliases = ("drop_path",)
    summary = "stochastic depth (alias: drop_path; identity at inference)"
    p: Float = Field(description="the probability of dropping the branch", ge=0, le=1)
    mode: Literal["row", "batch"] = "row"

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        return [f"identity at inference (p={self.p:g} while training); params = 0"]


@register
class LRN(Layer):
    """torch.nn.LocalResponseNorm across `size` neighbouring channels (AlexNet's NORM)."""

    kind = "lrn"
    kind_aliases = ("norm",)
    slides_name = "normalization (local response)"
    summary = "local response normalisation (alias: norm)"
    size: PositiveInt = Field(5, description="channels in the neighbourhood (AlexNet: 5)")
    alpha: Float = 1e-4
    beta: Float = 0.75
    k: Float = 1.0

    def output_shape(self, input_shape: Shape) -> Shape:
        self.spatial(input_shape)  # PyTorch's LocalResponseNorm refuses a flat [N, C] input
        return input_shape

    def workspace_elements(self, input_shape: Shape, output_shape: Shape) -> int:
        """The squares and their prefix sums over the channels in float64 (two values' room each), the window
        sums and the divisor: traced, about 8 temporaries of the input's size whatever `size` is."""
        return 10 * prod(input_shape)

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        return ["shape unchanged; params = 0 (normalisation has no weights)"]


ScaleFactor = Annotated[
    PositiveFloat | list[PositiveFloat],
    Field(description="a positive number, or one per spatial dimension"),
]
UpsampleMode = Literal["nearest", "linear", "bilinear", "bicubic", "trilinear"]
# The spatial dims each interpolating mode works on, as F.interpolate requires.
MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


@register
class Upsample(Layer):
    """nn.Upsample / F.interpolate to `scale_factor` (size floor(in * scale)), `size`, or `like:` a layer's size."""

    kind = "upsample"
    summary = "resize by nearest, linear, bilinear, bicubic or trilinear interpolation"
    reads_several = True  # `like:` adds the named layer as a second input (its shape only)
    scale_factor: ScaleFactor | None = None
    size: SpatialInts | None = Field(None, description="the output's spatial size")
    like: str | None = Field(None, description="a layer (or `input`) whose spatial size to take, named as in `from:`")
    mode: UpsampleMode = "nearest"
    align_corners: bool | None = Field(None, description="linear modes only; PyTorch's default is false")

    @model_validator(mode="after")
    def _one_target(self) -> "Upsample":
        given = [k for k in ("scale_factor", "size", "like") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of scale_factor, size and like (got {', '.join(given) or 'none'})")
        if self.align_corners is not None and self.mode == "nearest":
            raise ValueError("align_corners is only for the interpolating modes (linear, bilinear, bicubic, trilinear)")
        return self

    def scales(self, ndim: int) -> tuple[float | None, ...]:
        """The scale factor per spatial dim (None when the size is given: PyTorch then uses in/out)."""
        if self.scale_factor is None:
            return (None,) * ndim
        if isinstance(self.scale_factor, (int, float)):
            return (float(self.scale_factor),) * ndim
        return tuple(float(s) for s in self.per_dim(self.scale_factor, ndim, "scale_factor"))  # type: ignore[arg-type]

    def check_mode(self, input_shape: Shape) -> Shape:
        spatial = self.spatial(input_shape)
        wanted = MODE_DIMS.get(self.mode)
        if wanted is not None and len(spatial) != wanted:
            fitting = [m for m, n in MODE_DIMS.items() if n == len(spatial)]
            raise self.error(
                f"mode {self.mode} works on {wanted}-D volumes; the input {list(input_shape)} is {len(spatial)}-D.",
                "mode",
                f"Use `mode: {fitting[0]}` (or nearest)." if fitting else None,
            )
        return spatial

    def extra_inputs(self) -> dict[str, str]:
        return {} if self.like is None else {"like": self.like}

    def infer(self, inputs: Sequence[Shape]) -> Shape:
        if self.like is None:
            return self.output_shape(inputs[0])
        spatial = self.check_mode(inputs[0])
        target = inputs[1]
        if len(target) != len(inputs[0]):
            raise self.error(
                f"`like: {self.like}` has the shape {list(target)}, but the input {list(inputs[0])} has "
                f"{len(spatial)} spatial dimension{'s' if len(spatial) > 1 else ''}.",
                "like",
                "Name a layer whose output is a volume of the same rank.",
            )
        return (inputs[0][0], *target[1:])

    def output_shape(self, input_shape: Shape) -> Shape:
        spatial = self.check_mode(input_shape)
        if self.like is not None:
            raise self.error(f"the size comes from `like: {self.like}`, which this computation does not see.", "like")
        if self.size is not None:
            return (input_shape[0], *self.per_dim(self.size, len(spatial), "size"))
        sizes = [arithmetic.upsample_output_size(n, s) for n, s in zip(spatial, self.scales(len(spatial)))]  # type: ignore[arg-type]
        if min(sizes) < 1:
            raise self.error(f"scale_factor makes an empty output {sizes}.", "scale_factor")
        return (input_shape[0], *sizes)

    def receptive_window(self, input_shape: Shape) -> ReceptiveWindow:
        return "n/a"  # upsampling is outside Araujo et al.'s sliding-window theory

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        names = DIM_NAMES[len(input_shape) - 1]
        corners = f", align_corners={bool(self.align_corners)}" if self.mode != "nearest" else ""
        if self.scale_factor is not None:
            scales = self.scales(len(names))
            lines = [
                f"{name} = floor({n} * {s:g}) = {o}"
                for name, n, s, o in zip(names, input_shape[1:], scales, output_shape[1:])  # type: ignore[arg-type]
            ]
        elif self.like is not None:
            size = "x".join(map(str, output_shape[1:]))
            lines = [f"{'x'.join(names)} = {size}, the spatial size of `{self.like}`"]
        else:
            lines = [f"{'x'.join(names)} = size = {'x'.join(map(str, output_shape[1:]))}"]
        return [*lines, f"mode {self.mode}{corners}; channels kept; params = 0"]
