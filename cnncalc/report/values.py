"""`cnncalc run`'s output: every layer's values, channel by channel, or as JSON (values without the batch axis)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from cnncalc.executor.backward import Gradients
    from cnncalc.executor.forward import Executor

# Tensors larger than this are summarised (shape, min/max/mean/std) instead of printed.
MAX_VALUES_PER_CHANNEL = 64
MAX_CHANNELS = 8


def plain_number(value: float) -> int | float:
    """4.0 -> 4; other values to 7 significant digits (float32 holds no more)."""
    if value == value and abs(value) != float("inf") and value == round(value):
        return int(value)
    return float(f"{value:.7g}")


def plain_values(values: np.ndarray, number: Any = plain_number) -> Any:
    """An array as nested lists of plain numbers (see `plain_number`)."""

    def plain(item: Any) -> Any:
        return [plain(inner) for inner in item] if isinstance(item, list) else number(item)

    return plain(values.tolist())


def json_number(value: float) -> int | float | str:
    """`plain_number`, but infinities and NaN as the strings "inf", "-inf" and "nan": JSON has no such numbers
    (Python would write -Infinity, which strict parsers such as jq refuse)."""
    if value != value:
        return "nan"
    if abs(value) == float("inf"):
        return "inf" if value > 0 else "-inf"
    return plain_number(value)


def json_values(values: np.ndarray) -> Any:
    """An array as nested lists for JSON (see `json_number`)."""
    return plain_values(values, json_number)


def _cell(value: Any) -> str:
    return str(value) if isinstance(value, int) else f"{value:.4g}"


def _matrix(rows: list, width: int) -> object:
    """The values right-aligned in columns, each number whole: a vector too long for `width` columns continues
    on the next line, as NumPy prints one (rich would cut its cells to `-0.60…`)."""
    from rich.table import Table

    cells = [[_cell(v) for v in row] for row in (rows if isinstance(rows[0], list) else [rows])]
    widest = max(len(cell) for row in cells for cell in row)
    if len(cells) == 1:
        per_line = max(1, (width - 1) // (widest + 2))  # a cell has a space either side
        cells = [cells[0][i : i + per_line] for i in range(0, len(cells[0]), per_line)]
    grid = Table(show_header=False, box=None, padding=(0, 1))
    for _ in cells[0]:
        grid.add_column(justify="right", min_width=widest, no_wrap=True)
    for row in cells:
        grid.add_row(*row)
    return grid


def render_layer(console: Any, name: str, kind: str, values: np.ndarray) -> None:
    """Matrices channel by channel when small, else summary statistics."""
    from rich.text import Text

    from cnncalc.shown import shown

    shape = list(values.shape)
    console.print(Text.assemble((shown(name), "bold"), f" ({shown(kind)}) {shape}"))
    channels = shape[0] if len(shape) > 1 else 1
    per_channel = values.size // max(channels, 1)
    if channels > MAX_CHANNELS or per_channel > MAX_VALUES_PER_CHANNEL:
        import numpy as np

        with np.errstate(all="ignore"):  # a -inf pad's mean is -inf and its std NaN, not a RuntimeWarning
            stats = f"min {values.min():.4g}  max {values.max():.4g}  mean {values.mean():.4g}  std {values.std():.4g}"
        console.print(f"  {stats}  ({values.size:,} values; too many to print)")
        return
    if len(shape) == 1:
        console.print(_matrix(plain_values(values), console.width))
        return
    for c in range(channels):
        channel = values[c].reshape(-1, values.shape[-1]) if values.ndim > 2 else values[c].reshape(1, -1)
        console.print(f"  channel {c}:")
        console.print(_matrix(plain_values(channel), console.width))


def run_report(name: str, executor: Executor, gradients: Gradients | None) -> dict[str, Any]:
    """The JSON of `cnncalc run --format json`: every node's values (and gradients with --backward)."""
    layers = [
        {"name": r.name, "kind": r.kind, "output_shape": list(r.shape), "values": json_values(_values(r.values))}
        for r in executor.records
    ]
    report: dict[str, Any] = {"name": name, "layers": layers}
    if gradients is not None:
        from cnncalc.report.gradients import gradient_fields

        by_node = {g.node.index: g for g in gradients.records}
        for layer, record in zip(layers, executor.records):
            layer.update(gradient_fields(by_node.get(record.node.index), json_values))
        report["loss"] = {"kind": gradients.loss.kind, "value": json_number(gradients.loss_value)}
    return report


def render_run(console: Any, executor: Executor, gradients: Gradients | None) -> None:
    """Every node's values, then (with --backward) every layer's gradients."""
    for record in executor.records:
        render_layer(console, record.name, record.kind, _values(record.values))
    if gradients is not None:
        from cnncalc.report.gradients import render_gradients

        console.print()
        render_gradients(console, gradients, render_layer)


def _values(values: np.ndarray | None) -> np.ndarray:
    """The first batch item of a record's values (the run keeps every layer's)."""
    assert values is not None, "cnncalc run keeps every layer's values"
    return values[0]
