"""One geometry for every kind that slides a window: conv, conv_transpose and the window pools.

A windowed kind standardises its arguments once against its input (Keras's `standardize_tuple`),
into a `WindowGeometry`: kernel, stride, dilation and [before, after] padding per spatial dim.
The engine's shapes, the receptive fields, the tiling warnings, `check`'s mistake variants and
the executor all read this one object.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from cnncalc.layers import arithmetic
from cnncalc.layers.base import DIM_NAMES, Border, Layer, NonNegativeInt, ReceptiveWindow, Shape

Pads = tuple[tuple[int, int], ...]
# The `padding` a windowed kind takes (read by `per_dim_pads`); each kind's annotation gives its description.
WindowPadding = (
    NonNegativeInt | list[NonNegativeInt] | list[tuple[NonNegativeInt, NonNegativeInt]] | Literal["same", "valid"]
)


@dataclass(frozen=True)
class WindowGeometry:
    """A window's arguments resolved against its input: one entry per spatial dim."""

    spatial: Shape
    kernel: Shape
    stride: Shape
    dilation: Shape
    pads: Pads
    ceil_mode: bool = False

    @property
    def dims(self) -> list[tuple[int, int, int, int, int, int]]:
        """(size, kernel, stride, pad_before, pad_after, dilation) per spatial dim."""
        per_dim = zip(self.spatial, self.kernel, self.stride, self.pads, self.dilation)
        return [(n, k, s, b, a, d) for n, k, s, (b, a), d in per_dim]

    def output_sizes(self) -> tuple[int, ...]:
        """conv's floor formula, or with ceil_mode aten's pooling rule (may be < 1: the caller reports)."""
        if not self.ceil_mode:
            return tuple(arithmetic.conv_output_size(n, k, s, b, a, d) for n, k, s, b, a, d in self.dims)
        return tuple(arithmetic.pool_output_size(n, k, s, b, a, d, True) for n, k, s, b, a, d in self.dims)

    def receptive_window(self) -> ReceptiveWindow:
        return tuple((d * (k - 1) + 1, s, b) for _, k, s, b, _, d in self.dims)

    def around(self, padded: Pads) -> "WindowGeometry":
        """This window on the input before `padded` zeros were added, those zeros counted as its own padding."""
        spatial = tuple(n - b - a for n, (b, a) in zip(self.spatial, padded))
        pads = tuple((pb + b, pa + a) for (pb, pa), (b, a) in zip(self.pads, padded))
        return WindowGeometry(spatial, self.kernel, self.stride, self.dilation, pads, self.ceil_mode)

    def tiling_warnings(self, layer: Layer, padded: Border = None) -> list[str]:
        """One warning naming every spatial dim where the stride leaves input cells unread.

        Cells that a zero pad just before added (`padded`) are padding, as the window's own would be."""
        if self.ceil_mode:
            return []
        if padded and len(padded) == len(self.spatial) and any(b or a for b, a in padded):
            note = "the input (the zero pad before it counted as padding); "
            return [w.replace("the input; ", note, 1) for w in self.around(padded).tiling_warnings(layer)]
        found = []
        for name, (size, k, s, before, after, d) in zip(DIM_NAMES[len(self.spatial)], self.dims):
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


def tf_same_pads(spatial: Shape, kernel: Shape, stride: Shape, dilation: Shape) -> Pads:
    """TensorFlow's `padding='same'`: out = ceil(in/stride); the odd cell of the total goes after."""
    pads = []
    for n, k, s, d in zip(spatial, kernel, stride, dilation):
        out = -(-n // s)
        total = max(0, (out - 1) * s + d * (k - 1) + 1 - n)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def same_explained(g: WindowGeometry) -> list[str]:
    """`--explain`'s lines for the padding TensorFlow's `same` chose, one per spatial dim."""
    lines = []
    for name, (n, k, s, before, after, d) in zip(DIM_NAMES[len(g.spatial)], g.dims):
        k_eff = f"{d}*({k} - 1) + 1" if d != 1 else f"{k}"
        out = -(-n // s)
        lines.append(
            f"{name}: padding same (TensorFlow): out = ceil({n} / {s}) = {out}, total = "
            f"max(0, ({out} - 1)*{s} + {k_eff} - {n}) = {before + after}, before = {before}, after = {after}"
        )
    return lines


def pad_text(before: int, after: int) -> str:
    return f"2*{before}" if before == after else f"{before} + {after}"


def slides_size(value: object) -> str:
    """A kernel as slides write it: `11x11` for 11, `3x5` for [3, 5]."""
    return "x".join(map(str, value)) if isinstance(value, (list, tuple)) else f"{value}x{value}"


def slides_plain(value: object) -> str:
    """A stride or padding as slides write it: `4` for 4, `1x2` for [1, 2]."""
    return "x".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


class SlidingWindow(Layer):
    """A kind whose output positions each read one window of its input."""

    window_noun: ClassVar[str] = "window"
    misfit_hint: ClassVar[str] = "Use a smaller kernel_size, or remove a downsampling layer before this one."

    def geometry(self, input_shape: Shape) -> WindowGeometry:
        raise NotImplementedError

    def receptive_window(self, input_shape: Shape) -> ReceptiveWindow:
        return self.geometry(input_shape).receptive_window()

    def warnings(self, input_shape: Shape, padded: Border = None) -> list[str]:
        return self.geometry(input_shape).tiling_warnings(self, padded)

    def window_sizes(self, input_shape: Shape) -> tuple[int, ...]:
        """The output's spatial sizes, with a clear error when the window does not fit."""
        g = self.geometry(input_shape)
        sizes = g.output_sizes()
        for (size, k, _, before, after, d), n in zip(g.dims, sizes):
            if n < 1:
                raise self.error(
                    f"the {self.window_noun} does not fit: input {size} + padding {before}+{after} = "
                    f"{size + before + after}, effective kernel {d * (k - 1) + 1} (kernel {k}, dilation {d}), "
                    f"so the output size would be {n}.",
                    "kernel_size",
                    self.misfit_hint,
                )
        return sizes


def per_dim_pads(layer: Layer, padding: int | Sequence[int] | Sequence[Sequence[int]], ndim: int) -> Pads:
    """An int, one int per dim, or one [before, after] pair per dim, as pairs."""
    if isinstance(padding, (list, tuple)) and padding and isinstance(padding[0], (list, tuple)):
        pairs = layer.per_dim(padding, ndim, "padding")  # type: ignore[arg-type]
        return tuple((int(p[0]), int(p[1])) for p in pairs)  # type: ignore[index]
    if isinstance(padding, (list, tuple)) and len(padding) == 2 * ndim:  # [before, after] written flat
        pairs_hint = [list(padding[i : i + 2]) for i in range(0, 2 * ndim, 2)]
        raise layer.error(
            f"`padding` has {len(padding)} entries, but the input has {ndim} spatial "
            f"dimension{'s' if ndim > 1 else ''}.",
            "padding",
            f"For [before, after] padding, nest one pair per dimension: {pairs_hint}.",
        )
    return tuple((p, p) for p in layer.per_dim(padding, ndim, "padding"))  # type: ignore[arg-type]
