"""The backward pass as `cnncalc run --backward` shows it: per layer dL/dX, dL/dW, dL/db."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cnncalc.executor.backward import Gradients, GradRecord
from cnncalc.shown import shown

ROLES = (("weights", "dL/dW"), ("bias", "dL/db"))


def gradient_fields(record: GradRecord | None, plain: Callable[[Any], Any]) -> dict[str, Any]:
    """The JSON keys a layer gains: grad_input(_shape) (a list for a merge), grad_params(_shapes) (null for
    a frozen layer's parameter), `grad_frozen` (`trainable: false`: its parameters get no gradient), and
    `grad_reached` (false: the loss, of the first output, does not depend on the layer; its gradients are 0)."""
    if record is None:  # not a node of the graph (cannot happen for a leaf): no gradient to show
        return {"grad_input_shape": None, "grad_input": None, "grad_params": {}, "grad_params_shapes": {}}
    inputs = [g[0] for g in record.grad_inputs]
    merged = len(inputs) > 1
    params = {role: record.param_grad(role) for role, _ in ROLES}
    present = {role: grad for role, grad in params.items() if grad is not None}
    frozen = {role: None for role, _ in ROLES if record.frozen_role(role)}
    return {
        "grad_input_shape": [list(g.shape) for g in inputs] if merged else list(inputs[0].shape),
        "grad_input": [plain(g) for g in inputs] if merged else plain(inputs[0]),
        "grad_params": {**{role: plain(grad) for role, grad in present.items()}, **frozen},
        "grad_params_shapes": {**{role: list(grad.shape) for role, grad in present.items()}, **frozen},
        "grad_frozen": bool(record.frozen),
        "grad_reached": record.reached,
    }


def render_gradients(console, gradients: Gradients, render: Callable[[Any, str, str, Any], None]) -> None:
    """The loss, then every layer's gradients in execution order, each drawn by `render` (run's style)."""
    console.print(f"[bold]loss[/] {gradients.loss.describe()} = {gradients.loss_value:.7g}")
    for record in gradients.records:
        if not record.reached:
            note = "every gradient is 0: the loss (of the first output) does not depend on this layer"
            console.print(f"{shown(record.name)} ({shown(record.kind)}): {note}", markup=False, highlight=False)
            continue
        many = len(record.grad_inputs) > 1
        for i, grad in enumerate(record.grad_inputs):
            label = f"dL/dX[{i}]" if many else "dL/dX"
            render(console, f"{record.name} {label}", record.kind, grad[0])
        for role, label in ROLES:
            param = record.param_grad(role)
            if param is not None:
                render(console, f"{record.name} {label}", record.kind, param)
            elif record.frozen_role(role):
                line = f"{shown(record.name)} {label} ({shown(record.kind)}): none, frozen (trainable: false)"
                console.print(line, markup=False, highlight=False)


def render_backward_report(report, max_width: int | None = None) -> object:
    """`verify --backward`: one row per node (✓/✗, shapes, worst relative error), then the times; fitted to
    `max_width` (names, kinds and shape problems shortened in the middle, numbers whole) when given."""
    from rich.console import Group
    from rich.text import Text

    from cnncalc.report.table import draw_grid

    body = []
    for layer in report.layers:
        error = f"{layer.worst_relative_error:.1e}" + (" (kink)" if layer.at_kink else "")
        if not layer.reached:
            error = "0: not on the loss's path"
        if layer.frozen:
            error += "; frozen: no dL/dW"
        shapes = "✓" if layer.shapes_match else "; ".join(layer.shape_problems)
        body.append(
            (["✓" if layer.ok else "✗", layer.name, layer.kind, shapes, error], None if layer.ok else "bold red")
        )
    headers = ["", "Layer", "Kind", "Gradient shapes", "Worst rel. error"]  # the title says against what
    title = f"{report.name}: backward pass ({report.loss}) vs finite differences"
    grid = draw_grid(title, headers, body, None, [False] * 4 + [True], max_width, [False, True, True, True, False], 1)
    failed = len(report.failures)
    verdict = "every gradient checks out" if report.ok else f"{failed} layer(s) fail"
    ratio = report.backward_seconds / report.forward_seconds if report.forward_seconds else 0.0
    caption = (
        f"{verdict} (tolerance {report.tolerance:g}, {report.samples} sampled coordinates per tensor, float64 "
        f"differences); forward {report.forward_seconds * 1000:.1f} ms, "
        f"backward {report.backward_seconds * 1000:.1f} ms ({ratio:.2f}x), "
        f"checks {report.check_seconds:.2f} s. (kink): a tie or ReLU at 0, left out of the error."
    )
    if not all(layer.reached for layer in report.layers):
        caption += " The loss is of the first output: layers only other outputs need have zero gradients."
    return Group(grid, Text(caption, style="green" if report.ok else "bold red"))
