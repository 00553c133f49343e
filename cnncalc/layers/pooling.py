"""Pooling kinds: max/avg/min/LP windows, adaptive and global pooling."""

from math import prod
from typing import Annotated, ClassVar

from pydantic import Field

from cnncalc.layers.base import (
    DIM_NAMES,
    Float,
    Layer,
    PositiveInt,
    ReceptiveWindow,
    Shape,
    SpatialInts,
    register,
)
from cnncalc.layers.window import (
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

PoolPadding = Annotated[
    WindowPadding,
    Field(
        description="padding: one integer for both sides, one per spatial dimension, [before, after] pairs, "
        "or 'same' (TensorFlow's rule) / 'valid'"
    ),
]


class _WindowPool(SlidingWindow):
    """A window slid over each channel; PyTorch's pooling_output_shape."""

    arg_aliases = {"kernel": "kernel_size", "size": "kernel_size"}
    asked: ClassVar[tuple[str, ...]] = ("output_shape",)

    kernel_size: SpatialInts
    stride: SpatialInts | None = Field(None, description="defaults to kernel_size, as in PyTorch")
    ceil_mode: bool = False
    kernel_must_fit_3d_input: ClassVar[bool] = False

    def geometry(self, input_shape: Shape) -> WindowGeometry:
        spatial = self.spatial(input_shape)
        ndim = len(spatial)
        kernel = self.per_dim(self.kernel_size, ndim, "kernel_size")
        stride = kernel if self.stride is None else self.per_dim(self.stride, ndim, "stride")
        padding = getattr(self, "padding", 0)
        dilation = self.per_dim(getattr(self, "dilation", 1), ndim, "dilation")
        if padding == "same":  # TensorFlow's rule (PyTorch's pools have no `same`)
            pads = tf_same_pads(spatial, kernel, stride, dilation)
            return WindowGeometry(spatial, kernel, stride, dilation, pads, self.ceil_mode)
        pads = ((0, 0),) * ndim if padding == "valid" else per_dim_pads(self, padding, ndim)
        for k, pair in zip(kernel, pads):
            if max(pair) > k // 2:  # aten Pool.h checks kernel_size / 2, whatever the dilation
                raise self.error(
                    f"padding {max(pair)} is more than half the kernel size {k}; "
                    "PyTorch refuses this, since a window could then hold only padding.",
                    "padding",
                )
        if self.kernel_must_fit_3d_input and ndim == 3 and any(n < k for n, k in zip(spatial, kernel)):
            raise self.error(  # aten pool3d_shape_check(check_input_size=True), used by avg_pool3d
                f"PyTorch's 3-D {self.kind} refuses an input {list(spatial)} smaller than the kernel "
                f"{list(kernel)} in any dimension (padding and ceil_mode do not count).",
                "kernel_size",
                "Use a smaller kernel_size.",
            )
        return WindowGeometry(spatial, kernel, stride, dilation, pads, self.ceil_mode)

    def output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], *self.window_sizes(input_shape))

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        g = self.geometry(input_shape)
        lines = []
        rounding = "ceil" if self.ceil_mode else "floor"
        for name, (size, k, s, before, after, d), n in zip(DIM_NAMES[len(g.spatial)], g.dims, output_shape[1:]):
            pads = pad_text(before, after)
            inner = f"{size} - {k} + {pads}" if d == 1 else f"{size} + {pads} - {d}*({k} - 1) - 1"
            line = f"{name} = {rounding}(({inner}) / {s}) + 1"
            naive = (size + before + after - d * (k - 1) - 1 + (s - 1 if self.ceil_mode else 0)) // s + 1
            if naive != n:
                line += f" = {naive}, minus 1 because the last window would start in the right padding"
            lines.append(f"{line} = {n}")
        if getattr(self, "padding", 0) == "same":
            lines[:0] = same_explained(g)
        lines.append(f"C = {input_shape[0]} (pooling keeps the channels)")
        lines.append("params = 0 (pooling has no weights)")
        return lines

    def workspace_elements(self, input_shape: Shape, output_shape: Shape) -> int:
        """The padded input (ceil_mode's extra end padding is under a stride), then for max and min pools
        (windows.reduce_separable) the input reduced over the first dim, else the window copy."""
        g = self.geometry(input_shape)
        sizes = [n + before + after + s for n, s, (before, after) in zip(g.spatial, g.stride, g.pads)]
        return input_shape[0] * (prod(sizes) + output_shape[1] * prod(sizes[1:])) + 3 * prod(output_shape)

    def slides_text(self) -> str:
        stride = self.kernel_size if self.stride is None else self.stride
        padding = getattr(self, "padding", 0)
        pad = f", pad {slides_plain(padding)}" if padding else ""
        name = self.kind.removesuffix("pool")  # max, avg, min
        return f"{slides_size(self.kernel_size)} {name} pooling at stride {slides_plain(stride)}{pad}"


