"""`cnncalc verify SPEC...`: run a real forward pass and check every layer's shape against the engine."""

from __future__ import annotations

from enum import Enum

import typer

from cnncalc.cli.common import handles_errors, load, max_file_size_option, max_memory_option


class VerifyFormat(str, Enum):
    table = "table"
    json = "json"


class _NoProgress:
    """Stands in for rich's Progress when stderr is no terminal (older rich still writes a line then)."""

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def add_task(self, *_args: object, **_kwargs: object) -> int:
        return 0

    def advance(self, *_args: object) -> None:
        return None

    def remove_task(self, *_args: object) -> None:
        return None


def _progress(console):
    if not console.is_terminal:
        return _NoProgress()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@handles_errors
def verify(
    specs: list[str] = typer.Argument(..., help="Spec files or shipped spec names."),
    seed: int = typer.Option(0, min=0, help="Seed for the random weights and input."),
    batch: int = typer.Option(1, min=1, help="Batch size of the forward pass."),
    format: VerifyFormat = typer.Option(VerifyFormat.table, "--format", "-f", help="Output format."),
    max_memory: str = max_memory_option(),
    max_file_size: str = max_file_size_option(),
    backward: bool = typer.Option(
        False, "--backward", help="Check the backward pass instead: gradient shapes, values vs finite differences."
    ),
    samples: int = typer.Option(3, min=1, help="--backward: coordinates sampled per tensor for finite differences."),
    runs: int = typer.Option(1, min=1, help="Timed forward passes after a warm-up: the median and the minimum."),
) -> None:
    """Run each spec forward with NumPy and check every layer's shape and params against the engine.

    Time: the median of --runs passes after a warm-up (weights are made before).
    Peak memory: tracemalloc over a pass of its own, weights apart.
    With --backward: the gradients of the spec's loss (default: the output's sum), timed against the forward pass.
    """
    from cnncalc.report.console import console

    if backward:
        _verify_backward(specs, seed, batch, samples, format)
        return

    from cnncalc.engine.pass_memory import check_forward_pass
    from cnncalc.engine.propagate import analyze
    from cnncalc.executor.verify import verify_spec
    from cnncalc.report.warning_text import print_warnings

    loaded = [load(name) for name in specs]  # every file is checked before any (slow) forward pass
    analyses = [analyze(spec) for spec in loaded]
    for analysis in analyses:  # and every pass's memory, before anything is allocated
        check_forward_pass(analysis, batch)
    print_warnings(analyses)  # a channels-last input or an untiled stride, as `table` warns
    err = console(stderr=True)
    reports = []
    with _progress(err) as progress:
        for spec, analysis in zip(loaded, analyses):
            task = progress.add_task(spec.name, total=len(analysis.rows))

            def advance(_record: object, t: int = task) -> None:
                progress.advance(t)

            report = verify_spec(
                spec,
                analysis,
                seed=seed,
                batch=batch,
                runs=runs,
                on_layer=advance,
            )
            progress.remove_task(task)
            reports.append(report)
    from cnncalc.report.verify import print_forward

    raise typer.Exit(print_forward(reports, format is VerifyFormat.json))


def _verify_backward(specs: list[str], seed: int, batch: int, samples: int, format: VerifyFormat) -> None:
    from cnncalc.engine.pass_memory import check_forward_pass
    from cnncalc.engine.propagate import analyze
    from cnncalc.executor.verify_backward import verify_backward
    from cnncalc.report.verify import print_backward
    from cnncalc.report.warning_text import print_warnings

    loaded = [load(name) for name in specs]
    analyses = [analyze(spec) for spec in loaded]
    for analysis in analyses:  # refuse what the engine refuses, and passes too big for memory (backward keeps
        check_forward_pass(analysis, batch, keep_values=True)  # every activation), before anything is allocated
    print_warnings(analyses)
    reports = [verify_backward(spec, seed=seed, batch=batch, samples=samples) for spec in loaded]
    raise typer.Exit(print_backward(reports, format is VerifyFormat.json))
