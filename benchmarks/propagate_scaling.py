"""Propagation stays linear in the number of layers: load + analyze at 1,000 and 10,000 layers, side by side.

    python benchmarks/propagate_scaling.py

Prints the median of 5 runs for each size and the ratio (10x the layers should take about 10x the time, and the
10,000-layer spec about a second on the 2-core development machine). Two shapes of spec: a flat list, and a
`repeat` of a residual block that reads an earlier layer by name (`from:`), so the graph's name lookups count too.
"""

from __future__ import annotations

import statistics
import time

from cnncalc import analyze, parse_spec


def flat(layers: int) -> str:
    body = "".join("  - conv: {out_channels: 8, kernel_size: 3, padding: 1}\n  - relu\n" for _ in range(layers // 2))
    return "input: [8, 16, 16]\nlayers:\n" + body


def graph(layers: int) -> str:
    # 5 rows per copy: the residual, its conv, a relu that reads `input` by name, the add, and the copy itself.
    return (
        "input: [8, 16, 16]\nlayers:\n"
        f"  - repeat:\n      times: {layers // 5}\n      layers:\n"
        "        - residual:\n            body:\n"
        "              - conv: {name: a, out_channels: 8, kernel_size: 3, padding: 1}\n"
        "              - relu: {from: input}\n"
        "              - add: {from: [a, relu1]}\n"
    )


def seconds(text: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        analyze(parse_spec(text))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    for name, make in (("flat", flat), ("graph", graph)):
        small, large = seconds(make(1_000)), seconds(make(10_000))
        print(
            f"{name:5}: 1,000 layers {small * 1e3:7.1f} ms | 10,000 layers {large * 1e3:7.1f} ms | {large / small:.1f}x"
        )


if __name__ == "__main__":
    main()
