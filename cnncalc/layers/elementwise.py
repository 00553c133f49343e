"""Kinds that keep the shape: activations, dropout, batchnorm, LRN; and upsample."""

from typing import Annotated, Literal

from pydantic import Field

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
    register,
)


def _activation(kind_name: str, doc: str) -> type[Layer]:
    cls = type(kind_name.title().replace("_", ""), (Layer,), {"__doc__": doc, "kind": kind_name, "summary": doc})
    return register(cls)


ReLU = _activation("relu", "max(0, x)")
ReLU6 = _activation("relu6", "min(max(0, x), 6)")
Sigmoid = _activation("sigmoid", "1 / (1 + exp(-x))")
Tanh = _activation("tanh", "hyperbolic tangent")
SiLU = _activation("silu", "x * sigmoid(x) (swish)")
Identity = _activation("identity", "passes its input through")


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
class BatchNorm(Layer):
    """torch.nn.BatchNorm1d/2d/3d: 2*C parameters, 2*C running statistics (buffers)."""

    kind = "batchnorm"
    summary = "batch normalisation (inference form)"
    eps: Float = Field(1e-5, gt=0)
    momentum: Float | None = 0.1

    def param_count(self, input_shape: Shape) -> int:
        return 2 * input_shape[0]

    def buffer_count(self, input_shape: Shape) -> int:
        return 2 * input_shape[0]

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        c = input_shape[0]
        return [f"params = 2*{c} = {2 * c} (scale and shift; running mean/var are buffers)"]


@register
class LRN(Layer):
    """torch.nn.LocalResponseNorm across `size` neighbouring channels (AlexNet's NORM)."""

    kind = "lrn"
    kind_aliases = ("norm",)
    summary = "local response normalisation (alias: norm)"
    size: PositiveInt = Field(5, description="channels in the neighbourhood (AlexNet: 5)")
    alpha: Float = 1e-4
    beta: Float = 0.75
    k: Float = 1.0

    def output_shape(self, input_shape: Shape) -> Shape:
        self.spatial(input_shape)  # PyTorch's LocalResponseNorm refuses a flat [N, C] input
        return input_shape

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        return ["shape unchanged; params = 0 (normalisation has no weights)"]


ScaleFactor = Annotated[
    PositiveFloat | list[PositiveFloat],
    Field(description="a positive number, or one per spatial dimension"),
]


@register
class Upsample(Layer):
    """torch.nn.Upsample(scale_factor, mode='nearest'): size floor(in * scale)."""

    kind = "upsample"
    summary = "nearest-neighbour upsampling"
    scale_factor: ScaleFactor

    def scales(self, input_shape: Shape) -> tuple[float, ...]:
        spatial = self.spatial(input_shape)
        if isinstance(self.scale_factor, (int, float)):
            return (float(self.scale_factor),) * len(spatial)
        return tuple(self.per_dim(self.scale_factor, len(spatial), "scale_factor"))  # type: ignore[arg-type]

    def output_shape(self, input_shape: Shape) -> Shape:
        sizes = [arithmetic.upsample_output_size(n, s) for n, s in zip(input_shape[1:], self.scales(input_shape))]
        if min(sizes) < 1:
            raise self.error(f"scale_factor makes an empty output {sizes}.", "scale_factor")
        return (input_shape[0], *sizes)

    def receptive_window(self, input_shape: Shape) -> ReceptiveWindow:
        return "n/a"  # upsampling is outside Araujo et al.'s sliding-window theory

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        return [
            f"{name} = floor({n} * {s:g}) = {o}"
            for name, n, s, o in zip(
                DIM_NAMES[len(input_shape) - 1], input_shape[1:], self.scales(input_shape), output_shape[1:]
            )
        ]
