"""Write tests/reference/grad_values.json: real PyTorch autograd gradients of issue 10's kinds.

Run in an environment with torch (float64 throughout):
    python benchmarks/torch_grad_values.py            # (re)write the file
    python benchmarks/torch_grad_values.py --check    # exit 1 if the file differs from PyTorch now
Each case is one cnncalc layer, its fixed input (torch_op_values.py's), fixed parameter values and
a fixed upstream gradient G; the file holds torch's dL/dX and dL/d(each parameter) for L = <G, y>,
computed with torch.nn / F directly (not through tests/torch_oracle.py). The parameter-free cases
are torch_op_values.py's; tests/executor/test_grad_values.py reads the file. CI has no torch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from torch_op_values import cases as value_cases
from torch_op_values import dumps, fixed_input

from cnncalc.output_file import write_atomically

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "tests" / "reference" / "grad_values.json"
COMMAND = "python benchmarks/torch_grad_values.py"


def upstream(shape: list[int]):
    """G: a deterministic, irregular gradient of the output's shape (the test rebuilds it the same way)."""
    import torch

    n = 1
    for d in shape:
        n *= d
    t = torch.arange(n, dtype=torch.float64)
    return (torch.cos(t * 0.7) + 0.5 * torch.sin(t * 2.3)).reshape(shape)


def param_values(n: int, offset: float) -> list[float]:
    """A parameter's fixed values: offset + 0.3 sin(1.3 k + 0.4) (the test reads them from the file)."""
    import math

    return [offset + 0.3 * math.sin(1.3 * k + 0.4) for k in range(n)]


def param_cases():
    """(name, cnncalc layer, input shape, torch module, {cnncalc name: (torch attribute, offset)})."""
    import torch.nn.functional as F
    from torch import nn

    class ChannelsLayerNorm(nn.LayerNorm):  # torchvision's LayerNorm2d
        def forward(self, x):
            return F.layer_norm(x.movedim(1, -1), self.normalized_shape, self.weight, self.bias, self.eps).movedim(
                -1, 1
            )

    class Vector(nn.Module):  # x * gamma[c] (layer_scale) or x * weight[c] + bias[c] (affine)
        def __init__(self, c, names):
            super().__init__()
            self.names = names
            for name in names:
                setattr(self, name, nn.Parameter(torch_ones(c)))

        def forward(self, x):
            for name in self.names:
                v = getattr(self, name).view(1, -1, *(1,) * (x.dim() - 2))
                x = x + v if name == "bias" else x * v
            return x

    class PartialBatchNorm(nn.Module):  # Keras's scale / center switches
        def __init__(self, c, scale, center):
            super().__init__()
            self.register_buffer("running_mean", torch_ones(c))
            self.register_buffer("running_var", torch_ones(c))
            self.weight = nn.Parameter(torch_ones(c)) if scale else None
            self.bias = nn.Parameter(torch_ones(c)) if center else None

        def forward(self, x):
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, 1e-5)

    affine = {"weight": ("weight", 1.0), "bias": ("bias", 0.0)}
    stats = {"running_mean": ("running_mean", 0.0), "running_var": ("running_var", 1.0)}
    yield "prelu_per_channel", {"prelu": {"num_parameters": 3}}, [2, 3, 4], nn.PReLU(3), {"weight": ("weight", 0.2)}
    yield "prelu_one", "prelu", [2, 3, 2, 2], nn.PReLU(), {"weight": ("weight", 0.2)}
    yield "layernorm_volume_affine", "layernorm", [2, 3, 2, 3], ChannelsLayerNorm(3), affine
    yield "layernorm_flat_affine", "layernorm", [2, 6], nn.LayerNorm(6), affine
    yield "groupnorm_affine", {"groupnorm": {"num_groups": 2}}, [2, 4, 3, 2], nn.GroupNorm(2, 4), affine
    yield (
        "instancenorm_affine",
        {"instancenorm": {"affine": True}},
        [2, 3, 5],
        nn.InstanceNorm1d(3, affine=True),
        affine,
    )
    tracked = {"instancenorm": {"affine": True, "track_running_stats": True}}
    module = nn.InstanceNorm2d(3, affine=True, track_running_stats=True).eval()
    yield "instancenorm_tracked", tracked, [2, 3, 2, 3], module, {**affine, **stats}
    yield "batchnorm", "batchnorm", [2, 3, 4], nn.BatchNorm1d(3).eval(), {**affine, **stats}
    yield (
        "batchnorm_no_affine",
        {"batchnorm": {"affine": False}},
        [2, 3, 4],
        nn.BatchNorm1d(3, affine=False).eval(),
        stats,
    )
    no_scale = PartialBatchNorm(3, False, True)
    yield (
        "batchnorm_keras_center_only",
        {"batchnorm": {"scale": False}},
        [2, 3, 4],
        no_scale,
        {"bias": ("bias", 0.0), **stats},
    )
    no_center = PartialBatchNorm(3, True, False)
    yield (
        "batchnorm_keras_scale_only",
        {"batchnorm": {"center": False}},
        [2, 3, 4],
        no_center,
        {"weight": ("weight", 1.0), **stats},
    )
    yield "layer_scale", "layer_scale", [2, 3, 2, 2], Vector(3, ("gamma",)), {"gamma": ("gamma", 0.5)}
    yield "affine", "affine", [2, 3, 2, 2], Vector(3, ("weight", "bias")), affine


def torch_ones(c: int):
    import torch

    return torch.ones(c, dtype=torch.float64)


def build() -> dict:
    import torch

    torch.set_default_dtype(torch.float64)
    out = {}
    for name, layer, shape, fn in value_cases():
        x = fixed_input(shape).requires_grad_(True)
        y = fn(x)
        y.backward(upstream(list(y.shape)))
        out[name] = {"layer": layer, "input_shape": shape, "params": {}, "grad_input": x.grad.tolist(), "grads": {}}
    for name, layer, shape, module, names in param_cases():
        module = module.double()
        params = {}
        for ours, (attribute, offset) in names.items():
            target = getattr(module, attribute)
            values = param_values(target.numel(), offset)
            if ours == "running_var":
                values = [abs(v) + 0.5 for v in values]
            with torch.no_grad():
                target.copy_(torch.tensor(values).reshape(target.shape))
            params[ours] = values
        x = fixed_input(shape).requires_grad_(True)
        y = module(x)
        y.backward(upstream(list(y.shape)))
        grads = {
            ours: getattr(module, attribute).grad.tolist()
            for ours, (attribute, _) in names.items()
            if getattr(module, attribute).requires_grad
        }
        out[name] = {
            "layer": layer,
            "input_shape": shape,
            "params": params,
            "grad_input": x.grad.tolist(),
            "grads": grads,
        }
    version = torch.__version__.split("+")[0]
    return {"generated_by": f"PyTorch {version}, float64 autograd", "command": COMMAND, "cases": out}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on a difference")
    args = parser.parse_args()
    text = dumps(build())
    if args.check:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"out of date: {TARGET.name}; run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    write_atomically(TARGET, text, "the gradient reference")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
