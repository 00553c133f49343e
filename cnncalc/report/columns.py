"""Table columns: a header, how to read a row, and how to total it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.layers import Shape

Layout = Literal["chw", "hwc"]


def format_shape(shape: Shape, layout: Layout = "chw") -> str:
    """`[96, 55, 55]`, or CS231n's `55x55x96` with layout hwc."""
    if layout == "hwc" and len(shape) > 1:
        return "x".join(map(str, (*shape[1:], shape[0])))
    return "[" + ", ".join(map(str, shape)) + "]"


def format_count(n: int) -> str:
    return f"{n:,}"


@dataclass(frozen=True)
class Column:
    """One table column; `total` gives the footer cell (None for no total)."""

    key: str
    header: str
    cell: Callable[[LayerRow, Layout], str]
    total: Callable[[Analysis], str] | None = None
    numeric: bool = False
    raw: Callable[[LayerRow], object] | None = None  # unformatted value, for CSV


COLUMNS: dict[str, Column] = {}


def column(col: Column) -> Column:
    COLUMNS[col.key] = col
    return col


column(Column("name", "Layer", lambda r, _: r.name))
column(Column("kind", "Kind", lambda r, _: r.kind))
column(Column("input", "Input shape", lambda r, lay: format_shape(r.input_shape, lay)))
column(Column("output", "Output shape", lambda r, lay: format_shape(r.output_shape, lay)))
for _key, _header in (("params", "Params"), ("macs", "MACs"), ("flops", "FLOPs")):
    column(
        Column(
            _key,
            _header,
            lambda r, _, k=_key: format_count(getattr(r, k)),
            lambda a, k=_key: format_count(getattr(a, k)),
            numeric=True,
            raw=lambda r, k=_key: getattr(r, k),
        )
    )

DEFAULT_COLUMNS = ("name", "kind", "output", "params", "macs")
