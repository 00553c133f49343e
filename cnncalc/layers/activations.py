"""Activations beyond v1's: the MobileNetV3/EfficientNet family and torch.nn's other pointwise units."""

from typing import ClassVar

from pydantic import Field, model_validator

from cnncalc.layers.base import Float, Int, Layer, PositiveFloat, PositiveInt, Shape, register


class _Pointwise(Layer):
    """An activation: shape kept, no parameters; `formula` is what `--explain` shows."""

    formula: ClassVar[str] = ""

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        return [f"y = {self.formula}, elementwise; params = 0"]


def _activation(kind_name: str, formula: str, summary: str) -> type[Layer]:
    cls = type(
        kind_name.title().replace("_", ""),
        (_Pointwise,),
        {
            "__doc__": f"{summary}: {formula}.",
            "__module__": __name__,
            "kind": kind_name,
            "summary": summary,
            "formula": formula,
        },
    )
    return register(cls)


Hardswish = _activation("hardswish", "x * relu6(x + 3) / 6", "hard swish (nn.Hardswish)")
Hardsigmoid = _activation("hardsigmoid", "relu6(x + 3) / 6", "hard sigmoid (nn.Hardsigmoid)")
Mish = _activation("mish", "x * tanh(softplus(x))", "mish (nn.Mish)")
SELU = _activation(
    "selu", "1.0507 * (x if x > 0 else 1.67326 * (exp(x) - 1))", "scaled exponential linear unit (nn.SELU)"
)


@register
class ELU(_Pointwise):
    """nn.ELU: x if x > 0 else alpha * (exp(x) - 1)."""

    kind = "elu"
    summary = "exponential linear unit (nn.ELU)"
    formula = "x if x > 0 else alpha * (exp(x) - 1)"
    alpha: Float = 1.0


@register
class CELU(_Pointwise):
    """nn.CELU: max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""

    kind = "celu"
    summary = "continuously differentiable ELU (nn.CELU)"
    formula = "max(0, x) + min(0, alpha * (exp(x / alpha) - 1))"
    alpha: Float = Field(1.0, description="must not be 0")

    @model_validator(mode="after")
    def _nonzero(self) -> "CELU":
        if self.alpha == 0:
            raise ValueError("alpha must not be 0 (CELU divides by it)")
        return self


@register
class Softplus(_Pointwise):
    """nn.Softplus: log(1 + exp(beta * x)) / beta, linear above `threshold`."""

    kind = "softplus"
    summary = "softplus (nn.Softplus)"
    formula = "log(1 + exp(beta*x)) / beta, or x where beta*x > threshold"
    beta: PositiveFloat = 1.0
    threshold: Float = 20.0


@register
class Hardtanh(_Pointwise):
    """nn.Hardtanh: clamp(x, min_val, max_val)."""

    kind = "hardtanh"
    summary = "hard tanh (nn.Hardtanh)"
    formula = "clamp(x, min_val, max_val)"
    min_val: Float = -1.0
    max_val: Float = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> "Hardtanh":
        if self.max_val <= self.min_val:
            raise ValueError("max_val must be greater than min_val")
        return self


@register
class PReLU(_Pointwise):
    """nn.PReLU: x if x > 0 else a * x, with one learnable a or one per channel."""

    kind = "prelu"
    summary = "parametric ReLU (nn.PReLU)"
    formula = "x if x > 0 else a * x (a learnable)"
    num_parameters: PositiveInt = Field(1, description="1, or the number of channels")

    def output_shape(self, input_shape: Shape) -> Shape:
        if self.num_parameters not in (1, input_shape[0]):
            raise self.error(
                f"num_parameters is {self.num_parameters}, but the input has {input_shape[0]} channels.",
                "num_parameters",
                f"Use 1 (one slope for all) or {input_shape[0]} (one per channel), as nn.PReLU requires.",
            )
        return input_shape

    def param_count(self, input_shape: Shape) -> int:
        return self.num_parameters

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        return [f"y = {self.formula}; params = num_parameters = {self.num_parameters}"]


@register
class LogSoftmax(_Pointwise):
    """nn.LogSoftmax over `dim` (0 = channels, batch excluded)."""

    kind = "log_softmax"
    summary = "log of softmax over the channel (or feature) axis"
    formula = "x - log(sum(exp(x)) over dim)"
    dim: Int = Field(0, description="axis, batch excluded: 0 is channels/features")

    def output_shape(self, input_shape: Shape) -> Shape:
        if not -len(input_shape) <= self.dim < len(input_shape):
            raise self.error(f"dim {self.dim} is out of range for the input {list(input_shape)}.", "dim")
        return input_shape
