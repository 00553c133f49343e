"""`conv` and `conv_transpose`: PyTorch's ConvNd / ConvTransposeNd."""

from dataclasses import dataclass
from math import prod
from typing import Annotated, Literal

from pydantic import Field

from cnncalc.layers import arithmetic
from cnncalc.layers.base import (
    DIM_NAMES,
    Float,
    Layer,
    NonNegativeInt,
    Numbers,
    PositiveInt,
    ReceptiveWindow,
    Shape,
    SpatialInts,
    register,
)
from cnncalc.layers.values import check_values_shape

Padding = Annotated[
    NonNegativeInt | list[NonNegativeInt] | list[tuple[NonNegativeInt, NonNegativeInt]] | Literal["same", "valid"],
    Field(
        description="an integer, one per spatial dimension, one [before, after] pair per dimension, or 'same' / 'valid'"
    ),
]


@dataclass(frozen=True)
class ConvGeometry:
    """A conv's arguments resolved against its input: one entry per spatial dim."""

    in_channels: int
    spatial: Shape
    kernel: Shape
    stride: Shape
    dilation: Shape
    pads: tuple[tuple[int, int], ...]


def _pad_text(before: int, after: int) -> str:
    return f"2*{before}" if before == after else f"{before} + {after}"


class _ConvBase(Layer):
    arg_aliases = {"filters": "out_channels", "kernel": "kernel_size", "pad": "padding"}

    out_channels: PositiveInt = Field(description="number of filters (output channels)")
    kernel_size: SpatialInts
    stride: SpatialInts = 1
    padding: Padding = 0
    dilation: SpatialInts = 1
    groups: PositiveInt = Field(1, description="channel groups; groups = in_channels is depthwise")
    bias: bool = True
    weights: Numbers | None = None
    bias_values: list[Float] | None = Field(None, description="one bias per output channel")

    def geometry(self, input_shape: Shape) -> ConvGeometry:
        spatial = self.spatial(input_shape)
        ndim, in_channels = len(spatial), input_shape[0]
        kernel = self.per_dim(self.kernel_size, ndim, "kernel_size")
        stride = self.per_dim(self.stride, ndim, "stride")
        dilation = self.per_dim(self.dilation, ndim, "dilation")
        for channels, what in ((in_channels, "input channels"), (self.out_channels, "out_channels")):
            if channels % self.groups:
                raise self.error(
                    f"groups={self.groups} does not divide the {channels} {what}.",
                    "groups",
                    "Both the input channels and out_channels must be multiples of groups.",
                )
        return ConvGeometry(
            in_channels, spatial, kernel, stride, dilation, self.resolve_padding(kernel, stride, dilation)
        )

    def resolve_padding(self, kernel: Shape, stride: Shape, dilation: Shape) -> tuple[tuple[int, int], ...]:
        ndim, padding = len(kernel), self.padding
        if padding == "valid":
            return ((0, 0),) * ndim
        if padding == "same":
            if any(s != 1 for s in stride):
                raise self.error(
                    f"padding='same' needs stride 1 (PyTorch refuses it with stride {list(stride)}).",
                    "padding",
                    "Give the padding as numbers instead.",
                )
            return tuple(arithmetic.same_padding(k, d) for k, d in zip(kernel, dilation))
        if isinstance(padding, list) and padding and isinstance(padding[0], tuple):
            return tuple(self.per_dim(padding, ndim, "padding"))  # type: ignore[arg-type]
        if isinstance(padding, list) and len(padding) == 2 * ndim:  # likely [before, after] written flat
            pairs = [padding[i : i + 2] for i in range(0, 2 * ndim, 2)]
            raise self.error(
                f"`padding` has {len(padding)} entries, but the input has {ndim} spatial "
                f"dimension{'s' if ndim > 1 else ''}.",
                "padding",
                f"For [before, after] padding, nest one pair per dimension: {pairs}.",
            )
        return tuple((p, p) for p in self.per_dim(padding, ndim, "padding"))  # type: ignore[arg-type]

    def weight_shape(self, g: ConvGeometry) -> Shape:
        raise NotImplementedError

    def param_count(self, input_shape: Shape) -> int:
        g = self.geometry(input_shape)
        return prod(self.weight_shape(g)) + (self.out_channels if self.bias else 0)

    def check_values(self, g: ConvGeometry) -> None:
        if self.weights is not None:
            check_values_shape(self, self.weights, self.weight_shape(g), "weights")
        if self.bias_values is not None:
            if not self.bias:
                raise self.error("`bias_values` given but bias is false.", "bias_values")
            check_values_shape(self, self.bias_values, (self.out_channels,), "bias_values")

    def explain_params(self, g: ConvGeometry) -> str:
        kernel = "*".join(map(str, g.kernel))
        per_group = g.in_channels // self.groups
        channels = f"{g.in_channels}/{self.groups}" if self.groups > 1 else str(g.in_channels)
        bias = f" + {self.out_channels}" if self.bias else ""
        total = prod(g.kernel) * per_group * self.out_channels + (self.out_channels if self.bias else 0)
        return f"params = ({kernel}*{channels})*{self.out_channels}{bias} = {total:,}"


