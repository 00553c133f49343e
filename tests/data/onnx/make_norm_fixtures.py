"""Regenerate the small decomposed-norm ONNX fixtures: torch.onnx.export of tiny models.

Run with a Python that has torch and onnx (not a test dependency):
    python tests/data/onnx/make_norm_fixtures.py
Opset 16 (before LayerNormalization) with constant folding off, as make_fixtures.py exports:
torch then writes nn.LayerNorm, and any hand-written LayerNorm, as ReduceMean / Sub / Pow /
ReduceMean / Add / Sqrt / Div / Mul / Add, and nn.GroupNorm as Reshape / InstanceNormalization /
Reshape / Mul / Add. The weights are tiny, so they are kept. It prints what torch says of each
model (sum of parameters' numel, output shape): the figures the tests quote.
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


MODELS = {"layernorm_decomposed": LayerNorms, "groupnorm_decomposed": GroupNorms}


def _recorder(shapes: dict[str, list[int]], child: str):
    def hook(module: nn.Module, inputs: object, output: torch.Tensor) -> None:
        shapes[child] = [int(d) for d in output.shape[1:]]

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
        print(name, "params", sum(p.numel() for p in model.parameters()), "output", [int(d) for d in out.shape[1:]])
        for child, module in model.named_children():
            print(f"  {child}: params {sum(p.numel() for p in module.parameters())}, output {shapes[child]}")


if __name__ == "__main__":
    main()
