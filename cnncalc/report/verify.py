"""`cnncalc verify`'s output: one row per layer, engine against forward pass, then time and memory (or the JSON);
each mismatch (forward) or failed gradient check (`--backward`) as an error line on stderr."""

from __future__ import annotations

import sys
from typing import Any

from cnncalc.errors import EXIT_CHECK_FAILED, EXIT_OK
from cnncalc.shown import shown


def print_forward(reports: list[Any], as_json: bool = False) -> int:
    """Print the forward-pass reports (the table fitted to a terminal's width), then the mismatches to stderr;
    1 if any layer differs."""
    if as_json:
        print(reports_json([report.to_dict() for report in reports]))
    else:
        from cnncalc.report.console import console

        out = console()
        fit = out.width if out.is_terminal else None  # piped output keeps full names
        for report in reports:
            out.print(render_report(report, fit), crop=False)
    return _errors(mismatch_lines(reports))


def print_backward(reports: list[Any], as_json: bool = False) -> int:
    """Print the backward-pass reports, then the failed checks to stderr; 1 if any layer failed."""
    if as_json:
        print(reports_json([_finite(report.model_dump()) for report in reports]))
    else:
        from cnncalc.report.console import console
        from cnncalc.report.gradients import render_backward_report

        out = console()
        fit = out.width if out.is_terminal else None  # piped output keeps full names
        for report in reports:
            out.print(render_backward_report(report, fit), crop=False)
    return _errors(backward_failure_lines(reports))


def _finite(value: Any) -> Any:
    """A backward report's dump with NaN and infinities (a -inf pad's loss, its errors) as `json_number` writes
    them, "nan" and "inf": JSON has no such numbers, and strict parsers refuse Python's `NaN`."""
    from math import isfinite

    from cnncalc.report.values import json_number

    if isinstance(value, float) and not isfinite(value):
        return json_number(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def reports_json(dumped: list[dict[str, Any]]) -> str:
    """One report as an object, several as a list; indented down to each layer, a layer on one line."""
    from cnncalc.report.json_text import dumps

    return dumps(dumped[0] if len(dumped) == 1 else dumped, depth=2 if len(dumped) == 1 else 3)


def mismatch_lines(reports: list[Any]) -> list[str]:
    """`error: SPEC: layer `NAME` (KIND): ...` for every layer whose shape or params differ, escaped."""
    return [
        shown(
            f"error: {report.name}: layer `{layer.name}` ({layer.kind}): the forward pass gave shape "
            f"{shape_text(layer.executed_shape)} and {layer.executed_params} params, the engine says "
            f"{shape_text(layer.expected_shape)} and {layer.expected_params} params."
        )
        for report in reports
        for layer in report.mismatches
    ]


def backward_failure_lines(reports: list[Any]) -> list[str]:
    """An error line for every layer whose gradient shapes or values failed, escaped."""
    lines = []
    for report in reports:
        for layer in report.failures:
            problem = "; ".join(layer.shape_problems) or (
                f"relative error {layer.worst_relative_error:.2g} against finite differences"
            )
            lines.append(shown(f"error: {report.name}: layer `{layer.name}` ({layer.kind}): {problem}."))
    return lines


def _errors(lines: list[str]) -> int:
    for line in lines:
        print(line, file=sys.stderr)
    return EXIT_CHECK_FAILED if lines else EXIT_OK


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
        # In a terminal, as `table` names them: within the enclosing layer, indented by depth (`layer4…s.bn1`
        # said little); piped output keeps the full dotted names, for grep.
        name = layer.name if max_width is None else "  " * layer.depth + (layer.short_name or layer.name)
        cells = [
            "✓" if layer.match else "✗",
            name,
            layer.kind,
            shape_text(layer.expected_shape),
            shape_text(layer.executed_shape),
            f"{layer.expected_params:,}",
            executed,
        ]
        body.append((cells, None if layer.match else "bold red"))
    # What the forward pass gave stands right of the engine's figure; "Run" tells the two pairs apart.
    headers = ["", "Layer", "Kind", "Engine shape", "Run shape", "Params", "Run params"]
    shrinks = [False, True, True, False, False, False, False]
    right = [False] * 5 + [True, True]
    if max_width is not None:
        widths = fitted_widths(column_widths(headers, body, None), shrinks, max_width)
        if sum(w + 3 for w in widths) + 1 > max_width:  # still too wide: the kind goes, the figures stay
            headers, shrinks, right = (_without(items, 2) for items in (headers, shrinks, right))
            body = [(_without(cells, 2), style) for cells, style in body]
    grid = draw_grid(f"{report.name}: forward pass vs engine", headers, body, None, right, max_width, shrinks, 1)
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
