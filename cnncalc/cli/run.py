"""`cnncalc run SPEC`: a forward pass on the spec's numbers, every layer's output shown."""

from __future__ import annotations

from enum import Enum

import typer

from cnncalc.cli.common import handles_errors, load, max_file_size_option, max_memory_option


class RunFormat(str, Enum):
    table = "table"
    json = "json"


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
    from cnncalc.engine.pass_memory import check_forward_pass
    from cnncalc.engine.propagate import analyze
    from cnncalc.executor.forward import run_spec
    from cnncalc.report.console import console
    from cnncalc.report.values import render_run, run_report
    from cnncalc.report.warning_text import print_warnings

    loaded = load(spec)
    # Refuse specs the engine refuses, with its positioned message, and passes too big for memory
    # (every layer's output is kept, to be printed), before anything is allocated.
    analysis = analyze(loaded)
    check_forward_pass(analysis, keep_values=True)
    print_warnings([analysis])  # a channels-last input or an untiled stride, as `table` warns
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

        typer.echo(json.dumps(run_report(loaded.name, executor, gradients)))
    else:
        render_run(console(), executor, gradients)
    if note:  # on stderr in every format, with the warnings: stdout holds the values alone
        console(stderr=True).print(note, style="yellow", markup=False)
