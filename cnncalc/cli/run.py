"""`cnncalc run SPEC`: a forward pass on the spec's numbers, every layer's output shown."""

from __future__ import annotations

from enum import Enum
from typing import Any

import typer

from cnncalc.cli.common import handles_errors, load, max_file_size_option, max_memory_option

# Tensors larger than this are summarised (shape, min/max/mean/std) instead of printed.
MAX_VALUES_PER_CHANNEL = 64
MAX_CHANNELS = 8


class RunFormat(str, Enum):
    table = "table"
    json = "json"


def plain_number(value: float) -> int | float:
    """4.0 -> 4; other values to 7 significant digits (float32 holds no more)."""
    if value == value and abs(value) != float("inf") and value == round(value):
        return int(value)
    return float(f"{value:.7g}")


def plain_values(values) -> Any:
    """An array as nested lists of plain numbers (see `plain_number`)."""

    def plain(item: Any) -> Any:
        return [plain(inner) for inner in item] if isinstance(item, list) else plain_number(item)

    return plain(values.tolist())


def _cell(value: Any) -> str:
    return str(value) if isinstance(value, int) else f"{value:.4g}"


def _matrix(rows: list) -> object:
    from rich.table import Table

    grid = Table(show_header=False, box=None, padding=(0, 1))
    rows = rows if isinstance(rows[0], list) else [rows]
    for _ in rows[0]:
        grid.add_column(justify="right")
    for row in rows:
        grid.add_row(*(_cell(v) for v in row))
    return grid


def render_layer(console, name: str, kind: str, values) -> None:
    """Matrices channel by channel when small, else summary statistics."""
    from rich.text import Text

    from cnncalc.shown import shown

    shape = list(values.shape)
    console.print(Text.assemble((shown(name), "bold"), f" ({shown(kind)}) {shape}"))
    channels = shape[0] if len(shape) > 1 else 1
    per_channel = values.size // max(channels, 1)
    if channels > MAX_CHANNELS or per_channel > MAX_VALUES_PER_CHANNEL:
        console.print(
            f"  min {values.min():.4g}  max {values.max():.4g}  mean {values.mean():.4g}  std {values.std():.4g}"
            f"  ({values.size:,} values; too many to print)"
        )
        return
    if len(shape) == 1:
        console.print(_matrix(plain_values(values)))
        return
    for c in range(channels):
        channel = values[c].reshape(-1, values.shape[-1]) if values.ndim > 2 else values[c].reshape(1, -1)
        console.print(f"  channel {c}:")
        console.print(_matrix(plain_values(channel)))


@handles_errors
def run(
    spec: str = typer.Argument(..., help="A spec file (ideally with `input: {values: ...}`) or a shipped name."),
    seed: int = typer.Option(0, min=0, help="Seed for random weights (and the input, if the spec gives none)."),
    format: RunFormat = typer.Option(RunFormat.table, "--format", "-f", help="Output format."),
    max_memory: str = max_memory_option(),
    max_file_size: str = max_file_size_option(),
    backward: bool = typer.Option(False, "--backward", help="Then run the backward pass: dL/dX, dL/dW, dL/db."),
    loss: str = typer.Option(None, help="The loss for --backward: sum (default), mse, cross_entropy."),
    target: str = typer.Option(None, help="mse: the target values (`0.5` or `1,0,2`); cross_entropy: the class."),
) -> None:
    """Run the spec forward with NumPy and print every layer's output values (and gradients with --backward)."""
    from rich.console import Console

    from cnncalc.engine.pass_memory import check_forward_pass
    from cnncalc.engine.propagate import analyze
    from cnncalc.executor.forward import run_spec

    loaded = load(spec)
    # Refuse specs the engine refuses, with its positioned message, and passes too big for memory
    # (every layer's output is kept, to be printed), before anything is allocated.
    check_forward_pass(analyze(loaded), keep_values=True)
    gradients = None
    if backward or loss is not None or target is not None:
        from cnncalc.executor.backward import parse_loss, run_backward

        chosen = parse_loss(loss or loaded.loss, target if target is not None else loaded.target, loaded.source)
        executor, _, gradients = run_backward(loaded, chosen, seed=seed)
    else:
        executor, _ = run_spec(loaded, seed=seed)
    note = None
    if loaded.input_values is None:
        note = f"The spec gives no input values: using a random input (seed {seed})."
    if format is RunFormat.json:
        import json  # here, not at the top: every command module loads at start-up

        layers = [
            {"name": r.name, "kind": r.kind, "output_shape": list(r.shape), "values": plain_values(r.values[0])}
            for r in executor.records
        ]
        report: dict[str, Any] = {"name": loaded.name, "layers": layers}
        if gradients is not None:
            from cnncalc.report.gradients import gradient_fields

            by_node = {g.node.index: g for g in gradients.records}
            for layer, record in zip(layers, executor.records):
                layer.update(gradient_fields(by_node.get(record.node.index), plain_values))
            report["loss"] = {"kind": gradients.loss.kind, "value": plain_number(gradients.loss_value)}
        typer.echo(json.dumps(report))
        if note:
            Console(stderr=True).print(note)
        return
    console = Console()
    if note:
        console.print(note, style="yellow", markup=False)
    for record in executor.records:
        render_layer(console, record.name, record.kind, record.values[0])
    if gradients is not None:
        from cnncalc.report.gradients import render_gradients

        console.print()
        render_gradients(console, gradients, render_layer)
