"""Backward-pass time of the NumPy executor against its forward pass (ResNet-50, 224x224, batch 1).

Run: python benchmarks/backward_resnet50.py [SPEC] [--runs 7]
Forward and backward passes alternate (so both see the same machine load); prints the medians,
the ratio, the time of the finite-difference checks `verify --backward` runs after them, and the
wall time of the whole commands `cnncalc verify SPEC` and `cnncalc verify SPEC --backward`
(issue 13's target: the backward verification within 3x the forward one).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
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
    print(f"finite-difference checks (float64, {len(checks)} layers): {check_seconds:.2f} s, worst error {worst:.1e}")
    command = [shutil.which("cnncalc") or sys.executable, "verify", args.spec]
    if not shutil.which("cnncalc"):
        command[1:1] = ["-m", "cnncalc"]
    walls = {"": [], "--backward": []}
    for _ in range(3):  # alternate the two commands
        for flag, times in walls.items():
            start = time.perf_counter()
            subprocess.run([*command, *([flag] if flag else [])], check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
    plain, with_backward = statistics.median(walls[""]), statistics.median(walls["--backward"])
    print(f"`cnncalc verify`: {plain:.2f} s; `cnncalc verify --backward`: {with_backward:.2f} s ", end="")
    print(f"({with_backward / plain:.2f}x; whole processes, median of 3)")


if __name__ == "__main__":
    main()
