"""The machine-readable report; its keys are fixed by shared/spec-language.md."""

from __future__ import annotations

import json
from typing import Any

from cnncalc.engine.propagate import Analysis, LayerRow


def layer_dict(row: LayerRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "kind": row.kind,
        "input_shape": list(row.input_shape),
        "output_shape": list(row.output_shape),
        "params": row.params,
        "macs": row.macs,
        "flops": row.flops,
        "depth": row.depth,
    }


def analysis_dict(analysis: Analysis) -> dict[str, Any]:
    """The stable JSON report: leaf layers in execution order, with totals."""
    spec = analysis.spec
    return {
        "name": spec.name,
        "file": spec.file,
        "input_shape": list(spec.input_shape),
        "output_shape": list(analysis.output_shape),
        "totals": {
            "params": analysis.params,
            "trainable_params": analysis.trainable_params,
            "buffers": analysis.buffers,
            "macs": analysis.macs,
            "flops": analysis.flops,
        },
        "layers": [layer_dict(row) for row in analysis.leaves],
        "warnings": list(analysis.warnings),
    }


def render_json(analysis: Analysis) -> str:
    return json.dumps(analysis_dict(analysis), indent=2)
