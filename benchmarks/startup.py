"""Cold-process time of `cnncalc table <spec>` (target: < 0.25 s on 2 cores).

Usage: python benchmarks/startup.py [SPEC] [--runs N]
Prints min / median wall time of whole processes and the slowest imports.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def time_runs(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def slowest_imports(spec: str, count: int = 8) -> list[tuple[int, str]]:
    code = f"import sys; sys.argv = ['cnncalc', 'table', {spec!r}]; from cnncalc.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    )
    rows = []
    for line in result.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    top_level = [(us, name) for us, name in rows if not name.startswith("  ")]
    return sorted(top_level, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("spec", nargs="?", default="resnet50")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    script = shutil.which("cnncalc") or ""
    command = [script, "table", args.spec] if script else [sys.executable, "-m", "cnncalc", "table", args.spec]
    time_runs(command, 2)  # warm the OS file cache; "cold" means a fresh process, not a cold disk
    times = time_runs(command, args.runs)
    print(f"cnncalc table {args.spec}: {args.runs} fresh processes")
    print(
        f"  min {min(times) * 1000:.0f} ms   median {statistics.median(times) * 1000:.0f} ms   "
        f"max {max(times) * 1000:.0f} ms"
    )
    print("slowest top-level imports (cumulative):")
    for us, name in slowest_imports(args.spec):
        print(f"  {us / 1000:7.1f} ms  {name.strip()}")
    probe = (
        f"import sys; sys.argv = ['cnncalc', 'table', {args.spec!r}]\n"
        "from cnncalc.cli import main\ntry: main()\nexcept SystemExit: pass\n"
        "print('numpy' in sys.modules, file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    numpy_loaded = result.stderr.strip().splitlines()[-1]
    print(f"numpy imported on this path: {numpy_loaded}")


if __name__ == "__main__":
    main()
