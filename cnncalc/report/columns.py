"""Table columns: a header, how to read a row, and how to total it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import Literal

from cnncalc.engine.propagate import Analysis, LayerRow
from cnncalc.layers import Shape

Layout = Literal["chw", "hwc"]


def format_shape(shape: Shape, layout: Layout = "chw") -> str:
    """`[96, 55, 55]`, or CS231n's `55x55x96` with layout hwc."""
    if layout == "hwc" and len(shape) > 1:
        return "x".join(map(str, (*shape[1:], shape[0])))
    return "[" + ", ".join(map(str, shape)) + "]"


# How the terminal and markdown tables show counts and bytes: exact integers (the default), or `human`
# (25.6M, 4.09G, 98.0 MB) as torchinfo's readers expect. CSV and JSON stay exact. Set with `display_units`.
_UNITS: ContextVar[Literal["exact", "human"]] = ContextVar("cnncalc_units", default="exact")


@contextmanager
def display_units(units: Literal["exact", "human"]) -> Iterator[None]:
    """Render counts and bytes in `units` inside the block."""
    token = _UNITS.set(units)
    try:
        yield
    finally:
        _UNITS.reset(token)


def human(value: float, units: tuple[tuple[str, float], ...] = (("G", 1e9), ("M", 1e6), ("K", 1e3))) -> str:
    """Three significant digits in K/M/G: 25.6M, 4.09G, 15.0M; below a thousand the number itself."""
    for unit, size in units:
        if abs(value) >= size * 0.9995:  # 999,999 is 1.00M, not 1000K
            scaled = value / size
            decimals = max(0, 3 - len(str(int(abs(round(scaled, 2))))))
            return f"{scaled:.{decimals}f}{unit}"
    return f"{value:g}"


def format_count(n: int) -> str:
    return human(n) if _UNITS.get() == "human" else f"{n:,}"


@dataclass(frozen=True)
class Column:
    """One table column; `total` gives the footer cell (None for no total)."""

    key: str
    header: str
    cell: Callable[[LayerRow, Layout], str]
    total: Callable[[Analysis], str] | None = None
    numeric: bool = False
    raw: Callable[[LayerRow], object] | None = None  # unformatted value, for CSV
    shrinks: bool = False  # text that may be shortened (with an ellipsis) to fit the terminal; numbers never


COLUMNS: dict[str, Column] = {}


def column(col: Column) -> Column:
    COLUMNS[col.key] = col
    return col


def inputs_text(row: LayerRow) -> str:
    """The names written in `from:`, for a layer that reads named layers rather than the previous row."""
    return ", ".join(row.layer.from_names)


column(Column("name", "Layer", lambda r, _: r.name, shrinks=True))
column(Column("from", "From", lambda r, _: inputs_text(r), shrinks=True))
column(Column("kind", "Kind", lambda r, _: r.kind, shrinks=True))
column(Column("input", "Input shape", lambda r, lay: format_shape(r.input_shape, lay)))
column(Column("output", "Output shape", lambda r, lay: format_shape(r.output_shape, lay)))


def figure_column(
    key: str,
    header: str,
    value: Callable[[LayerRow], int],
    total: Callable[[Analysis], int] | None = None,
    fmt: Callable[[int], str] = format_count,
) -> Column:
    """A column of one integer figure per row, formatted by `fmt`; its total sums the leaves unless `total`."""

    def total_value(analysis: Analysis) -> int:
        return total(analysis) if total is not None else sum(value(row) for row in analysis.leaves)

    return Column(
        key,
        header,
        lambda row, _: fmt(value(row)),
        lambda analysis: fmt(total_value(analysis)),
        numeric=True,
        raw=value,
    )


def count_column(key: str, header: str) -> Column:
    """A row attribute (params, macs...), totalled by the analysis's own property of the same name."""
    return figure_column(key, header, lambda row: int(getattr(row, key)), lambda analysis: int(getattr(analysis, key)))


for _key, _header in (("params", "Params"), ("macs", "MACs"), ("flops", "FLOPs")):
    column(count_column(_key, _header))

DEFAULT_COLUMNS = ("name", "kind", "output", "params", "macs")


# --- receptive field and memory columns: read what engine/receptive_field.py and
# engine/memory.py set on the rows (`cnncalc table` runs them when asked for).


def _rf_cell(attr: str) -> Callable[[LayerRow, Layout], str]:
    def cell(row: LayerRow, _: Layout) -> str:
        from cnncalc.report.notes import format_dims, format_size

        rf = row.receptive_field
        if rf is None:
            return ""
        if attr == "size":
            return format_size(rf)
        return format_dims(getattr(rf, attr)) if rf.status == "window" else "-"

    return cell


column(Column("rf", "RF", _rf_cell("size"), numeric=True))
column(Column("jump", "Jump", _rf_cell("jump"), numeric=True))
column(Column("rf_start", "RF start", _rf_cell("start"), numeric=True))
column(Column("center", "RF centre", _rf_cell("center"), numeric=True))


def format_bytes(n: int) -> str:
    from cnncalc.report.notes import mb

    if _UNITS.get() == "human":  # three significant digits, in torchinfo's MB (10^6 bytes)
        return human(n, ((" GB", 1e9), (" MB", 1e6), (" kB", 1e3))) if n >= 1e3 else f"{n} B"
    return mb(n)


def _memory(row: LayerRow, attr: str) -> int:
    value: int = getattr(row.memory, attr) if row.memory is not None else 0
    return value


for _key, _header, _attr, _fmt in (
    ("activations", "Activations", "activations", format_count),
    ("act_bytes", "Act. bytes", "activation_bytes", format_bytes),
    ("param_bytes", "Param bytes", "param_bytes", format_bytes),
):
    column(figure_column(_key, _header, partial(_memory, attr=_attr), fmt=_fmt))


# --- training cost: what engine/backward_cost.py sets on the rows (`cnncalc table` runs it when asked for).


def _backward(row: LayerRow, forward: bool) -> int:
    backward = row.backward.macs if row.backward is not None else 0
    return backward + (row.macs if forward else 0)


column(figure_column("backward_macs", "Backward MACs", lambda row: _backward(row, False)))
column(figure_column("train_macs", "Train MACs", lambda row: _backward(row, True)))  # forward + backward

RF_COLUMNS = ("rf", "jump", "rf_start", "center")
BACKWARD_COLUMNS = ("backward_macs", "train_macs")
MEMORY_COLUMNS = ("activations", "act_bytes", "param_bytes")
