"""`cnncalc verify`'s table: one row per layer, engine against forward pass, then time and memory."""

from __future__ import annotations

from typing import Any


def shape_text(shape: list[int] | None) -> str:
    return "-" if shape is None else str(shape)


def render_report(report: Any, max_width: int | None = None) -> object:
    """One row per layer with a ✓/✗ mark (mismatches in red), then time and memory; fitted to `max_width`
    (names and kinds shortened with an ellipsis, numbers whole) when given."""
    from rich.console import Group
    from rich.text import Text

    from cnncalc.report.table import column_widths, draw_grid, fitted_widths

    body = []
    for layer in report.layers:
        executed = "-" if layer.executed_params is None else f"{layer.executed_params:,}"
        cells = [
            "✓" if layer.match else "✗",
            layer.name,
            layer.kind,
            shape_text(layer.expected_shape),
            shape_text(layer.executed_shape),
            f"{layer.expected_params:,}",
            executed,
        ]
        body.append((cells, None if layer.match else "bold red"))
    # "Executed" twice: the shape and the params the forward pass gave, each right of the engine's.
    headers = ["", "Layer", "Kind", "Engine shape", "Executed", "Params", "Executed"]
    shrinks = [False, True, True, False, False, False, False]
    right = [False] * 5 + [True, True]
    if max_width is not None:
        widths = fitted_widths(column_widths(headers, body, None), shrinks, max_width)
        if sum(w + 3 for w in widths) + 1 > max_width:  # still too wide: the kind goes, the figures stay
            headers, shrinks, right = (_without(items, 2) for items in (headers, shrinks, right))
            body = [(_without(cells, 2), style) for cells, style in body]
    grid = draw_grid(f"{report.name}: forward pass vs engine", headers, body, None, right, max_width, shrinks)
    verdict = "all layers match" if report.match else f"{len(report.mismatches)} layer(s) differ"
    timing = f"forward pass {report.forward_seconds * 1000:.1f} ms"
    if report.runs > 1:
        timing += f" (median of {report.runs}, min {report.forward_seconds_min * 1000:.1f} ms)"
    caption = (
        f"{verdict}; {timing}, batch {report.batch}; "
        f"peak memory during it {report.peak_memory_bytes / 2**20:.1f} MiB "
        f"(weights {report.weights_bytes / 2**20:.1f} MiB apart)"
    )
    return Group(grid, Text(caption, style="green" if report.match else "bold red"))


def _without(items: list, index: int) -> list:
    return items[:index] + items[index + 1 :]
