"""Start-up of `cnncalc table SPEC` against the import floor of its own dependencies, as interleaved pairs.

Usage: python benchmarks/startup.py [SPEC] [--runs N]

Each round runs the floor (`python -c "import typer, rich, pydantic, yaml"`), the floor plus pydantic's
BaseModel, the floor plus one one-field pydantic model validated once, then `cnncalc table SPEC --format json`,
then the rich table, one fresh process each; so a busy machine slows them alike. Prints each one's median, the
ratio of medians against the floor (targets: json 1.3x, table 1.4x), the median of the per-round ratios, and the
ratios against the floor with BaseModel and with one model. The package is
byte-compiled first, as `pip install` does (PYTHONDONTWRITEBYTECODE would otherwise make every run compile
cnncalc's sources again).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"json": 1.3, "table": 1.4}
ONE_MODEL = (
    "import typer, rich, pydantic, yaml\nfrom pydantic import BaseModel\n"
    "class Model(BaseModel):\n    x: int = 0\nModel(x=1)"
)
HEAVY = ("numpy", "email", "socket", "onnx", "matplotlib", "typer._adapters", "importlib.metadata")


def run_once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from cnncalc.cli import main; sys.argv[0] = 'cnncalc'; main()", *args]


def loaded_modules(spec: str) -> tuple[int, list[str]]:
    probe = (
        f"import sys; sys.argv = ['cnncalc', 'table', {spec!r}, '--format', 'json']\n"
        "from cnncalc.cli import app\ntry: app()\nexcept SystemExit: pass\n"  # app, not main: main leaves at once
        f"print(len(sys.modules), [m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False, cwd=ROOT)
    count, heavy = result.stderr.strip().splitlines()[-1].split(" ", 1)
    return int(count), eval(heavy)  # our own probe's output: a list literal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("spec", nargs="?", default="resnet50")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    compileall.compile_dir(str(ROOT / "cnncalc"), quiet=1)
    commands = {
        "floor": [sys.executable, "-c", "import typer, rich, pydantic, yaml"],
        # The floor plus pydantic's BaseModel (which `import pydantic` leaves unloaded): what any program with one
        # pydantic model pays before its own code runs. The issue keeps pydantic layer models, so this is the
        # lowest cnncalc can go; the last column is each command's time against it.
        "pydantic": [sys.executable, "-c", "import typer, rich, pydantic, yaml; from pydantic import BaseModel"],
        # ...and one model with one field, validated once: a field's class creation imports pydantic.fields (and
        # with it pydantic.types, annotated_types, secrets/hmac/_hashlib), and the first validation builds a core
        # schema. Any program that validates input with a pydantic model pays this much.
        "model": [sys.executable, "-c", ONE_MODEL],
        "json": cli("table", args.spec, "--format", "json"),
        "table": cli("table", args.spec),
    }
    env_cols = os.environ.setdefault("COLUMNS", "80")
    for command in commands.values():  # warm the OS file cache: "cold" is a fresh process, not a cold disk
        run_once(command)
    times: dict[str, list[float]] = {key: [] for key in commands}
    for _ in range(args.runs):
        for key, command in commands.items():
            times[key].append(run_once(command))
    floor = statistics.median(times["floor"])
    pydantic_floor = statistics.median(times["pydantic"])
    model_floor = statistics.median(times["model"])
    print(f"cnncalc table {args.spec}: {args.runs} interleaved rounds (COLUMNS={env_cols}), fresh processes")
    print(f"  {'':8} {'median':>9} {'min':>9}  {'ratio':>6}  {'per-round':>9}  {'/pydantic':>9}  {'/model':>6}  target")
    for key, values in times.items():
        median = statistics.median(values)
        per_round = statistics.median(v / f for v, f in zip(values, times["floor"]))
        target = TARGETS.get(key)
        verdict = "" if target is None else f"{target:.1f}x {'met' if median / floor <= target else 'NOT met'}"
        print(
            f"  {key:8} {median * 1000:7.1f}ms {min(values) * 1000:7.1f}ms  {median / floor:5.2f}x  "
            f"{per_round:8.2f}x  {median / pydantic_floor:8.2f}x  {median / model_floor:5.2f}x  {verdict}"
        )
    count, heavy = loaded_modules(args.spec)
    print(f"modules loaded by --format json: {count}; heavy ones: {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
