"""The machine-readable report; its keys are fixed by shared/spec-language.md."""

from __future__ import annotations

from typing import Any

from cnncalc.engine.propagate import Analysis, LayerRow


def layer_dict(row: LayerRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "kind": row.kind,
        "input_shape": list(row.input_shape),
        "output_shape": list(row.output_shape),
        "inputs": row.inputs,
        "params": row.params,
        "trainable_params": row.trainable_params,
        "macs": row.macs,
        "flops": row.flops,
        "depth": row.depth,
        **_extras_dict(row),
    }


def _extras_dict(row: LayerRow) -> dict[str, Any]:
    """Receptive field (per spatial dim; null where not covered) and memory, when computed."""
    found: dict[str, Any] = {}
    rf = row.receptive_field
    if rf is not None:
        found["receptive_field"] = list(rf.size) if rf.size is not None else None
        found["receptive_field_kind"] = rf.status
        found["effective_stride"] = list(rf.jump) if rf.jump is not None else None
        found["receptive_field_start"] = list(rf.start) if rf.status == "window" and rf.start is not None else None
    memory = row.memory
    if memory is not None:
        found["activations"] = memory.activations
        found["activation_bytes"] = memory.activation_bytes
        found["param_bytes"] = memory.param_bytes
    if row.backward is not None:
        found["backward_macs"] = row.backward.macs
    return found


def analysis_dict(analysis: Analysis, dtype: str = "float32", batch: int = 1) -> dict[str, Any]:
    """The stable JSON report: leaf layers in execution order, with totals."""
    from cnncalc.engine import backward_cost, memory, receptive_field

    backward_macs = backward_cost.annotate(analysis)
    fields = receptive_field.annotate(analysis)
    estimate = memory.annotate(analysis, dtype, batch)
    spec = analysis.spec
    return {
        "name": spec.name,
        "file": spec.file,
        "input_shape": list(spec.input_shape),
        "output_shape": list(analysis.output_shape),
        "outputs": [{"name": name, "shape": list(shape)} for name, shape in analysis.outputs],
        "totals": {
            "params": analysis.params,
            "trainable_params": analysis.trainable_params,
            "non_trainable_params": analysis.non_trainable_params,
            "buffers": analysis.buffers,
            "macs": analysis.macs,
            "flops": analysis.flops,
            "backward_macs": backward_macs,
            "train_macs": analysis.macs + backward_macs,
            "memory": estimate.totals(),
        },
        "layers": [layer_dict(row) for row in analysis.leaves],
        "warnings": list(analysis.warnings),
        "receptive_field_warnings": fields.warnings,
    }


def render_json(analysis: Analysis, dtype: str = "float32", batch: int = 1) -> str:
    from cnncalc.report.json_text import dumps  # indented outside, one line per layer: the C encoder's speed

    return dumps(analysis_dict(analysis, dtype, batch))


def render_json_list(analyses: list[Analysis], dtype: str = "float32", batch: int = 1) -> str:
    """Several specs: a list of their reports, as `verify` prints for several specs."""
    from cnncalc.report.json_text import dumps

    return dumps([analysis_dict(analysis, dtype, batch) for analysis in analyses], depth=3)
