"""Compare the shapes and parameter counts the executor produced with the engine's.

Timing and memory: parameters are created first (a forward pass on an empty batch), then one warm-up pass
(whose records are checked), then `runs` timed passes (`time.perf_counter`; median and minimum reported).
Peak memory is measured with `tracemalloc` (NumPy reports its array buffers to it) over one more pass of
its own, so tracing never slows a timed one: the most memory the pass allocated at once (activations,
im2col columns), not counting the weights, which were allocated before and are reported as `weights_bytes`.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from cnncalc.engine.propagate import Analysis, analyze
from cnncalc.executor.forward import Executor, LayerRecord
from cnncalc.layers import Layer, Structure
from cnncalc.spec.model import Spec


@dataclass
class LayerCheck:
    """One layer: what the engine computed and what the forward pass produced."""

    name: str
    kind: str
    expected_shape: list[int]
    executed_shape: list[int] | None
    expected_params: int
    executed_params: int | None
    match: bool
    depth: int = field(default=0, repr=False)  # nesting, and the name within the enclosing layer: for a
    short_name: str = field(default="", repr=False)  # terminal's indented table, not the JSON


@dataclass
class VerifyReport:
    """The JSON of `cnncalc verify --format json` for one spec (`to_dict`)."""

    name: str
    match: bool
    forward_seconds: float  # the median of the timed passes
    peak_memory_bytes: int
    weights_bytes: int
    batch: int
    seed: int
    layers: list[LayerCheck]
    forward_seconds_min: float = 0.0
    runs: int = 1
    times: list[float] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["times"]
        for layer in data["layers"]:
            del layer["depth"], layer["short_name"]
        return data

    @property
    def mismatches(self) -> list[LayerCheck]:
        return [layer for layer in self.layers if not layer.match]


def verify_spec(
    spec: Spec,
    analysis: Analysis | None = None,
    seed: int = 0,
    batch: int = 1,
    on_layer: Callable[[LayerRecord], None] | None = None,
    runs: int = 1,
) -> VerifyReport:
    """Run the spec forward and check every layer against the engine (computed here if not given);
    then `runs` timed passes and one traced for memory."""
    analysis = analysis or analyze(spec)
    executor = Executor(seed)
    executor.prepare(spec)
    x = executor.make_input(spec, batch)
    executor.on_layer = on_layer
    executor.forward(spec, x)  # the warm-up: its records are the ones checked
    executed = executed_rows(executor, x)
    executor.on_layer = None
    times = []
    for _ in range(max(runs, 1)):
        start = time.perf_counter()
        executor.forward(spec, x)
        times.append(time.perf_counter() - start)
    peak = traced_peak(executor, spec, x)
    checks = [_check(row.name, row.kind, row.output_shape, row.params, executed.get(row.name)) for row in analysis.rows]
    for check, row in zip(checks, analysis.rows):
        check.depth = row.depth
        check.short_name = row.name[len(row.parent.name) + 1 :] if row.parent is not None else row.name
    return VerifyReport(
        name=spec.name,
        match=all(check.match for check in checks),
        forward_seconds=statistics.median(times),
        peak_memory_bytes=max(peak, 0),
        weights_bytes=executor.params.nbytes,
        batch=batch,
        seed=seed,
        layers=checks,
        forward_seconds_min=min(times),
        runs=len(times),
        times=times,
    )


def traced_peak(executor: Executor, spec: Spec, x: np.ndarray) -> int:
    """Bytes allocated at the worst moment of one forward pass, traced on its own."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    try:
        executor.forward(spec, x)
        return tracemalloc.get_traced_memory()[1] - baseline
    finally:
        if not was_tracing:
            tracemalloc.stop()


def executed_rows(executor: Executor, x: np.ndarray) -> dict[str, tuple[tuple[int, ...], int]]:
    """Each tree row's executed (shape, params): a leaf's from its node, a structure's from its output
    node and the params its leaves' nodes made. Only the tree and the records are read, never the engine."""
    by_node = {record.node.index: record for record in executor.records}
    found: dict[str, tuple[tuple[int, ...], int]] = {}

    def visit(layers: list[Layer]) -> int:
        total = 0
        for layer in layers:
            record = by_node.get(layer.output_node)
            shape = record.shape if record is not None else tuple(x.shape[1:])  # an identity reads the input
            if isinstance(layer, Structure):
                params = sum(visit(group) for group in layer.groups())
            else:
                params = record.params if record is not None else 0
            found[layer.path] = (shape, params)
            total += params
        return total

    visit(executor.spec_layers)
    return found


def _check(
    name: str, kind: str, shape: tuple[int, ...], params: int, executed: tuple[tuple[int, ...], int] | None
) -> LayerCheck:
    executed_shape = list(executed[0]) if executed else None
    executed_params = executed[1] if executed else None
    return LayerCheck(
        name=name,
        kind=kind,
        expected_shape=list(shape),
        executed_shape=executed_shape,
        expected_params=params,
        executed_params=executed_params,
        match=executed_shape == list(shape) and executed_params == params,
    )
