"""Regenerate the small decomposed-norm ONNX fixtures: torch.onnx.export of tiny models.

Run with a Python that has torch and onnx (not a test dependency):
    python tests/data/onnx/make_norm_fixtures.py
Opset 16 (before LayerNormalization) with constant folding off, as make_fixtures.py exports:
torch then writes nn.LayerNorm, and any hand-written LayerNorm, as ReduceMean / Sub / Pow /
ReduceMean / Add / Sqrt / Div / Mul / Add, and nn.GroupNorm as Reshape / InstanceNormalization /
Reshape / Mul / Add. The weights are tiny, so they are kept. It prints what torch says of each
model (sum of parameters' numel, output shape): the figures the tests quote.

`layernorm_spellings` holds LayerNorms written with the square and the inverse spelled as other
code spells them, and what the same exporter then writes (torch 2.14.1, checked node by node):
`d * d` and `torch.square(d)` are `Mul(d, d)` (not `Pow(d, 2)`); `1 / torch.sqrt(v)` and
`torch.sqrt(v).reciprocal()` are `Reciprocal` then `Mul(d, r)` (not `Div(d, std)`); `torch.rsqrt(v)`
is `Div(1, Sqrt)` then `Mul`. The same model exported with `dynamo=True` (opset 18) is kept too:
that exporter writes `torch.rsqrt(v)` as `Sqrt -> Reciprocal` and `torch.square(d)` as `Pow`, `d * d`
still as `Mul(d, d)`. Each hand-written norm is checked against the nn.LayerNorm it equals (same
output to 1e-5), whose params and output shape are printed: the figures the tests quote come from
nn.LayerNorm, not from the hand-written modules.
"""

from __future__ import annotations

import io
from pathlib import Path

import onnx
import torch
from torch import nn

HERE = Path(__file__).parent


