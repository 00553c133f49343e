"""Forward-pass time and peak memory of the NumPy executor on ResNet-50 (224x224, batch 1), vs PyTorch CPU.

Run: /work/torchenv/bin/python benchmarks/verify_resnet50.py [SPEC] [--runs 7] [--batch 1]
Prints the median of `--runs` timed forward passes (after one warm-up), the peak memory the
pass allocates (tracemalloc; the weights and the fast path's prepared copies are shown apart),
and, when torch is importable, the same network run by torch.nn.functional with the same weights and
the same thread count.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

# The checkout this file is in, not whichever cnncalc is installed: `python benchmarks/...` puts only
# benchmarks/ on the path, so an editable install of another worktree would be measured instead.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cnncalc
from cnncalc.executor.forward import Executor
from cnncalc.layers import Layer
from cnncalc.spec.build import load_spec
from cnncalc.spec.model import Spec

ROOT = Path(__file__).resolve().parent.parent


def blas_threads() -> int:
    """Threads NumPy's BLAS uses: the usual environment variables, else every core (OpenBLAS' default)."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return os.cpu_count() or 1


def numpy_setup(spec: Spec, batch: int) -> tuple[Executor, np.ndarray]:
    """Weights are created first (empty-batch pass), so the timed passes do only the forward work."""
    executor = Executor(seed=0)
    executor.prepare(spec)
    return executor, executor.make_input(spec, batch)


def numpy_peak(spec: Spec, executor: Executor, x: np.ndarray) -> int:
    """Bytes allocated at the worst moment of one forward pass (tracemalloc; weights were allocated before)."""
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    executor.forward(spec, x)
    peak = tracemalloc.get_traced_memory()[1] - baseline
    tracemalloc.stop()
    return peak


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


# Issue 14's targets, numpy / torch medians, by spec name and thread count.
TARGETS = {"ResNet-50": {1: 1.2, 2: 1.3}, "MobileNetV2": {1: 1.4, 2: 1.4}, "VGG-16": {1: 1.4, 2: 1.4}}

GEMM = (256, 2304, 196)  # ResNet-50 layer3's 3x3 conv as a GEMM: C_out x (C_in*3*3) x (14*14)


def gemm_gflops(matmul, to_array) -> float:
    """Throughput of one conv-shaped float32 GEMM, median of 20."""
    m, k, n = GEMM
    a = to_array(np.random.default_rng(0).standard_normal((m, k), dtype=np.float32))
    b = to_array(np.random.default_rng(1).standard_normal((k, n), dtype=np.float32))
    matmul(a, b)
    return 2 * m * k * n / statistics.median(timed(matmul, a, b) for _ in range(20)) / 1e9


def torch_forward(spec: Spec, executor: Executor):
    """A torch.nn.functional translation of the spec, using the executor's parameters (the kinds ResNets use)."""
    import torch
    import torch.nn.functional as F

    params = {key: torch.from_numpy(array) for key, array in executor.params.arrays.items()}

    def leaf(layer: Layer, x):
        p = lambda name: params.get((layer.path, name))  # noqa: E731
        kind, nd = layer.kind, x.dim() - 2
        if kind == "conv":
            g = layer.geometry(tuple(x.shape[1:]))
            pads = g.pads
            if any(b != a for b, a in pads):
                x = F.pad(x, [n for pair in reversed(pads) for n in pair])
                pads = ((0, 0),) * nd
            conv = (F.conv1d, F.conv2d, F.conv3d)[nd - 1]
            return conv(x, p("weights"), p("bias_values"), g.stride, [b for b, _ in pads], g.dilation, layer.groups)
        if kind == "batchnorm":
            return F.batch_norm(x, p("running_mean"), p("running_var"), p("weight"), p("bias"), False, 0.0, layer.eps)
        if kind == "relu":
            return F.relu(x)
        if kind == "relu6":
            return F.relu6(x)
        if kind in ("dropout", "identity"):
            return x
        if kind == "maxpool":
            g = layer.geometry(tuple(x.shape[1:]))
            if any(b != a for b, a in g.pads) or g.ceil_mode:
                raise NotImplementedError("benchmark translation: maxpool with uneven padding or ceil_mode")
            pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[nd - 1]
            return pool(x, g.kernel, g.stride, [b for b, _ in g.pads], g.dilation)
        if kind in ("adaptive_avgpool", "global_avgpool"):
            size = getattr(layer, "output_size", 1)
            return (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d)[nd - 1](x, size)
        if kind == "flatten":
            return torch.flatten(x, 1)
        if kind == "linear":
            return F.linear(x, p("weights"), p("bias_values"))
        raise NotImplementedError(f"benchmark translation has no torch op for `{kind}`")

    def run(x):
        values = [x]
        for node in spec.graph.nodes[1:]:
            inputs = [values[i] for i in node.inputs]
            if node.op.kind in ("residual", "add"):  # a residual's merge, or `add: {from: [...]}`
                values.append(inputs[0] + inputs[1])
            elif node.op.kind == "concat":
                values.append(torch.cat(inputs, dim=1))
            else:
                values.append(leaf(node.op, inputs[0]))
        return values[spec.graph.outputs[0][1]]

    return run


