"""Tiny PyTorch factories for `cnncalc import --torch tests/data/torch_models.py:NAME` (tests only; needs torch)."""

from __future__ import annotations

import torch
from torch import nn


class Block(nn.Module):
    """conv-bn-relu with an identity shortcut: the importer's `residual`."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.bn(self.conv(x)))


def tiny() -> nn.Module:
    """Conv2d(3, 8, 3) 224 + Block(8) 592 + Linear(8, 10) 90 = 906 params (checked against torch in the test)."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), Block(8), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10)
    )


def chatty() -> nn.Module:
    """Prints while building, as user code may: that text must not end up in a spec written to stdout."""
    print("building the chatty model")
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 2))


def raises() -> nn.Module:
    raise RuntimeError("this factory always fails")


def needs_width(width: int) -> nn.Module:
    return nn.Linear(width, width)


def not_a_module() -> list[int]:
    return [1, 2, 3]


class Untraceable(nn.Module):
    """A forward that raises, so torch.onnx.export (which runs it to trace) fails."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise ValueError("forward refuses to run")


NOT_CALLABLE = 42


class Zoo:
    """A dotted FACTORY: `torch_models.py:Zoo.small`."""

    @staticmethod
    def small() -> nn.Module:
        return nn.Sequential(nn.Linear(12, 4), nn.ReLU())
