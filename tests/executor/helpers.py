"""Shared by the executor tests: build a one-off spec from Python data and run it forward."""

from __future__ import annotations

from typing import Any

import numpy as np
import yaml

from cnncalc.executor.forward import Executor
from cnncalc.spec.build import parse_spec
from cnncalc.spec.model import Spec


def make_spec(input_shape: tuple[int, ...], layers: list[Any]) -> Spec:
    """A spec from plain data, e.g. make_spec((2, 5, 5), [{"conv": {"out_channels": 3, "kernel_size": 3}}])."""
    return parse_spec(yaml.safe_dump({"input": list(input_shape), "layers": layers}))


def execute(spec: Spec, x: np.ndarray, seed: int = 0, dtype: Any = np.float64) -> tuple[Executor, np.ndarray]:
    """Run `spec` on the batch `x`; the executor keeps its parameters (executor.params.arrays)."""
    executor = Executor(seed, dtype, keep_values=True)
    return executor, executor.forward(spec, np.asarray(x, dtype))


def param(executor: Executor, path: str, name: str) -> np.ndarray:
    return executor.params.arrays[(path, name)]
