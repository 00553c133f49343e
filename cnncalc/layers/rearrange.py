"""Kinds that move values rather than compute them: padding, channel shuffle, pixel (un)shuffle."""

import math
from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from cnncalc.layers.base import (
    DIM_NAMES,
    Border,
    Layer,
    NonNegativeInt,
    NotBoolean,
    PositiveInt,
    ReceptiveWindow,
    Shape,
    register,
)
from cnncalc.layers.window import Pads, pad_text, per_dim_pads


def _not_nan(value: float) -> float:
    if math.isnan(value):
        raise PydanticCustomError("nan_fill", "NaN is no fill")
    return value


NO_NAN = AfterValidator(_not_nan)
FillValue = Annotated[float, NotBoolean, NO_NAN]
PadAmount = Annotated[
    NonNegativeInt | list[NonNegativeInt] | list[tuple[NonNegativeInt, NonNegativeInt]],
    Field(description="an integer, one per spatial dimension, or one [before, after] pair per dimension"),
]


@register
class Pad(Layer):
    """nn.ZeroPad2d / ConstantPad / ReflectionPad / ReplicationPad / F.pad(mode='circular')."""

    kind = "pad"
    summary = "padding layer (ZeroPadding2D, ReflectionPad2d, ...)"
    padding: PadAmount
    mode: Literal["constant", "reflect", "replicate", "circular"] = "constant"
    # The one number that may be infinite: F.pad(value=-inf) before a max pool is TensorFlow's `same` (timm's
    # MaxPool2dSame), and an ONNX Pad imports as it. NaN is still refused.
    value: FillValue = Field(0.0, description="the fill of `constant` padding (.inf and -.inf allowed)")

    def pads(self, input_shape: Shape) -> Pads:
        spatial = self.spatial(input_shape)
        pads = per_dim_pads(self, self.padding, len(spatial))
        for name, size, (before, after) in zip(DIM_NAMES[len(spatial)], spatial, pads):
            widest = max(before, after)
            if self.mode == "reflect" and widest >= size:
                raise self.error(
                    f"reflect padding {widest} must be smaller than the input size {size} ({name}).",
                    "padding",
                    "PyTorch's reflection mirrors the values inside the input; use `replicate` or less padding.",
                )
            if self.mode == "circular" and widest > size:
                raise self.error(
                    f"circular padding {widest} must not exceed the input size {size} ({name}).", "padding"
                )
        return pads

    def output_shape(self, input_shape: Shape) -> Shape:
        pads = self.pads(input_shape)
        return (input_shape[0], *(n + b + a for n, (b, a) in zip(input_shape[1:], pads)))

    def receptive_window(self, input_shape: Shape) -> ReceptiveWindow:
        return tuple((1, 1, before) for before, _ in self.pads(input_shape))  # shifts the coordinates only

    def zero_border(self, input_shape: Shape) -> Border:
        """Keras's ZeroPadding2D before a `valid` conv: the window after it may leave these cells unread."""
        return self.pads(input_shape) if self.mode == "constant" and self.value == 0 else None

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        pads = self.pads(input_shape)
        lines = [
            f"{name} = {n} + {pad_text(b, a)} = {o}"
            for name, n, (b, a), o in zip(DIM_NAMES[len(pads)], input_shape[1:], pads, output_shape[1:])
        ]
        return [*lines, f"{self.mode} padding; params = 0"]


@register
class ChannelShuffle(Layer):
    """nn.ChannelShuffle (ShuffleNet): [g, C/g] channels read out as [C/g, g]."""

    kind = "channel_shuffle"
    summary = "channel shuffle (nn.ChannelShuffle)"
    groups: PositiveInt

    def output_shape(self, input_shape: Shape) -> Shape:
        if input_shape[0] % self.groups:
            raise self.error(f"groups={self.groups} does not divide the {input_shape[0]} channels.", "groups")
        return input_shape

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        c = input_shape[0]
        return [f"channels viewed as [{self.groups}, {c // self.groups}], transposed; shape unchanged; params = 0"]


def _two_d(layer: Layer, input_shape: Shape) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        raise layer.error(
            f"needs a 2-D volume [C, H, W], got {list(input_shape)} (PyTorch's {layer.kind} is 2-D only)."
        )
    c, h, w = input_shape
    return c, h, w


@register
class PixelShuffle(Layer):
    """nn.PixelShuffle: [C*r^2, H, W] -> [C, r*H, r*W] (sub-pixel convolution's upsampling)."""

    kind = "pixel_shuffle"
    summary = "depth to space (nn.PixelShuffle)"
    upscale_factor: PositiveInt

    def output_shape(self, input_shape: Shape) -> Shape:
        c, h, w = _two_d(self, input_shape)
        r = self.upscale_factor
        if c % (r * r):
            raise self.error(f"the {c} channels are not a multiple of upscale_factor^2 = {r * r}.", "upscale_factor")
        return (c // (r * r), h * r, w * r)

    def receptive_window(self, input_shape: Shape) -> ReceptiveWindow:
        return "n/a"  # upsampling is outside the sliding-window theory

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        r = self.upscale_factor
        return [
            f"[C/r^2, r*H, r*W] = [{input_shape[0]}/{r * r}, {r}*{input_shape[1]}, {r}*{input_shape[2]}] = "
            f"{list(output_shape)}; params = 0"
        ]


@register
class PixelUnshuffle(Layer):
    """nn.PixelUnshuffle: [C, H, W] -> [C*r^2, H/r, W/r] (space to depth)."""

    kind = "pixel_unshuffle"
    summary = "space to depth (nn.PixelUnshuffle)"
    downscale_factor: PositiveInt

    def output_shape(self, input_shape: Shape) -> Shape:
        c, h, w = _two_d(self, input_shape)
        r = self.downscale_factor
        if h % r or w % r:
            raise self.error(
                f"downscale_factor {r} does not divide the input's {h}x{w}.",
                "downscale_factor",
                "PyTorch's PixelUnshuffle needs H and W to be multiples of it.",
            )
        return (c * r * r, h // r, w // r)

    def receptive_window(self, input_shape: Shape) -> ReceptiveWindow:
        r = self.downscale_factor
        return ((r, r, 0), (r, r, 0))  # each output cell reads one r x r block

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        r = self.downscale_factor
        return [
            f"[C*r^2, H/r, W/r] = [{input_shape[0]}*{r * r}, {input_shape[1]}/{r}, {input_shape[2]}/{r}] = "
            f"{list(output_shape)}; params = 0"
        ]
