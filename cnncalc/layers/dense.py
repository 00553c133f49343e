"""`linear` (fully connected) and `flatten`."""

from math import prod

from pydantic import Field

from cnncalc.layers.base import Float, Layer, Numbers, PositiveInt, ReceptiveWindow, Shape, register
from cnncalc.layers.values import check_values_shape


@register
class Flatten(Layer):
    """Channels-first flattening, as torch.flatten(x, 1): [C, H, W] -> [C*H*W]."""

    kind = "flatten"
    summary = "flatten a volume to a vector (channels first)"
    asked = ("output_shape",)
    slides_name = "flatten to a vector"

    def output_shape(self, input_shape: Shape) -> Shape:
        return (prod(input_shape),)

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        return [f"F = {'*'.join(map(str, input_shape))} = {output_shape[0]:,}"]


@register
class Linear(Layer):
    """torch.nn.Linear on a flat input."""

    kind = "linear"
    kind_aliases = ("fc", "dense")
    asked = ("output_shape", "params")
    arg_aliases = {"units": "out_features"}
    summary = "fully connected layer (aliases: fc, dense)"

    out_features: PositiveInt
    bias: bool = True
    weights: Numbers | None = Field(None, description="[out_features, in_features] matrix")
    bias_values: list[Float] | None = None

    def in_features(self, input_shape: Shape) -> int:
        if len(input_shape) != 1:
            raise self.error(
                f"needs a flat input [F], but gets the volume {list(input_shape)}.",
                hint=f"Add `- flatten` before it (giving [{prod(input_shape)}]).",
            )
        return input_shape[0]

    def output_shape(self, input_shape: Shape) -> Shape:
        in_features = self.in_features(input_shape)
        if self.weights is not None:
            check_values_shape(self, self.weights, (self.out_features, in_features), "weights")
        if self.bias_values is not None:
            if not self.bias:  # as for conv: numbers for a bias the layer does not have
                raise self.error("`bias_values` given but bias is false.", "bias_values")
            check_values_shape(self, self.bias_values, (self.out_features,), "bias_values")
        return (self.out_features,)

    def receptive_window(self, input_shape: Shape) -> ReceptiveWindow:
        return "global"  # every output sees every input feature

    def param_count(self, input_shape: Shape) -> int:
        return self.in_features(input_shape) * self.out_features + (self.out_features if self.bias else 0)

    def macs(self, input_shape: Shape, output_shape: Shape) -> int:
        return self.in_features(input_shape) * self.out_features

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        n_in = self.in_features(input_shape)
        bias = f" + {self.out_features}" if self.bias else ""
        return [
            f"F = out_features = {self.out_features}",
            f"params = {n_in}*{self.out_features}{bias} = {self.param_count(input_shape):,}",
            f"macs = {n_in}*{self.out_features} = {self.macs(input_shape, output_shape):,}",
        ]

    def slides_text(self) -> str:
        return f"fully connected, {self.out_features} neurons"

    def backward_formula(self, input_shape: Shape, with_weights: bool) -> list[str]:
        return ["G = dL/dY", "dL/dW = Gᵀ · X  (out_features x in_features)" if with_weights else "dL/dX = G · W"]
