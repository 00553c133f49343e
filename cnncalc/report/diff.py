"""`cnncalc diff` rendered: text, JSON, markdown (a pull-request comment) and GitHub annotations."""

from __future__ import annotations

from cnncalc.engine.diff import Diff, Figures, LayerDiff
from cnncalc.shown import shown, shown_markdown

LABELS = {"params": "params", "trainable_params": "trainable params", "buffers": "buffers", "macs": "MACs"}


def short(n: int) -> str:
    """1234567 -> 1.23M: how a reviewer reads a change, written as `--units human` writes counts."""
    from cnncalc.report.columns import human

    return human(n)


def delta(a: int, b: int) -> str:
    d = b - a
    return "same" if d == 0 else f"{'+' if d > 0 else '-'}{abs(d):,} ({'+' if d > 0 else '-'}{short(abs(d))})"


def _shape(row: Figures | None) -> str:
    return "-" if row is None else "[" + ", ".join(map(str, row.output_shape)) + "]"


def _layer_cells(d: LayerDiff) -> list[str]:
    name = " / ".join(dict.fromkeys(shown(r.name) for r in (d.a, d.b) if r is not None))  # once if the same
    kind = " / ".join(dict.fromkeys(shown(r.kind) for r in (d.a, d.b) if r is not None))
    cells = [d.status, name, kind, _shape(d.a), _shape(d.b)]
    for key in ("params", "macs"):
        a = getattr(d.a, key) if d.a is not None else None
        b = getattr(d.b, key) if d.b is not None else None
        cells.append(f"{a:,}" if b is None else f"{b:,}" if a is None else f"{a:,} -> {b:,}" if a != b else f"{a:,}")
    return cells


HEADERS = ["change", "layer (A / B)", "kind", "shape A", "shape B", "params", "MACs"]


def _change_text(c: list[str]) -> str:
    """`F6 (linear): shape [84] -> [100], params ...`; a shape that did not change is given once."""
    shape = c[3] if c[3] == c[4] else f"{c[3]} -> {c[4]}"
    return f"{c[1]} ({c[2]}): shape {shape}, params {c[5]}, MACs {c[6]}"


def render_text(result: Diff) -> str:
    lines = [f"A: {shown(result.a_name)}", f"B: {shown(result.b_name)}"]
    for key, (a, b) in result.totals.items():
        lines.append(f"  {LABELS[key]:<17} {a:>15,}  {b:>15,}  {delta(a, b)}")
    if result.outputs[0] != result.outputs[1]:
        lines.append(f"  outputs: A {[list(s) for s in result.outputs[0]]}, B {[list(s) for s in result.outputs[1]]}")
    if result.layers:
        lines.append(f"{len(result.layers)} layer difference{'s' if len(result.layers) > 1 else ''}:")
        for d in result.layers:
            c = _layer_cells(d)
            lines.append(f"  {c[0]:<8} {_change_text(c)}")
    lines.append(
        "same: no difference in shapes, params or MACs."
        if result.same
        else f"differ: {len(result.layers)} layer difference(s)."
    )
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


def render_markdown(result: Diff) -> str:
    title = "no difference" if result.same else "differences"
    lines = [
        f"### cnncalc diff: {title}",
        "",
        f"A: `{_md(shown(result.a_name))}`, B: `{_md(shown(result.b_name))}`",
        "",
        "| | A | B | change |",
        "|---|---:|---:|---:|",
    ]
    for key, (a, b) in result.totals.items():
        lines.append(f"| {LABELS[key]} | {a:,} | {b:,} | {delta(a, b)} |")
    if result.outputs[0] != result.outputs[1]:
        lines.append(f"| outputs | {[list(s) for s in result.outputs[0]]} | {[list(s) for s in result.outputs[1]]} | |")
    if result.layers:
        lines += ["", "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
        lines += ["| " + " | ".join(shown_markdown(c) for c in _layer_cells(d)) + " |" for d in result.layers]
    return "\n".join(lines) + "\n"


def _command_data(text: str) -> str:
    """GitHub workflow-command escaping of a message (after control characters are escaped)."""
    return shown(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """A workflow-command property value: its `:` and `,` escaped too."""
    return _command_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(result: Diff) -> str:
    """One `::error::` annotation per difference, or one `::notice::` when they agree."""
    title = _property(f"cnncalc diff {result.a_name} vs {result.b_name}")
    if result.same:
        return f"::notice title={title}::cnncalc diff: no difference in shapes, params or MACs\n"
    lines = []
    for key, (a, b) in result.totals.items():
        if a != b:
            lines.append(f"::error title={title}::{LABELS[key]}: {a:,} -> {b:,} ({delta(a, b)})")
    for d in result.layers:
        c = _layer_cells(d)
        message = f"{c[0]} layer {_change_text(c)}"
        lines.append(f"::error title={title}::{_command_data(message)}")
    return "\n".join(lines) + "\n"


def render_json(result: Diff) -> str:
    import json

    def row(r: Figures | None) -> dict[str, object] | None:
        if r is None:
            return None
        return {
            "name": r.name,
            "kind": r.kind,
            "output_shape": list(r.output_shape),
            "params": r.params,
            "macs": r.macs,
        }

    return (
        json.dumps(
            {
                "a": result.a_name,
                "b": result.b_name,
                "same": result.same,
                "totals": {k: {"a": a, "b": b, "delta": b - a} for k, (a, b) in result.totals.items()},
                "outputs": {"a": [list(s) for s in result.outputs[0]], "b": [list(s) for s in result.outputs[1]]},
                "layers": [
                    {"status": d.status, "fields": d.fields, "a": row(d.a), "b": row(d.b)} for d in result.layers
                ],
            },
            indent=2,
        )
        + "\n"
    )


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown, "github": render_github}
