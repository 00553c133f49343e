"""Regenerate the weight-free torchvision ONNX fixtures and the PyTorch figures beside them.

Run with a Python that has torch, torchvision and onnx (not a test dependency):
    python tests/data/onnx/make_fixtures.py
Each model is exported in eval mode with the legacy exporter and constant folding off (so
BatchNormalization stays a node, as torchvision's figures count it), then every float
initializer's data is dropped and its dims kept: the importer needs shapes only.
`torch_figures.json` records what PyTorch itself says: parameters (`numel` of every
parameter), MACs (torch.utils.flop_counter / 2) and each ONNX output's shape.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import onnx
import torch
import torchvision
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone

HERE = Path(__file__).parent


class FPN(torch.nn.Module):
    """torchvision's ResNet-18 FPN backbone (BatchNorm2d, all layers trainable); a tuple of levels."""

    def __init__(self) -> None:
        super().__init__()
        self.body = resnet_fpn_backbone(
            backbone_name="resnet18", weights=None, norm_layer=torch.nn.BatchNorm2d, trainable_layers=5
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.body(x).values())


MODELS = {
    "resnet50": (lambda: torchvision.models.resnet50(), (3, 224, 224)),
    "mobilenet_v3_large": (lambda: torchvision.models.mobilenet_v3_large(), (3, 224, 224)),
    "efficientnet_b0": (lambda: torchvision.models.efficientnet_b0(), (3, 224, 224)),
    "convnext_tiny": (lambda: torchvision.models.convnext_tiny(), (3, 224, 224)),
    "inception_v3": (lambda: torchvision.models.inception_v3(init_weights=False, aux_logits=True), (3, 299, 299)),
    "resnet18_fpn": (FPN, (3, 224, 224)),
}


def strip_weights(model: onnx.ModelProto) -> None:
    """Keep every initializer's dims, drop the numbers of the float ones (int shapes stay)."""
    for tensor in model.graph.initializer:
        if tensor.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE):
            tensor.ClearField("raw_data")
            tensor.ClearField("float_data")
            tensor.ClearField("double_data")
            tensor.data_location = onnx.TensorProto.EXTERNAL
            del tensor.external_data[:]
            entry = tensor.external_data.add()
            entry.key, entry.value = "location", "stripped-by-cnncalc-fixtures"


def main() -> None:
    figures = {}
    for name, (factory, shape) in MODELS.items():
        torch.manual_seed(0)
        model = factory().eval()
        x = torch.zeros(1, *shape)
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            out = model(x)
        outs = out if isinstance(out, tuple) else (out,)
        buffer = io.BytesIO()
        torch.onnx.export(model, x, buffer, dynamo=False, do_constant_folding=False, opset_version=17)
        proto = onnx.load_from_string(buffer.getvalue())
        strip_weights(proto)
        (HERE / f"{name}.onnx").write_bytes(proto.SerializeToString())
        figures[name] = {
            "input": list(shape),
            "params": sum(p.numel() for p in model.parameters()),
            # inception_v3's auxiliary head is not run in eval mode, so the ONNX graph cannot hold it
            "params_not_run": sum(p.numel() for p in getattr(model, "AuxLogits", torch.nn.Identity()).parameters()),
            "buffers": sum(b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")),
            "buffers_not_run": sum(
                b.numel()
                for n, b in getattr(model, "AuxLogits", torch.nn.Identity()).named_buffers()
                if not n.endswith("num_batches_tracked")
            ),
            "macs": counter.get_total_flops() // 2,
            "outputs": [list(o.shape[1:]) for o in outs],
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
        }
        print(name, figures[name])
    (HERE / "torch_figures.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
