"""Backward-pass time of the NumPy executor against its forward pass (ResNet-50, 224x224, batch 1).

Run: python benchmarks/backward_resnet50.py [SPEC] [--runs 7]
Forward and backward passes alternate (so both see the same machine load); prints the medians,
the ratio (issue 13's target: `verify --backward resnet50` within 3x the forward pass), and the
time of the finite-difference checks `verify --backward` runs after them.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from cnncalc.executor.backward import Loss, backward
from cnncalc.executor.forward import Executor
from cnncalc.executor.gradcheck import check_gradients
from cnncalc.spec.build import load_spec

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default=str(ROOT / "specs" / "resnet50.yaml"))
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    spec = load_spec(args.spec)
    executor = Executor(0, np.float32, keep_values=True)
    executor.prepare(spec)
    x = executor.make_input(spec)
    executor.forward(spec, x)
    gradients = backward(spec, executor, x, Loss())  # warm-up
    forward_times, backward_times = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        executor.forward(spec, x)
        middle = time.perf_counter()
        gradients = backward(spec, executor, x, Loss())
        backward_times.append(time.perf_counter() - middle)
        forward_times.append(middle - start)
    start = time.perf_counter()
    checks = check_gradients(spec, executor, x, gradients)
    check_seconds = time.perf_counter() - start
    forward, back = statistics.median(forward_times), statistics.median(backward_times)
    print(f"spec: {spec.name}, input {list(spec.input_shape)}, batch 1, float32, {args.runs} runs each")
    print(f"forward:  median {forward * 1000:.0f} ms (min {min(forward_times) * 1000:.0f})")
    print(f"backward: median {back * 1000:.0f} ms (min {min(backward_times) * 1000:.0f})")
    print(f"backward / forward: {back / forward:.2f}x median, {min(backward_times) / min(forward_times):.2f}x min")
    worst = max(c.error for c in checks)
    print(f"finite-difference checks (float64, {len(checks)} layers): {check_seconds:.1f} s, worst error {worst:.1e}")


if __name__ == "__main__":
    main()