class ChannelsFirstLayerNorm(nn.Module):
    """facebookresearch/ConvNeXt's LayerNorm(data_format="channels_first"), as that repository writes it."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class LayerNorm2d(nn.LayerNorm):
    """torchvision's ConvNeXt LayerNorm2d: channels-last around nn.LayerNorm."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class LayerNorms(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3)
        self.stem_norm = ChannelsFirstLayerNorm(8)
        self.down = nn.Conv2d(8, 16, 2, stride=2)
        self.down_norm = LayerNorm2d(16, eps=1e-6)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.head_norm = nn.LayerNorm(16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.down_norm(self.down(self.stem_norm(self.stem(x))))
        return self.fc(self.head_norm(self.flatten(self.pool(x))))


class GroupNorms(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.gn1 = nn.GroupNorm(2, 8)
        self.conv2 = nn.Conv2d(8, 12, 3)
        self.gn2 = nn.GroupNorm(4, 12, eps=1e-3, affine=False)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.gn2(self.conv2(self.gn1(self.conv1(x)))))


class SpelledLayerNorm(nn.Module):
    """A LayerNorm over dim 1 (ConvNeXt's channels-first one, or a vector's features), its square and
    inverse standard deviation written one of the ways real code writes them."""

    def __init__(self, channels: int, eps: float, square: str, inverse: str, affine: bool = True) -> None:
        super().__init__()
        self.channels, self.eps, self.square, self.inverse = channels, eps, square, inverse
        self.weight = nn.Parameter(torch.rand(channels)) if affine else None
        self.bias = nn.Parameter(torch.rand(channels)) if affine else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = x - x.mean(1, keepdim=True)
        squared = {"mul": lambda: d * d, "square": lambda: torch.square(d), "pow": lambda: d.pow(2)}[self.square]()
        v = squared.mean(1, keepdim=True) + self.eps
        if self.inverse == "reciprocal":
            x = d * (1 / torch.sqrt(v))
        elif self.inverse == "method":
            x = d * torch.sqrt(v).reciprocal()
        elif self.inverse == "rsqrt":
            x = d * torch.rsqrt(v)
        else:
            x = d / torch.sqrt(v)
        if self.weight is None or self.bias is None:
            return x
        at = (slice(None), *([None] * (x.dim() - 2)))  # [C, 1, 1] on a volume, [C] on a vector
        return self.weight[at] * x + self.bias[at]

    def twin(self) -> nn.LayerNorm:
        """The nn.LayerNorm this module computes (over the channels moved last), with the same weights."""
        norm = nn.LayerNorm(self.channels, eps=self.eps, elementwise_affine=self.weight is not None)
        if self.weight is not None and self.bias is not None:
            with torch.no_grad():
                norm.weight.copy_(self.weight)
                norm.bias.copy_(self.bias)
        return norm


def twin_figures(module: SpelledLayerNorm, shape: list[int]) -> str:
    """nn.LayerNorm's params and output shape, once it is checked to compute what `module` does."""
    twin, x = module.twin(), torch.randn(2, *shape)
    with torch.no_grad():
        expected, got = twin(x.movedim(1, -1)).movedim(-1, 1), module(x)
    gap = float((expected - got).abs().max())
    assert gap < 1e-5, f"{module.square} / {module.inverse} is not nn.LayerNorm: {gap}"
    params = sum(p.numel() for p in twin.parameters())
    return (
        f"nn.LayerNorm({module.channels}, eps={module.eps:g}, elementwise_affine={twin.elementwise_affine}) "
        f"params {params}, output {[int(d) for d in expected.shape[1:]]} (max difference {gap:.1e})"
    )


class LayerNormSpellings(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3)
        self.stem_norm = SpelledLayerNorm(8, 1e-6, "mul", "div")  # Mul(d, d) ... Div
        self.down = nn.Conv2d(8, 16, 2, stride=2)
        self.down_norm = SpelledLayerNorm(16, 1e-5, "square", "reciprocal", affine=False)  # Mul(d, d) ... Reciprocal
        self.mid = nn.Conv2d(16, 16, 1)
        self.mid_norm = SpelledLayerNorm(16, 1e-6, "pow", "rsqrt")  # Pow ... Div(1, Sqrt), Mul
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.head_norm = SpelledLayerNorm(16, 1e-5, "mul", "method")  # on a vector: Mul(d, d) ... Reciprocal
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.down_norm(self.down(self.stem_norm(self.stem(x))))
        x = self.mid_norm(self.mid(x))
        return self.fc(self.head_norm(self.flatten(self.pool(x))))


MODELS = {
    "layernorm_decomposed": LayerNorms,
    "groupnorm_decomposed": GroupNorms,
    "layernorm_spellings": LayerNormSpellings,
}

DYNAMO = {"layernorm_spellings"}  # also exported with dynamo=True, as `{name}_dynamo.onnx`


def _recorder(shapes: dict[str, list[int]], child: str):
    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        shapes[child] = [int(d) for d in output.shape[1:]]
        shapes[child + ".input"] = [int(d) for d in inputs[0].shape[1:]]

    return hook


def main() -> None:
    for name, factory in MODELS.items():
        torch.manual_seed(0)
        model = factory().eval()
        x = torch.zeros(1, 3, 12, 12)
        shapes: dict[str, list[int]] = {}
        for child, module in model.named_children():
            module.register_forward_hook(_recorder(shapes, child))
        with torch.no_grad():
            out = model(x)
        buffer = io.BytesIO()
        torch.onnx.export(model, x, buffer, dynamo=False, do_constant_folding=False, opset_version=16)
        proto = onnx.load_from_string(buffer.getvalue())
        (HERE / f"{name}.onnx").write_bytes(proto.SerializeToString())
        if name in DYNAMO:  # the other exporter's spellings (opset 18: ReduceMean's axes are an input)
            program = torch.onnx.export(model, (x,), dynamo=True, optimize=True, opset_version=18)
            (HERE / f"{name}_dynamo.onnx").write_bytes(program.model_proto.SerializeToString())
        print(name, "params", sum(p.numel() for p in model.parameters()), "output", [int(d) for d in out.shape[1:]])
        for child, module in model.named_children():
            print(f"  {child}: params {sum(p.numel() for p in module.parameters())}, output {shapes[child]}")
            if isinstance(module, SpelledLayerNorm):
                print(f"    {twin_figures(module, shapes[child + '.input'])}")


if __name__ == "__main__":
    main()
