"""cnncalc's engine against real PyTorch: every shipped spec, edge cases, and a seeded random sweep.

PyTorch is the reference: shapes from forward hooks, params from `parameters()`, MACs from
torch.utils.flop_counter.FlopCounterMode / 2 (see tests/torch_oracle.py).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
# PyTorch's note that an even 'same' kernel copies its input: expected, and not our concern here.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

from cnncalc import CnncalcError, analyze, load_spec, parse_spec  # noqa: E402
from tests.conftest import SPECS  # noqa: E402
from tests.torch_oracle import LEAF_BUILDERS, measure  # noqa: E402


def assert_same_as_pytorch(spec, device: str = "meta") -> None:
    """Every leaf's output shape, params and MACs, and the totals, equal PyTorch's."""
    analysis = analyze(spec)
    truth = measure(spec, device)
    # A leaf merge (`add: {from: [...]}`) is a module of its own in the twin (tests/torch_oracle.py MergeModule).
    engine = {row.name: (row.output_shape, row.params, row.macs) for row in analysis.leaves}
    pytorch = {path: (leaf.output_shape, leaf.params, leaf.macs) for path, leaf in truth.leaves.items()}
    assert list(engine) == list(pytorch), "the leaf layers differ"
    wrong = {
        name: {"cnncalc": engine[name], "pytorch": pytorch[name]} for name in engine if engine[name] != pytorch[name]
    }
    assert not wrong, f"(output_shape, params, macs) differ from PyTorch: {wrong}"
    assert (analysis.output_shape, analysis.params, analysis.macs) == (truth.output_shape, truth.params, truth.macs)


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_spec_matches_pytorch(path: Path):
    assert_same_as_pytorch(load_spec(path))


def test_graph_constructs_match_pytorch():
    # from:, the merges in both forms, an SE gate, split, when:, $in_channels, $index, times 0, outputs.
    assert_same_as_pytorch(load_spec(SPECS.parent / "tests" / "data" / "graph_constructs.yaml"))


# Small specs for the corners of PyTorch's arithmetic (shared/pytorch-arithmetic.md).
EDGE_CASES = {
    "dilation": """
input: [3, 20, 20]
layers:
  - conv: {out_channels: 4, kernel_size: 3, dilation: 2}
  - conv: {out_channels: 4, kernel_size: [3, 2], dilation: [1, 3], stride: [2, 1], padding: [1, 2]}
  - maxpool: {kernel_size: 3, stride: 2, padding: 1, dilation: 2}
""",
    "per_side_padding": """
input: [2, 9, 8]
layers:
  - conv: {out_channels: 3, kernel_size: 2, stride: 2, padding: [[0, 1], [1, 0]]}
  - conv: {out_channels: 3, kernel_size: 4, padding: same}
  - conv: {out_channels: 3, kernel_size: [2, 3], padding: same, dilation: [3, 1]}
  - conv: {out_channels: 3, kernel_size: 3, padding: valid}
""",
    "ceil_mode_pools": """
input: [2, 10, 7]
layers:
  - maxpool: {kernel_size: 3, stride: 2, padding: 1, ceil_mode: true}
  - avgpool: {kernel_size: 2, stride: 2, padding: 1, ceil_mode: true, count_include_pad: false}
  - minpool: {kernel_size: 2, stride: 1, ceil_mode: true}
  - lppool: {kernel_size: 2, stride: 2, ceil_mode: true, norm_type: 1}
""",
    "ceil_mode_last_window_rule": """
input: [1, 5]
layers:
  - maxpool: {kernel_size: 2, stride: 2, padding: 1, ceil_mode: true}
  - maxpool: {kernel_size: 1, stride: 2, ceil_mode: true}
""",
    "groups_and_depthwise": """
input: [8, 12, 12]
layers:
  - conv: {out_channels: 16, kernel_size: 3, groups: 4, padding: 1}
  - conv: {out_channels: 16, kernel_size: 3, groups: 16, stride: 2}
  - conv: {out_channels: 4, kernel_size: 1, groups: 2, bias: false}
""",
    "conv_transpose_output_padding": """
input: [4, 5, 5]
layers:
  - conv_transpose: {out_channels: 6, kernel_size: 3, stride: 2, padding: 1, output_padding: 1}
  - conv_transpose:
      {out_channels: 6, kernel_size: [3, 2], stride: [3, 2], dilation: [2, 1], output_padding: [1, 0], groups: 2}
  - conv_transpose: {out_channels: 2, kernel_size: 4, stride: 2, padding: [[1, 2], [0, 1]]}
""",
    "one_d": """
