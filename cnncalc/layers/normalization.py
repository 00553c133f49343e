"""Normalisations and per-channel learnable factors: batchnorm, layernorm, groupnorm, instancenorm,
layer_scale and affine. Statistics and learnable vectors are per channel (index 0 of the shape)."""

from pydantic import Field, model_validator

from cnncalc.layers.base import Float, Layer, PositiveFloat, PositiveInt, Shape, register


@register
class BatchNorm(Layer):
    """torch.nn.BatchNorm1d/2d/3d: gamma and beta (params), running mean and var (buffers).

    `frozen` is torchvision's FrozenBatchNorm2d (all four are buffers); `scale` / `center`
    are Keras's switches for gamma / beta; `affine: false` drops both, as in PyTorch.
    """

    kind = "batchnorm"
    slides_name = "batch norm"
    summary = "batch normalisation (inference form)"
    # PyTorch takes eps = 0 too, but then a constant channel divides by zero.
    eps: PositiveFloat = 1e-5
    # Any float or None, as PyTorch (its running-average factor; 0 keeps the statistics, and 0 < m < 2 still
    # converges): only carried to the exports, since cnncalc never updates running statistics.
    momentum: Float | None = 0.1
    affine: bool = Field(True, description="learnable scale and shift (PyTorch's affine)")
    frozen: bool = Field(False, description="torchvision's FrozenBatchNorm2d: scale and shift are buffers")
    scale: bool = Field(True, description="Keras: learn gamma (a per-channel scale)")
    center: bool = Field(True, description="Keras: learn beta (a per-channel shift)")

    def parts(self) -> tuple[bool, bool]:
        """Whether the layer has (gamma, beta) at all."""
        return self.affine and self.scale, self.affine and self.center

    def affine_count(self, channels: int) -> int:
        return channels * sum(self.parts())

    def param_count(self, input_shape: Shape) -> int:
        return 0 if self.frozen else self.affine_count(input_shape[0])

    def buffer_count(self, input_shape: Shape) -> int:
        c = input_shape[0]
        return 2 * c + (self.affine_count(c) if self.frozen else 0)

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        c = input_shape[0]
        gamma, beta = self.parts()
        names = " and ".join(n for n, on in (("scale", gamma), ("shift", beta)) if on) or "no scale or shift"
        if self.frozen:
            return [f"params = 0 (frozen: {names} and running mean/var are {self.buffer_count(input_shape)} buffers)"]
        factor = f"{int(gamma) + int(beta)}*{c} = " if gamma or beta else ""
        return [f"params = {factor}{self.param_count(input_shape)} ({names}; running mean/var are buffers)"]


def _affine_line(channels: int, on: bool, what: str) -> str:
    return f"params = 2*{channels} = {2 * channels} ({what})" if on else "params = 0 (no affine)"


@register
class LayerNorm(Layer):
    """Over the channels at each position of a volume (torchvision's LayerNorm2d), over the features of a vector."""

    kind = "layernorm"
    summary = "layer normalisation over the channels (LayerNorm2d) or features"
    eps: PositiveFloat = 1e-5
    elementwise_affine: bool = True

    def param_count(self, input_shape: Shape) -> int:
        return 2 * input_shape[0] if self.elementwise_affine else 0

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        where = "the features" if len(input_shape) == 1 else "the channels at each position"
        return [
            f"normalised over {where} ({input_shape[0]} values)",
            _affine_line(input_shape[0], self.elementwise_affine, "weight and bias"),
        ]


@register
class GroupNorm(Layer):
    """torch.nn.GroupNorm: channels in `num_groups` groups, each normalised over its channels and positions."""

    kind = "groupnorm"
    summary = "group normalisation (nn.GroupNorm)"
    num_groups: PositiveInt
    eps: PositiveFloat = 1e-5
    affine: bool = True

    def output_shape(self, input_shape: Shape) -> Shape:
        if input_shape[0] % self.num_groups:
            raise self.error(
                f"num_groups={self.num_groups} does not divide the {input_shape[0]} channels.",
                "num_groups",
                "nn.GroupNorm needs the channels to be a multiple of num_groups.",
            )
        return input_shape

    def param_count(self, input_shape: Shape) -> int:
        return 2 * input_shape[0] if self.affine else 0

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        c = input_shape[0]
        return [
            f"{self.num_groups} groups of {c // self.num_groups} channels, each normalised over its channels "
            "and positions",
            _affine_line(c, self.affine, "weight and bias"),
        ]


@register
class InstanceNorm(Layer):
    """torch.nn.InstanceNorm1d/2d/3d: each channel normalised over its own positions."""

    kind = "instancenorm"
    summary = "instance normalisation (nn.InstanceNorm1d/2d/3d)"
    eps: PositiveFloat = 1e-5
    momentum: Float | None = 0.1
    affine: bool = False
    track_running_stats: bool = Field(False, description="keep running statistics (buffers) and use them at inference")

    def output_shape(self, input_shape: Shape) -> Shape:
        self.spatial(input_shape)
        return input_shape

    def param_count(self, input_shape: Shape) -> int:
        return 2 * input_shape[0] if self.affine else 0

    def buffer_count(self, input_shape: Shape) -> int:
        return 2 * input_shape[0] if self.track_running_stats else 0

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        stats = "running statistics (buffers)" if self.track_running_stats else "each sample's own statistics"
        return [
            f"each channel normalised over its positions, with {stats}",
            _affine_line(input_shape[0], self.affine, "weight and bias"),
        ]


@register
class LayerScale(Layer):
    """A learnable factor per channel (ConvNeXt's gamma, CaiT's LayerScale), initialised to `init`."""

    kind = "layer_scale"
    summary = "learnable per-channel scale (ConvNeXt's layer scale)"
    init: Float = Field(1e-6, description="the initial value of every factor")

    def param_count(self, input_shape: Shape) -> int:
        return input_shape[0]

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        return [f"y = gamma[c] * x; params = C = {input_shape[0]}"]


@register
class Affine(Layer):
    """A learnable per-channel scale and/or shift (Caffe's Scale layer; ONNX Mul/Add by a [C, 1, 1] constant)."""

    kind = "affine"
    summary = "learnable per-channel scale and shift"
    scale: bool = True
    bias: bool = True

    @model_validator(mode="after")
    def _something(self) -> "Affine":
        if not (self.scale or self.bias):
            raise ValueError("with scale and bias both false the layer does nothing; remove it")
        return self

    def param_count(self, input_shape: Shape) -> int:
        return input_shape[0] * (int(self.scale) + int(self.bias))

    def explain(self, input_shape: Shape, output_shape: Shape) -> list[str]:
        formula = {(True, True): "a[c] * x + b[c]", (True, False): "a[c] * x", (False, True): "x + b[c]"}
        parts, params = int(self.scale) + int(self.bias), self.param_count(input_shape)
        return [f"y = {formula[(self.scale, self.bias)]}; params = {parts}*{input_shape[0]} = {params}"]
