"""Write tests/reference/<spec>.json: PyTorch's own figures for every shipped architecture.

Run in an environment with torch (torchvision not needed):
    python benchmarks/torch_reference.py            # (re)write the files
    python benchmarks/torch_reference.py --check    # exit 1 if a file differs from PyTorch now
Per leaf layer: output shape (forward hooks), params (`numel` of its parameters), MACs
(torch.utils.flop_counter.FlopCounterMode / 2); see tests/torch_oracle.py. CI has no torch;
tests/test_zoo.py compares cnncalc with these files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference"
COMMAND = "python benchmarks/torch_reference.py"


def architecture_specs() -> list[Path]:
    """The shipped real architectures (the lecture's seed_* worked examples are left out)."""
    return [p for p in sorted((ROOT / "specs").glob("*.yaml")) if not p.stem.startswith("seed_")]


def reference_for(path: Path) -> dict:
    """PyTorch's figures for one spec, as the JSON document tests/test_zoo.py reads."""
    import torch

    from cnncalc import load_spec
    from tests.torch_oracle import measure

    spec = load_spec(path)
    truth = measure(spec)
    version = torch.__version__.split("+")[0]
    return {
        "generated_by": f"PyTorch {version} + torch.utils.flop_counter via tests/torch_oracle.py",
        "command": COMMAND,
        "spec": path.relative_to(ROOT).as_posix(),
        "input_shape": list(spec.input_shape),
        "output_shape": list(truth.output_shape),
        "totals": {"params": truth.params, "macs": truth.macs},
        "layers": {
            name: {"output_shape": list(leaf.output_shape), "params": leaf.params, "macs": leaf.macs}
            for name, leaf in truth.leaves.items()
        },
    }


def dumps(document: dict) -> str:
    """JSON with one line per key and per layer, so diffs stay readable."""
    head = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in document.items() if key != "layers"]
    rows = [f"    {json.dumps(name)}: {json.dumps(figures)}" for name, figures in document["layers"].items()]
    return "{\n" + ",\n".join(head) + ',\n  "layers": {\n' + ",\n".join(rows) + "\n  }\n}\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on a difference")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))  # for tests.torch_oracle
    REFERENCE.mkdir(parents=True, exist_ok=True)
    stale = []
    for path in architecture_specs():
        target = REFERENCE / f"{path.stem}.json"
        text = dumps(reference_for(path))
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(target.name)
            continue
        target.write_text(text)
        print(f"wrote {target.relative_to(ROOT)}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run `{COMMAND}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