input: [2, 50]
layers:
  - conv: {out_channels: 4, kernel_size: 4, padding: same}
  - conv: {out_channels: 4, kernel_size: 5, stride: 3, padding: 2}
  - batchnorm
  - avgpool: {kernel_size: 3, stride: 2, ceil_mode: true}
  - conv_transpose: {out_channels: 3, kernel_size: 3, stride: 2, output_padding: 1}
  - adaptive_maxpool: {output_size: 7}
  - upsample: {scale_factor: 2}
  - global_maxpool
  - flatten
  - batchnorm
  - linear: {out_features: 5, bias: false}
  - softmax
""",
    "three_d": """
input: [2, 6, 9, 10]
layers:
  - conv: {out_channels: 4, kernel_size: [3, 3, 1], padding: [1, 0, 0], stride: [1, 2, 1]}
  - batchnorm
  - maxpool: {kernel_size: 2, ceil_mode: true}
  - conv_transpose: {out_channels: 3, kernel_size: 2, stride: 2}
  - lppool: {kernel_size: 2, norm_type: 2}
  - adaptive_avgpool: {output_size: [2, null, 3]}
  - avgpool: {kernel_size: 1, count_include_pad: false}
  - upsample: {scale_factor: [1, 2, 1.5]}
  - global_avgpool
""",
    "structures": """
input: [4, 8, 8]
blocks:
  unit:
    args: {c: 4, s: 1}
    layers:
      - conv: {out_channels: $c, kernel_size: 3, stride: $s, padding: 1}
      - leaky_relu: {negative_slope: 0.2}
layers:
  - residual: {body: [unit, unit: {c: 4}]}
  - residual: {body: [unit: {c: 8, s: 2}], shortcut: [conv: {out_channels: 8, kernel_size: 1, stride: 2}]}
  - concat: {branches: [[], [unit: {c: 2}], [maxpool: {kernel_size: 3, stride: 1, padding: 1}]]}
  - repeat: {times: 2, layers: [unit: {c: 18}, lrn: {size: 3}, gelu, silu, sigmoid, tanh, relu6, identity, dropout]}
""",
    "v2_kinds": """
input: [8, 12, 10]
layers:
  - conv: {out_channels: 8, kernel_size: 3, stride: 2, padding: same}
  - maxpool: {kernel_size: 3, stride: 2, padding: same}
  - avgpool: {kernel_size: 2, stride: 1, padding: same}
  - upsample: {like: input, mode: bilinear}
  - upsample: {size: [7, 9], mode: bicubic, align_corners: true}
  - upsample: {scale_factor: 1.5, mode: nearest}
  - hardswish
  - hardsigmoid
  - mish
  - selu
  - elu: {alpha: 0.5}
  - celu: {alpha: 2}
  - softplus: {beta: 2}
  - hardtanh: {min_val: -2, max_val: 2}
  - prelu: {num_parameters: 8}
  - prelu
  - log_softmax
  - layernorm
  - groupnorm: {num_groups: 4}
  - instancenorm: {affine: true, track_running_stats: true}
  - layer_scale
  - affine
  - affine: {bias: false}
  - batchnorm: {frozen: true}
  - batchnorm: {scale: false}
  - batchnorm: {affine: false}
  - stochastic_depth: {p: 0.2}
  - drop_path: {p: 0.1, mode: batch}
  - dropout2d
  - pad: {padding: [[1, 0], [2, 1]], mode: reflect}
  - pad: {padding: 1, mode: replicate}
  - pad: {padding: 2, mode: circular}
  - pad: {padding: [[0, 1], [0, 0]], value: 3}
  - channel_shuffle: {groups: 4}
  - pixel_unshuffle: {downscale_factor: 2}
  - pixel_shuffle: {upscale_factor: 2}
  - conv: {out_channels: 4, kernel_size: [3, 2], stride: [2, 3], dilation: [1, 2], padding: same}
""",
    "v2_one_and_three_d": """
input: [4, 6, 7, 9]
layers:
  - conv: {out_channels: 4, kernel_size: 3, stride: 2, padding: same}
  - upsample: {size: [5, 6, 7], mode: trilinear}
  - maxpool: {kernel_size: 2, stride: [1, 2, 3], padding: same}
  - layernorm
  - instancenorm
  - dropout3d
  - pad: {padding: 1, mode: reflect}
  - batchnorm: {frozen: true}
  - conv: {out_channels: 6, kernel_size: 1, padding: valid}
  - global_avgpool
  - flatten
  - layernorm
  - prelu
  - log_softmax