@register
class MaxPool(_WindowPool):
    """torch.nn.MaxPool1d/2d/3d (pads with -inf)."""

    kind = "maxpool"
    summary = "max pooling"
    padding: PoolPadding = 0
    dilation: SpatialInts = 1


@register
class MinPool(_WindowPool):
    """The minimum of each window (PyTorch: -max_pool(-x)); pads with +inf."""

    kind = "minpool"
    summary = "min pooling"
    padding: PoolPadding = 0
    dilation: SpatialInts = 1


@register
class AvgPool(_WindowPool):
    """torch.nn.AvgPool1d/2d/3d."""

    kind = "avgpool"
    summary = "average pooling"
    kernel_must_fit_3d_input = True
    padding: PoolPadding = 0
    count_include_pad: bool = Field(True, description="count the padding in the divisor (never with `same`)")

    def counts_padding(self) -> bool:
        """Whether padded cells count in a window's divisor: TensorFlow's `same` never counts them."""
        return self.count_include_pad and self.padding != "same"

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        lines = super().explain(input_shape, output_shape)
        if self.padding == "same":  # before the closing channels and params lines
            lines[-2:-2] = ["the padding is left out of each window's divisor, as in TensorFlow"]
        return lines


@register
class LPPool(_WindowPool):
    """torch.nn.LPPool1d/2d/3d: (sum of x^p)^(1/p); no padding argument, as in PyTorch."""

    kind = "lppool"
    summary = "power-average (Lp) pooling"
    asked = ()  # not a pooling the slides ask about
    kernel_must_fit_3d_input = True  # PyTorch computes it with avg_pool3d
    norm_type: Float = Field(2.0, gt=0, description="the power p")

    def slides_text(self) -> str:
        return self.kind  # the slides' pools are max, average and min: an Lp pool is named by its kind


OutputSize = Annotated[
    PositiveInt | list[PositiveInt | None],
    Field(description="output size: one integer, or one per spatial dimension (null keeps the input's)"),
]


class _AdaptivePool(Layer):
    output_size: OutputSize

    def output_shape(self, input_shape: Shape) -> Shape:
        spatial = self.spatial(input_shape)
        if isinstance(self.output_size, int):
            sizes: tuple[int | None, ...] = (self.output_size,) * len(spatial)
        else:
            sizes = tuple(self.per_dim(self.output_size, len(spatial), "output_size"))  # type: ignore[arg-type]
        return (input_shape[0], *(size if out is None else out for size, out in zip(spatial, sizes)))

    def receptive_window(self, input_shape: Shape) -> ReceptiveWindow:
        # Equal bins are a plain window (k = stride = in/out); unequal ones have no single stride.
        out = self.output_shape(input_shape)[1:]
        if all(n == 1 for n in out):
            return "global"  # one bin: the same as global pooling
        if any(size % n for size, n in zip(input_shape[1:], out)):
            return "n/a"
        return tuple((size // n, size // n, 0) for size, n in zip(input_shape[1:], out))

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        return [
            f"output = [C, *output_size] = {list(output_shape)}; bin i covers [floor(i*in/out), ceil((i+1)*in/out))",
            "params = 0",
        ]


@register
class AdaptiveAvgPool(_AdaptivePool):
    """torch.nn.AdaptiveAvgPool1d/2d/3d."""

    kind = "adaptive_avgpool"
    summary = "adaptive average pooling to a fixed output size"


@register
class AdaptiveMaxPool(_AdaptivePool):
    """torch.nn.AdaptiveMaxPool1d/2d/3d."""

    kind = "adaptive_maxpool"
    summary = "adaptive max pooling to a fixed output size"


class _GlobalPool(Layer):
    def output_shape(self, input_shape: Shape) -> Shape:
        spatial = self.spatial(input_shape)
        return (input_shape[0], *(1 for _ in spatial))

    def receptive_window(self, input_shape: Shape) -> ReceptiveWindow:
        return "global"

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        return [f"output = [C, 1, ...] = {list(output_shape)} (one value per channel)", "params = 0"]


@register
class GlobalAvgPool(_GlobalPool):
    """Mean over all spatial positions (AdaptiveAvgPool with output size 1)."""

    kind = "global_avgpool"
    summary = "global average pooling"


@register
class GlobalMaxPool(_GlobalPool):
    """Max over all spatial positions (AdaptiveMaxPool with output size 1)."""

    kind = "global_maxpool"
    summary = "global max pooling"
