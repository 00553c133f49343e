"""Write tests/reference/op_values.json: real PyTorch outputs of the v2 kinds on small fixed inputs.

Run in an environment with torch (float64 throughout):
    python benchmarks/torch_op_values.py            # (re)write the file
    python benchmarks/torch_op_values.py --check    # exit 1 if the file differs from PyTorch now
Each case is one cnncalc layer (as a spec would write it), its input and torch's output, computed
with torch.nn / F.interpolate / F.pad directly (not through tests/torch_oracle.py). Only kinds whose
values do not depend on learned parameters are here; tests/executor/test_op_values.py reads it.
CI has no torch.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cnncalc.output_file import write_atomically

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "tests" / "reference" / "op_values.json"
COMMAND = "python benchmarks/torch_op_values.py"


def fixed_input(shape: list[int]) -> list:
    """A deterministic, irregular input with both signs (the same numbers the test reads back)."""
    import torch

    n = 1
    for d in shape:
        n *= d
    t = torch.arange(n, dtype=torch.float64)
    return (torch.sin(t * 1.7) * 3 + torch.cos(t * 0.3)).reshape(shape)


def cases():
    """(name, cnncalc layer, input shape with batch, torch function)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    def interp(**kw):
        return lambda x: F.interpolate(x, **kw)

    def tf_max(k, s, pads):  # TensorFlow's SAME max pooling: pad with -inf, then pool
        return lambda x: F.max_pool2d(F.pad(x, pads, value=-float("inf")), k, s)

    def tf_avg(k, s, pads):  # TensorFlow's SAME average pooling: the padding is not in the divisor
        return lambda x: F.avg_pool2d(F.pad(x, pads), k, s) / F.avg_pool2d(F.pad(torch.ones_like(x), pads), k, s)

    yield "nearest_scale_1_5", {"upsample": {"scale_factor": 1.5}}, [1, 2, 3, 5], interp(scale_factor=1.5)
    yield "nearest_size", {"upsample": {"size": [7, 3]}}, [1, 2, 3, 5], interp(size=(7, 3))
    for corners in (False, True):
        tag = "corners" if corners else "half_pixel"
        yield (
            f"linear_scale_{tag}",
            {"upsample": {"scale_factor": 2.5, "mode": "linear", "align_corners": corners}},
            [1, 2, 4],
            interp(scale_factor=2.5, mode="linear", align_corners=corners),
        )
        yield (
            f"bilinear_size_{tag}",
            {"upsample": {"size": [5, 8], "mode": "bilinear", "align_corners": corners}},
            [1, 2, 3, 4],
            interp(size=(5, 8), mode="bilinear", align_corners=corners),
        )
        yield (
            f"bilinear_down_{tag}",
            {"upsample": {"scale_factor": [0.6, 1.7], "mode": "bilinear", "align_corners": corners}},
            [1, 1, 6, 4],
            interp(scale_factor=(0.6, 1.7), mode="bilinear", align_corners=corners),
        )
        yield (
            f"bicubic_size_{tag}",
            {"upsample": {"size": [7, 5], "mode": "bicubic", "align_corners": corners}},
            [1, 2, 4, 3],
            interp(size=(7, 5), mode="bicubic", align_corners=corners),
        )
        yield (
            f"bicubic_scale_{tag}",
            {"upsample": {"scale_factor": 2, "mode": "bicubic", "align_corners": corners}},
            [1, 1, 3, 4],
            interp(scale_factor=2.0, mode="bicubic", align_corners=corners),
        )
        yield (
            f"trilinear_size_{tag}",
            {"upsample": {"size": [3, 4, 5], "mode": "trilinear", "align_corners": corners}},
            [1, 1, 2, 3, 3],
            interp(size=(3, 4, 5), mode="trilinear", align_corners=corners),
        )
    ln = nn.LayerNorm(3, elementwise_affine=False).double()
    yield (
        "layernorm_volume",
        {"layernorm": {"elementwise_affine": False}},
        [2, 3, 2, 3],
        (
            lambda x: ln(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # torchvision's LayerNorm2d
        ),
    )
    ln6 = nn.LayerNorm(6, eps=1e-3, elementwise_affine=False).double()
    yield "layernorm_flat", {"layernorm": {"eps": 1e-3, "elementwise_affine": False}}, [2, 6], ln6
    gn = nn.GroupNorm(2, 4, affine=False).double()
    yield "groupnorm", {"groupnorm": {"num_groups": 2, "affine": False}}, [2, 4, 3, 2], gn
    inorm = nn.InstanceNorm1d(3).double()
    yield "instancenorm_1d", "instancenorm", [2, 3, 5], inorm
    yield "pixel_shuffle", {"pixel_shuffle": {"upscale_factor": 2}}, [1, 8, 2, 3], nn.PixelShuffle(2)
    yield "pixel_unshuffle", {"pixel_unshuffle": {"downscale_factor": 2}}, [1, 2, 4, 6], nn.PixelUnshuffle(2)
    yield "channel_shuffle", {"channel_shuffle": {"groups": 3}}, [1, 6, 2, 2], nn.ChannelShuffle(3)
    for mode in ("reflect", "replicate", "circular"):
        yield (
            f"pad_{mode}_1d",
            {"pad": {"padding": [[2, 1]], "mode": mode}},
            [1, 2, 4],
            (lambda x, m=mode: F.pad(x, (2, 1), mode=m)),
        )
        yield (
            f"pad_{mode}_2d",
            {"pad": {"padding": [[1, 2], [0, 3]], "mode": mode}},
            [1, 2, 3, 4],
            (lambda x, m=mode: F.pad(x, (0, 3, 1, 2), mode=m)),
        )
        yield (
            f"pad_{mode}_3d",
            {"pad": {"padding": 1, "mode": mode}},
            [1, 1, 2, 3, 2],
            (lambda x, m=mode: F.pad(x, (1,) * 6, mode=m)),
        )
    yield (
        "pad_constant",
        {"pad": {"padding": [[1, 0], [2, 1]], "value": -2.5}},
        [1, 1, 2, 2],
        (lambda x: F.pad(x, (2, 1, 1, 0), value=-2.5)),
    )
    # TensorFlow SAME pooling, stride 2, on 5x6: out 3x3; H total pad 2 (1, 1), W total pad 1 (0, 1).
    yield (
        "tf_same_maxpool",
        {"maxpool": {"kernel_size": 3, "stride": 2, "padding": "same"}},
        [1, 2, 5, 6],
        (tf_max(3, 2, (0, 1, 1, 1))),
    )
    yield (
        "tf_same_avgpool",
        {"avgpool": {"kernel_size": 3, "stride": 2, "padding": "same"}},
        [1, 2, 5, 6],
        (tf_avg(3, 2, (0, 1, 1, 1))),
    )
    # Stride 1 on 4x4 with kernel 2: total 1, all of it after.
    yield (
        "tf_same_avgpool_stride1",
        {"avgpool": {"kernel_size": 2, "stride": 1, "padding": "same"}},
        [1, 1, 4, 4],
        (tf_avg(2, 1, (0, 1, 0, 1))),
    )
    acts = {
        "hardswish": nn.Hardswish(),
        "hardsigmoid": nn.Hardsigmoid(),
        "mish": nn.Mish(),
        "selu": nn.SELU(),
        "elu": nn.ELU(0.5),
        "celu": nn.CELU(2.0),
        "softplus": nn.Softplus(2.0, 3.0),
        "hardtanh": nn.Hardtanh(-0.5, 2.0),
        "log_softmax": nn.LogSoftmax(dim=1),
    }
    args = {"elu": {"alpha": 0.5}, "celu": {"alpha": 2.0}, "softplus": {"beta": 2.0, "threshold": 3.0}}
    args["hardtanh"] = {"min_val": -0.5, "max_val": 2.0}
    for kind, module in acts.items():
        yield f"act_{kind}", ({kind: args[kind]} if kind in args else kind), [2, 3, 4], module


def build() -> dict:
    import torch

    out = {}
    with torch.no_grad():
        for name, layer, shape, fn in cases():
            x = fixed_input(shape)
            out[name] = {"layer": layer, "input_shape": shape, "output": fn(x).tolist()}
    version = torch.__version__.split("+")[0]
    return {"generated_by": f"PyTorch {version}, float64", "command": COMMAND, "cases": out}


def dumps(document: dict) -> str:
    head = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in document.items() if k != "cases"]
    rows = [f"    {json.dumps(name)}: {json.dumps(case)}" for name, case in document["cases"].items()]
    return "{\n" + ",\n".join(head) + ',\n  "cases": {\n' + ",\n".join(rows) + "\n  }\n}\n"


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
    write_atomically(TARGET, text, "the op reference")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
