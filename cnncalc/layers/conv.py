"""`conv` and `conv_transpose`: PyTorch's ConvNd / ConvTransposeNd."""

from math import prod
from typing import Annotated

from pydantic import Field

from cnncalc.layers import arithmetic
from cnncalc.layers.base import (
    DIM_NAMES,
    Border,
    Float,
    NonNegativeInt,
    Numbers,
    PositiveInt,
    ReceptiveWindow,
    Shape,
    SpatialInts,
    register,
)
from cnncalc.layers.values import check_values_shape
from cnncalc.layers.window import (
    Pads,
    SlidingWindow,
    WindowGeometry,
    WindowPadding,
    pad_text,
    per_dim_pads,
    same_explained,
    slides_plain,
    slides_size,
    tf_same_pads,
)

# The executor's fast path computes a conv by Winograd's F(2x2, 3x3) (executor/winograd.py) only from this many
# input channels: fewer gain nothing, im2col's one GEMM is faster (measured: 3 -> 64 at 224x224 takes 3 ms by
# im2col, 7-12 ms by Winograd).
WINOGRAD_MIN_CHANNELS = 16

Padding = Annotated[
    WindowPadding,
    Field(
        description="an integer, one per spatial dimension, one [before, after] pair per dimension, or 'same' / 'valid'"
    ),
]


