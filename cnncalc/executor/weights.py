"""Parameter arrays: the spec's own numbers, or seeded random ones (created once, then reused)."""

from __future__ import annotations

from math import prod
from typing import Any

import numpy as np

from cnncalc.layers import Layer


class ParamStore:
    """Creates each layer's arrays on first use (keyed by layer path and name) and counts them.

    Random weights are He-scaled normals (std sqrt(2 / fan_in)), which keeps activations finite
    through deep ReLU networks such as ResNet-50.
    """

    def __init__(self, seed: int = 0, dtype: Any = np.float32):
        self.rng = np.random.default_rng(seed)
        self.dtype = np.dtype(dtype)
        self.arrays: dict[tuple[str, str], np.ndarray] = {}
        self.trainable: dict[str, int] = {}  # layer path -> number of trainable values

    def get(
        self,
        layer: Layer,
        name: str,
        shape: tuple[int, ...],
        *,
        given: Any = None,
        fan_in: int | None = None,
        fill: str = "he",
        trainable: bool = True,
    ) -> np.ndarray:
        """The array `name` of `layer`; `given` (spec numbers) wins, else `fill` decides the values."""
        key = (layer.path, name)
        if key in self.arrays:
            return self.arrays[key]
        if given is not None:
            array = np.asarray(given, dtype=self.dtype)
            if array.size != prod(shape):
                raise layer.error(
                    f"`{name}` holds {array.size} numbers, but this layer needs {list(shape)} ({prod(shape)}).",
                    name,
                )
            array = array.reshape(shape)  # size-1 axes may be left out in the spec
        else:
            array = self._random(shape, fan_in, fill)
        self.arrays[key] = array
        if trainable:
            self.trainable[layer.path] = self.trainable.get(layer.path, 0) + array.size
        return array

    def _random(self, shape: tuple[int, ...], fan_in: int | None, fill: str) -> np.ndarray:
        rng = self.rng
        values: np.ndarray
        if fill == "he":
            values = rng.standard_normal(shape, dtype=np.float32)
            values *= np.float32(np.sqrt(2.0 / max(fan_in or 1, 1)))  # in place: VGG-16 has 138M weights
        elif fill == "small":  # biases, batchnorm shift, running mean
            values = rng.uniform(-0.1, 0.1, shape)
        elif fill == "near_one":  # batchnorm scale
            values = rng.uniform(0.8, 1.2, shape)
        elif fill == "positive":  # running variance
            values = rng.uniform(0.5, 1.5, shape)
        else:
            raise ValueError(f"unknown fill {fill!r}")
        return np.asarray(values, dtype=self.dtype)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays.values())