def measure(spec_path: str, engine: str, batch: int, runs: int) -> dict:
    """One engine in this process: per-run seconds (after a warm-up), plus memory or agreement figures."""
    spec = load_spec(spec_path)
    threads = blas_threads()
    executor, x = numpy_setup(spec, batch)
    if engine == "numpy":
        executor.forward(spec, x)
        times = [timed(executor.forward, spec, x) for _ in range(runs)]
        peak = numpy_peak(spec, executor, x)
        return {
            "times": times,
            "peak": peak,
            "weights": executor.params.nbytes,
            "prepared": executor.prepared_nbytes,
            "gemm": gemm_gflops(np.matmul, np.asarray),
        }
    import torch

    torch.set_num_threads(threads)
    torch.set_grad_enabled(False)
    forward, x_torch = torch_forward(spec, executor), torch.from_numpy(x)
    output = forward(x_torch).numpy()
    times = [timed(forward, x_torch) for _ in range(runs)]
    expected = executor.forward(spec, x)
    agreement = float(np.abs(expected - output).max() / np.abs(output).max())
    return {
        "times": times,
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "agreement": agreement,
        "gemm": gemm_gflops(torch.mm, torch.from_numpy),
    }


def child(spec_path: str, engine: str, batch: int, runs: int) -> dict:
    """Run `measure` in a fresh process: NumPy's OpenBLAS and torch's OpenMP threads must not share one."""
    command = [sys.executable, __file__, spec_path, "--engine", engine, "--batch", str(batch), "--runs", str(runs)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default=str(ROOT / "specs" / "resnet50.yaml"))
    parser.add_argument("--runs", type=int, default=5, help="timed passes per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating NumPy/torch processes")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--engine", choices=["numpy", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:
        print(json.dumps(measure(args.spec, args.engine, args.batch, args.runs)))
        return
    has_torch = importlib.util.find_spec("torch") is not None
    numpy_times, torch_times, numpy_info, torch_info = [], [], {}, {}
    for _ in range(args.rounds):  # alternate, so both see similar machine load
        numpy_info = child(args.spec, "numpy", args.batch, args.runs)
        numpy_times += numpy_info["times"]
        if has_torch:
            torch_info = child(args.spec, "torch", args.batch, args.runs)
            torch_times += torch_info["times"]
    spec = load_spec(args.spec)
    numpy_median = statistics.median(numpy_times)
    print(f"spec: {spec.name}, input {list(spec.input_shape)}, batch {args.batch}, {blas_threads()} BLAS thread(s)")
    print(f"cnncalc measured: {Path(cnncalc.__file__).parent}")
    print(
        f"numpy forward: median {numpy_median * 1000:.1f} ms of {len(numpy_times)} (min {min(numpy_times) * 1000:.1f})"
    )
    print(f"numpy peak memory during the pass: {numpy_info['peak'] / 2**20:.1f} MiB", end=" ")
    print(
        f"(allocated before: weights {numpy_info['weights'] / 2**20:.1f} MiB, "
        f"the fast path's folded convs and Winograd filters {numpy_info['prepared'] / 2**20:.1f} MiB)"
    )
    if not has_torch:
        print("torch not importable: no comparison")
        return
    torch_median = statistics.median(torch_times)
    print(
        f"torch {torch_info['version']} forward ({torch_info['threads']} threads): "
        f"median {torch_median * 1000:.1f} ms of {len(torch_times)} (min {min(torch_times) * 1000:.1f})"
    )
    ratio = numpy_median / torch_median
    target = TARGETS.get(spec.name, {}).get(torch_info["threads"])
    verdict = f"target {target}x: {'met' if ratio <= target else 'NOT met'}" if target else "no target for this"
    print(f"ratio numpy / torch: {ratio:.2f}x ({verdict})")
    m, k, n = GEMM
    print(f"GEMM {m}x{k}x{n} float32: numpy {numpy_info['gemm']:.0f} GFLOPS, torch.mm {torch_info['gemm']:.0f} GFLOPS")
    print(f"outputs agree to {torch_info['agreement']:.1e} of the largest value (float32, same weights)")


if __name__ == "__main__":
    main()