@register
class Conv(_ConvBase):
    """Cross-correlation as torch.nn.Conv1d/2d/3d computes it."""

    kind = "conv"
    summary = "convolution (Conv1d/2d/3d)"

    def weight_shape(self, g: ConvGeometry) -> Shape:
        return (self.out_channels, g.in_channels // self.groups, *g.kernel)

    def output_shape(self, input_shape: Shape) -> Shape:
        g = self.geometry(input_shape)
        out = []
        for size, k, s, (before, after), d in zip(g.spatial, g.kernel, g.stride, g.pads, g.dilation):
            n = arithmetic.conv_output_size(size, k, s, before, after, d)
            if n < 1:
                raise self.error(
                    f"the kernel does not fit: input {size} + padding {before}+{after} = {size + before + after}, "
                    f"effective kernel {d * (k - 1) + 1} (kernel {k}, dilation {d}), so the output size "
                    f"would be {n}.",
                    "kernel_size",
                    "Use a smaller kernel or dilation, or more padding.",
                )
            out.append(n)
        self.check_values(g)
        return (self.out_channels, *out)

    def macs(self, input_shape: Shape, output_shape: Shape) -> int:
        g = self.geometry(input_shape)
        return prod(output_shape[1:]) * prod(g.kernel) * (g.in_channels // self.groups) * self.out_channels

    def warnings(self, input_shape: Shape) -> list[str]:
        g = self.geometry(input_shape)
        return _tiling_warnings(self, g.spatial, g.kernel, g.stride, g.pads, g.dilation)

    def receptive_window(self, input_shape: Shape) -> ReceptiveWindow:
        g = self.geometry(input_shape)
        return tuple(
            (d * (k - 1) + 1, s, before) for k, s, d, (before, _) in zip(g.kernel, g.stride, g.dilation, g.pads)
        )

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        g = self.geometry(input_shape)
        lines = []
        for name, size, k, s, (before, after), d, n in zip(
            DIM_NAMES[len(g.spatial)], g.spatial, g.kernel, g.stride, g.pads, g.dilation, output_shape[1:]
        ):
            if d == 1:
                inner = f"{size} - {k} + {_pad_text(before, after)}"
            else:
                inner = f"{size} + {_pad_text(before, after)} - {d}*({k} - 1) - 1"
            lines.append(f"{name} = floor(({inner}) / {s}) + 1 = {n}")
        lines.append(f"C = out_channels = {self.out_channels}")
        lines.append(self.explain_params(g))
        out_spatial = "*".join(map(str, output_shape[1:]))
        kernel = "*".join(map(str, g.kernel))
        lines.append(
            f"macs = {out_spatial} * ({kernel}*{g.in_channels // self.groups}) * {self.out_channels} "
            f"= {self.macs(input_shape, output_shape):,}"
        )
        return lines


@register
class ConvTranspose(_ConvBase):
    """torch.nn.ConvTranspose1d/2d/3d (the gradient of a conv, used to upsample)."""

    kind = "conv_transpose"
    summary = "transposed convolution (ConvTranspose1d/2d/3d)"

    output_padding: NonNegativeInt | list[NonNegativeInt] = Field(
        0, description="extra size added to one side of the output, per spatial dimension"
    )

    def resolve_padding(self, kernel: Shape, stride: Shape, dilation: Shape) -> tuple[tuple[int, int], ...]:
        if isinstance(self.padding, str):
            raise self.error(
                f"padding='{self.padding}' is not supported for transposed convolutions (nor by PyTorch).",
                "padding",
                "Give the padding as numbers.",
            )
        return super().resolve_padding(kernel, stride, dilation)

    def weight_shape(self, g: ConvGeometry) -> Shape:
        return (g.in_channels, self.out_channels // self.groups, *g.kernel)

    def output_paddings(self, g: ConvGeometry) -> tuple[int, ...]:
        extra = self.per_dim(self.output_padding, len(g.kernel), "output_padding")
        for op, s, d in zip(extra, g.stride, g.dilation):
            if op >= max(s, d):
                raise self.error(
                    f"output_padding {op} must be smaller than the stride ({s}) or the dilation ({d}).",
                    "output_padding",
                )
        return extra

    def output_shape(self, input_shape: Shape) -> Shape:
        g = self.geometry(input_shape)
        out = []
        for size, k, s, (before, after), d, op in zip(
            g.spatial, g.kernel, g.stride, g.pads, g.dilation, self.output_paddings(g)
        ):
            n = arithmetic.conv_transpose_output_size(size, k, s, before, after, d, op)
            if n < 1:
                raise self.error(
                    f"the padding {before}+{after} removes more than the output has: output size would be {n}.",
                    "padding",
                )
            out.append(n)
        self.check_values(g)
        return (self.out_channels, *out)

    def receptive_window(self, input_shape: Shape) -> ReceptiveWindow:
        return "n/a"  # Araujo et al. cover sliding windows only; an upsampling layer is out of scope

    def macs(self, input_shape: Shape, output_shape: Shape) -> int:
        # torch.utils.flop_counter counts a transposed conv per *input* position.
        g = self.geometry(input_shape)
        return prod(g.spatial) * prod(g.kernel) * g.in_channels * (self.out_channels // self.groups)

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        g = self.geometry(input_shape)
        lines = []
        for name, size, k, s, (before, after), d, op, n in zip(
            DIM_NAMES[len(g.spatial)],
            g.spatial,
            g.kernel,
            g.stride,
            g.pads,
            g.dilation,
            self.output_paddings(g),
            output_shape[1:],
        ):
            lines.append(f"{name} = ({size} - 1)*{s} - ({_pad_text(before, after)}) + {d}*({k} - 1) + {op} + 1 = {n}")
        lines.append(f"C = out_channels = {self.out_channels}")
        kernel = "*".join(map(str, g.kernel))
        bias = f" + {self.out_channels}" if self.bias else ""
        params = self.param_count(input_shape)
        lines.append(f"params = ({kernel}*{self.out_channels // self.groups})*{g.in_channels}{bias} = {params:,}")
        in_spatial = "*".join(map(str, g.spatial))
        lines.append(
            f"macs = {in_spatial} * ({kernel}*{self.out_channels // self.groups}) * {g.in_channels} "
            f"= {self.macs(input_shape, output_shape):,}  (counted per input position)"
        )
        return lines


def _tiling_warnings(
    layer: Layer,
    spatial: Shape,
    kernel: Shape,
    stride: Shape,
    pads: tuple[tuple[int, int], ...],
    dilation: Shape,
) -> list[str]:
    """One warning naming every spatial dim where the stride leaves input cells unread."""
    found = []
    for name, size, k, s, (before, after), d in zip(DIM_NAMES[len(spatial)], spatial, kernel, stride, pads, dilation):
        dropped = arithmetic.dropped_cells(size, k, s, before, after, d)
        if dropped:
            span = size + before + after - d * (k - 1) - 1
            noun = {"H": "row", "W": "column"}.get(name, "cell")
            found.append(
                f"{name}: ({size} + {before + after} - {d * (k - 1) + 1}) / {s} = {span / s:.4g} is not whole, "
                f"so the last {dropped} input {noun}{'s' if dropped > 1 else ''} "
                f"{'is' if dropped == 1 else 'are'} never read"
            )
    if not found:
        return []
    return [f"{layer.path}: the stride does not tile the input; " + "; ".join(found) + "."]
