"""Interchange with other tools: ONNX in and out, PyTorch code out."""