""",
}


@pytest.mark.parametrize("name", EDGE_CASES)
def test_edge_case_matches_pytorch(name: str):
    assert_same_as_pytorch(parse_spec(EDGE_CASES[name], f"<{name}>"), device="cpu")


def _random_layer(rng: random.Random) -> tuple[str, list[int]]:
    """A random conv / conv_transpose / pool on a random 1-3-D input, many of them invalid on purpose."""
    ndim = rng.randint(1, 3)
    shape = [rng.choice([1, 2, 4, 6])] + [rng.randint(1, 12) for _ in range(ndim)]
    kind = rng.choice(["conv", "conv_transpose", "maxpool", "avgpool", "minpool", "lppool"])
    k, s, d = rng.randint(1, 5), rng.randint(1, 4), rng.randint(1, 3)
    if kind in ("conv", "conv_transpose"):
        groups = rng.choice([1, 1, 2])
        args = f"out_channels: {2 * rng.randint(1, 3)}, kernel_size: {k}, stride: {s}, dilation: {d}, groups: {groups}"
        if kind == "conv" and rng.random() < 0.3:
            pads = [[rng.randint(0, 3), rng.randint(0, 3)] for _ in range(ndim)]
            args += f", padding: {pads}"
        elif kind == "conv" and rng.random() < 0.3:
            args += ", padding: same"  # TensorFlow's rule when the stride is above 1
        else:
            args += f", padding: {rng.randint(0, 3)}"
        if kind == "conv_transpose":
            args += f", output_padding: {rng.randint(0, 2)}"
    else:
        args = f"kernel_size: {k}, stride: {s}, ceil_mode: {str(rng.random() < 0.5).lower()}"
        if kind in ("maxpool", "avgpool") and rng.random() < 0.25:
            args = args.replace(f"ceil_mode: {str(True).lower()}", "ceil_mode: false") + ", padding: same"
        elif kind != "lppool":
            args += f", padding: {rng.randint(0, 2)}"
        if kind in ("maxpool", "minpool"):
            args += f", dilation: {d}"
    return f"input: {shape}\nlayers:\n  - {kind}: {{{args}}}\n", shape


def _pytorch_figures(text: str) -> tuple[tuple[int, ...], int, int] | None:
    """PyTorch's (shape, params, macs) for a one-layer spec text, or None if PyTorch refuses it."""
    from cnncalc.spec.build import parse_spec as parse_unchecked

    spec = parse_unchecked(text)  # loads only (arguments are typed); no cnncalc arithmetic involved
    layer = spec.layers[0]
    try:
        module = LEAF_BUILDERS[layer.kind](layer, spec.input_shape)
        with torch.no_grad():
            out = module(torch.ones((1, *spec.input_shape)))
    except (RuntimeError, ValueError):
        return None
    if 0 in out.shape:
        return None
    truth = measure(spec, "cpu")
    return truth.output_shape, truth.params, truth.macs


@pytest.mark.parametrize("seed", range(12))
def test_random_layers_agree_with_pytorch_or_both_refuse(seed: int):
    rng = random.Random(seed)
    for _ in range(40):
        text, _shape = _random_layer(rng)
        expected = _pytorch_figures(text)
        try:
            analysis = analyze(parse_spec(text))
            got = (analysis.output_shape, analysis.params, analysis.macs)
        except CnncalcError as exc:
            assert expected is None, f"cnncalc refuses what PyTorch accepts ({expected}):\n{text}{exc.render()}"
            continue
        assert got == expected, f"cnncalc {got} != PyTorch {expected} for\n{text}"


# Inputs PyTorch refuses, found by the random sweep; cnncalc must refuse them too.
REFUSED = {
    # aten pool3d_shape_check(check_input_size=True): avg_pool3d wants every input dim >= kernel,
    # whatever the padding or ceil_mode ("input image (T: 1 H: 5 W: 5) smaller than kernel size").
    "avgpool_3d_input_below_kernel": "input: [1, 1, 5, 5]\nlayers:\n  - avgpool: {kernel_size: 2, stride: 1}\n",
    "lppool_3d_input_below_kernel": "input: [1, 4, 9, 9]\nlayers:\n  - lppool: {kernel_size: 5, ceil_mode: true}\n",
    # "pad should be smaller than or equal to half of kernel size": kernel_size, not the dilated window.
    "maxpool_pad_over_half_kernel": "input: [1, 9]\nlayers:\n  - maxpool: {kernel_size: 3, padding: 2, dilation: 2}\n",
}


@pytest.mark.parametrize("name", REFUSED)
def test_what_pytorch_refuses_cnncalc_refuses(name: str):
    assert _pytorch_figures(REFUSED[name]) is None
    with pytest.raises(CnncalcError):
        analyze(parse_spec(REFUSED[name]))
