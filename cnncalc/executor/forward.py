"""Walk a spec's layer tree with real arrays and record what each layer produced."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnncalc.errors import EXIT_CHECK_FAILED, CnncalcError
from cnncalc.executor.ops import OPS
from cnncalc.executor.weights import ParamStore
from cnncalc.layers import Layer, Structure
from cnncalc.spec.model import Spec


class ExecutionError(CnncalcError):
    """The forward pass failed on a spec the engine accepted: a disagreement, so a failed check."""

    exit_code = EXIT_CHECK_FAILED


@dataclass
class LayerRecord:
    """What one layer (or structure) produced: shape without batch, its own params, maybe its values."""

    layer: Layer
    shape: tuple[int, ...] = ()
    params: int = 0
    values: np.ndarray | None = None
    leaf: bool = True

    @property
    def name(self) -> str:
        return self.layer.path

    @property
    def kind(self) -> str:
        return self.layer.kind_label


class Executor:
    """Runs specs forward on [N, C, *spatial] arrays; parameters are created once and kept."""

    def __init__(
        self,
        seed: int = 0,
        dtype: Any = np.float32,
        keep_values: bool = False,
        on_layer: Callable[[LayerRecord], None] | None = None,
    ):
        self.seed = seed
        self.dtype = np.dtype(dtype)
        self.params = ParamStore(seed, self.dtype)
        self.keep_values = keep_values
        self.on_layer = on_layer
        self.records: list[LayerRecord] = []

    def make_input(self, spec: Spec, batch: int = 1) -> np.ndarray:
        """The spec's input values (repeated over the batch), else seeded standard normals."""
        if spec.input_values is not None:
            one = np.asarray(spec.input_values, dtype=self.dtype).reshape(spec.input_shape)
            return np.broadcast_to(one, (batch, *one.shape)).copy()
        rng = np.random.default_rng([self.seed, 1])  # apart from the weights' stream
        return rng.standard_normal((batch, *spec.input_shape), dtype=np.float32).astype(self.dtype, copy=False)

    def prepare(self, spec: Spec) -> None:
        """Create every parameter with an empty batch, so a timed forward pass does no set-up."""
        on_layer, self.on_layer = self.on_layer, None
        try:
            self.forward(spec, np.zeros((0, *spec.input_shape), self.dtype))
        finally:
            self.on_layer = on_layer

    def forward(self, spec: Spec, x: np.ndarray) -> np.ndarray:
        """Run all layers on `x` [N, *input_shape]; `self.records` then holds one record per layer."""
        self.records = []
        return self.run(spec.layers, x)

    def run(self, layers: list[Layer], x: np.ndarray) -> np.ndarray:
        for layer in layers:
            x = self.apply(layer, x)
        return x

    def apply(self, layer: Layer, x: np.ndarray) -> np.ndarray:
        record = LayerRecord(layer, leaf=not isinstance(layer, Structure))
        self.records.append(record)  # parents before their children, as the engine lists rows
        first_child = len(self.records)
        fn = OPS.get(type(layer))
        if fn is None:
            raise ExecutionError(
                f"layer `{layer.path}`: the executor has no forward function for kind `{layer.kind}`.",
                layer.source,
                "Register one in cnncalc/executor/ops.py.",
            )
        try:
            y = fn(layer, x, self)
        except CnncalcError:
            raise
        except (ValueError, TypeError, IndexError, FloatingPointError) as exc:
            raise ExecutionError(
                f"layer `{layer.path}` ({layer.kind}) failed on input {list(x.shape[1:])}: {exc}", layer.source
            ) from exc
        record.shape = tuple(y.shape[1:])
        if record.leaf:
            record.params = self.params.trainable.get(layer.path, 0)
        else:
            record.params = sum(r.params for r in self.records[first_child:] if r.leaf)
        if self.keep_values:
            record.values = y
        if self.on_layer is not None:
            self.on_layer(record)
        return y


def run_spec(spec: Spec, seed: int = 0, batch: int = 1, dtype: Any = np.float32) -> tuple[Executor, np.ndarray]:
    """Forward the spec's input (or a seeded random one), keeping every layer's values."""
    executor = Executor(seed, dtype, keep_values=True)
    executor.prepare(spec)
    return executor, executor.forward(spec, executor.make_input(spec, batch))