class _ConvBase(SlidingWindow):
    window_noun = "kernel"
    misfit_hint = "Use a smaller kernel or dilation, or more padding."
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

    def geometry(self, input_shape: Shape) -> WindowGeometry:
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
        pads = self.resolve_padding(spatial, kernel, stride, dilation)
        return WindowGeometry(spatial, kernel, stride, dilation, pads)

    def resolve_padding(self, spatial: Shape, kernel: Shape, stride: Shape, dilation: Shape) -> Pads:
        ndim, padding = len(kernel), self.padding
        if padding == "valid":
            return ((0, 0),) * ndim
        if padding == "same":
            if any(s != 1 for s in stride):  # PyTorch refuses it; TensorFlow and Keras define it
                return tf_same_pads(spatial, kernel, stride, dilation)
            return tuple(arithmetic.same_padding(k, d) for k, d in zip(kernel, dilation))
        return per_dim_pads(self, padding, ndim)

    def weight_shape(self, in_channels: int, g: WindowGeometry) -> Shape:
        raise NotImplementedError

    def correlation_elements(
        self, channels: int, out_channels: int, sizes: Shape, kernel: Shape, stride: Shape, dilation: Shape, out: Shape
    ) -> int:
        """What ops.correlate copies from a padded input of spatial `sizes`: im2col's columns (input channels x
        kernel taps x output positions), or for a depthwise 2-D conv (ops.depthwise_flat) its stride phases, each
        tap's run and the wide output, rows a phase wide (at most the output's width plus the kernel's overhang)."""
        if len(out) == 2 and self.groups == channels == out_channels:
            (kh, kw), (sh, sw) = kernel, stride
            width = out[1] + dilation[1] * (kw - 1) // sw + 1
            phases = channels * prod(-(-n // s) * s for n, s in zip(sizes, stride)) if max(sh, sw) > 1 else 0
            return phases + (kh * kw + 1) * channels * out[0] * width
        return channels * prod(kernel) * prod(out)

    def param_count(self, input_shape: Shape) -> int:
        g = self.geometry(input_shape)
        return prod(self.weight_shape(input_shape[0], g)) + (self.out_channels if self.bias else 0)

    def check_values(self, in_channels: int, g: WindowGeometry) -> None:
        if self.weights is not None:
            check_values_shape(self, self.weights, self.weight_shape(in_channels, g), "weights")
        if self.bias_values is not None:
            if not self.bias:
                raise self.error("`bias_values` given but bias is false.", "bias_values")
            check_values_shape(self, self.bias_values, (self.out_channels,), "bias_values")

    def explain_params(self, in_channels: int, g: WindowGeometry) -> str:
        kernel = "*".join(map(str, g.kernel))
        per_group = in_channels // self.groups
        channels = f"{in_channels}/{self.groups}" if self.groups > 1 else str(in_channels)
        bias = f" + {self.out_channels}" if self.bias else ""
        total = prod(g.kernel) * per_group * self.out_channels + (self.out_channels if self.bias else 0)
        return f"params = ({kernel}*{channels})*{self.out_channels}{bias} = {total:,}"

    def slides_text(self) -> str:
        return (
            f"{self.out_channels} {slides_size(self.kernel_size)} filters at stride {slides_plain(self.stride)}, "
            f"pad {slides_plain(self.padding)}"
        )


@register
class Conv(_ConvBase):
    """Cross-correlation as torch.nn.Conv1d/2d/3d computes it."""

    kind = "conv"
    summary = "convolution (Conv1d/2d/3d)"
    asked = ("output_shape", "params", "macs")

    def weight_shape(self, in_channels: int, g: WindowGeometry) -> Shape:
        return (self.out_channels, in_channels // self.groups, *g.kernel)

    def output_shape(self, input_shape: Shape) -> Shape:
        sizes = self.window_sizes(input_shape)
        self.check_values(input_shape[0], self.geometry(input_shape))
        return (self.out_channels, *sizes)

    def macs(self, input_shape: Shape, output_shape: Shape) -> int:
        g = self.geometry(input_shape)
        return prod(output_shape[1:]) * prod(g.kernel) * (input_shape[0] // self.groups) * self.out_channels

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        g = self.geometry(input_shape)
        lines = []
        for name, size, k, s, (before, after), d, n in zip(
            DIM_NAMES[len(g.spatial)], g.spatial, g.kernel, g.stride, g.pads, g.dilation, output_shape[1:]
        ):
            if d == 1:
                inner = f"{size} - {k} + {pad_text(before, after)}"
            else:
                inner = f"{size} + {pad_text(before, after)} - {d}*({k} - 1) - 1"
            lines.append(f"{name} = floor(({inner}) / {s}) + 1 = {n}")
        if self.padding == "same" and max(g.stride) > 1:  # TensorFlow's rule: show what it chose
            lines[:0] = same_explained(g)
        lines.append(f"C = out_channels = {self.out_channels}")
        lines.append(self.explain_params(input_shape[0], g))
        out_spatial = "*".join(map(str, output_shape[1:]))
        kernel = "*".join(map(str, g.kernel))
        lines.append(
            f"macs = {out_spatial} * ({kernel}*{input_shape[0] // self.groups}) * {self.out_channels} "
            f"= {self.macs(input_shape, output_shape):,}"
        )
        return lines

    def uses_winograd(self, input_shape: Shape) -> bool:
        """Whether the executor's fast path runs this conv by Winograd's F(2x2, 3x3): a 2-D 3x3 kernel of stride and
        dilation 1, ungrouped, with at least WINOGRAD_MIN_CHANNELS input channels."""
        g = self.geometry(input_shape)
        plain = g.kernel == (3, 3) and g.stride == g.dilation == (1, 1)
        return plain and self.groups == 1 and input_shape[0] >= WINOGRAD_MIN_CHANNELS

    def workspace_elements(self, input_shape: Shape, output_shape: Shape) -> int:
        """The padded input, then what correlating it copies, or Winograd's tiles where it runs, if more."""
        g = self.geometry(input_shape)
        channels, out_channels, out = input_shape[0], output_shape[0], output_shape[1:]
        winograd = self.uses_winograd(input_shape)
        sizes = tuple(n + before + after for n, (before, after) in zip(g.spatial, g.pads))
        if winograd:  # F(2x2, 3x3) takes even sizes: one more padding row or column for an odd one
            sizes = tuple(n + n % 2 for n in sizes)
        work = self.correlation_elements(channels, out_channels, sizes, g.kernel, g.stride, g.dilation, out)
        if winograd:  # its 4x4 input and product tiles, their row temporaries and an odd size's cropped copy, over
            # the output rounded up to even sizes: at most 8 (C + C_out) values per position
            work = max(work, 8 * (channels + out_channels) * prod(o + o % 2 for o in out))
        return channels * prod(sizes) + work + prod(output_shape)  # and the reshaped weights, the bias added

    def prepared_elements(self, input_shape: Shape, output_shape: Shape) -> int:
        """Winograd's 16 filter values per 9 weights where it runs, else the weights with a batchnorm folded in;
        and the bias."""
        weights = prod(self.weight_shape(input_shape[0], self.geometry(input_shape)))
        return output_shape[0] + (-(-16 * weights // 9) if self.uses_winograd(input_shape) else weights)

    def backward_formula(self, input_shape: Shape, with_weights: bool) -> list[str]:
        """Seed 000's dW as a sum over positions; seed 004's strided form, with s and d."""
        g = self.geometry(input_shape)
        stride = ",".join(map(str, g.stride))
        if all(s == 1 for s in g.stride) and all(d == 1 for d in g.dilation):
            dw = "dL/dW[i] = Σ_positions G[p] · X[p + i]"
            dx = "dL/dX[j] = Σ_(p, i: p + i = j) W[i] · G[p]"
        else:
            dw = f"dL/dW[i] = Σ_positions G[p] · X[s·p + d·i]  (s = {stride})"
            dx = f"dL/dX[j] = Σ_(p, i: s·p + d·i = j) W[i] · G[p]  (s = {stride})"
        pads = "" if not any(b or a for b, a in g.pads) else " (X padded; dL/dX drops the padding)"
        return [
            "G = dL/dY, the gradient arriving from the layer above",
            (dw if with_weights else dx) + pads,
            "summed over the batch and, per output channel o, over its input channels c",
        ]


@register
class ConvTranspose(_ConvBase):
    """torch.nn.ConvTranspose1d/2d/3d (the gradient of a conv, used to upsample)."""

    kind = "conv_transpose"
    summary = "transposed convolution (ConvTranspose1d/2d/3d)"

    output_padding: NonNegativeInt | list[NonNegativeInt] = Field(
        0, description="extra size added to one side of the output, per spatial dimension"
    )

    def resolve_padding(self, spatial: Shape, kernel: Shape, stride: Shape, dilation: Shape) -> Pads:
        if isinstance(self.padding, str):
            raise self.error(
                f"padding='{self.padding}' is not supported for transposed convolutions (nor by PyTorch).",
                "padding",
                "Give the padding as numbers.",
            )
        return super().resolve_padding(spatial, kernel, stride, dilation)

    def weight_shape(self, in_channels: int, g: WindowGeometry) -> Shape:
        return (in_channels, self.out_channels // self.groups, *g.kernel)

    def warnings(self, input_shape: Shape, padded: Border = None) -> list[str]:
        return []  # every input cell is scattered into the output

    def output_paddings(self, g: WindowGeometry) -> tuple[int, ...]:
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
        self.check_values(input_shape[0], g)
        return (self.out_channels, *out)

    def receptive_window(self, input_shape: Shape) -> ReceptiveWindow:
        return "n/a"  # Araujo et al. cover sliding windows only; an upsampling layer is out of scope

    def macs(self, input_shape: Shape, output_shape: Shape) -> int:
        # torch.utils.flop_counter counts a transposed conv per *input* position.
        g = self.geometry(input_shape)
        return prod(g.spatial) * prod(g.kernel) * input_shape[0] * (self.out_channels // self.groups)

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
            lines.append(f"{name} = ({size} - 1)*{s} - ({pad_text(before, after)}) + {d}*({k} - 1) + {op} + 1 = {n}")
        lines.append(f"C = out_channels = {self.out_channels}")
        kernel = "*".join(map(str, g.kernel))
        bias = f" + {self.out_channels}" if self.bias else ""
        params = self.param_count(input_shape)
        lines.append(f"params = ({kernel}*{self.out_channels // self.groups})*{input_shape[0]}{bias} = {params:,}")
        in_spatial = "*".join(map(str, g.spatial))
        lines.append(
            f"macs = {in_spatial} * ({kernel}*{self.out_channels // self.groups}) * {input_shape[0]} "
            f"= {self.macs(input_shape, output_shape):,}  (counted per input position)"
        )
        return lines

    def workspace_elements(self, input_shape: Shape, output_shape: Shape) -> int:
        """The input zero-stuffed by the stride, that padded by dilation * (kernel - 1) (the output's size plus the
        kernel's reach), what correlating it at stride 1 copies, and the weights regrouped and flipped into a
        conv's layout (two copies when grouped)."""
        g = self.geometry(input_shape)
        channels, out = input_shape[0], output_shape[1:]
        stuffed = channels * prod((n - 1) * s + 1 for n, s in zip(g.spatial, g.stride))
        sizes = tuple(o + d * (k - 1) for o, k, d in zip(out, g.kernel, g.dilation))
        ones = (1,) * len(out)
        work = self.correlation_elements(channels, output_shape[0], sizes, g.kernel, ones, g.dilation, out)
        weights = prod(self.weight_shape(channels, g)) * (2 if self.groups > 1 else 1)
        return stuffed + channels * prod(sizes) + work + weights + prod(output_shape)  # and the bias added
