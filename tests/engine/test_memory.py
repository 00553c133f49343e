"""Memory estimates: activations, parameters, inference peak, training totals."""

from cnncalc import analyze, load_spec, parse_spec
from cnncalc.engine.memory import estimate
from tests.conftest import SPECS


def resnet50_activation_elements() -> int:
    """Every leaf output of torchvision's resnet50 at 224x224, by hand-rolled shape arithmetic.

    Stem: conv1, bn1, relu at 64x112x112; maxpool 64x56x56. Bottleneck (width w, input side s_in,
    output side s): conv1/bn1/relu w*s_in^2 (v1.5: the 1x1 keeps the input size), conv2/bn2/relu w*s^2,
    conv3/bn3 4w*s^2, the final relu 4w*s^2, and in each stage's first block a conv+bn shortcut 4w*s^2.
    Head: avgpool 2048, flatten 2048, fc 1000.
    """
    total = 3 * 64 * 112 * 112 + 64 * 56 * 56
    side = 56
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for block in range(blocks):
            s_in, s = (side, side // stride) if block == 0 else (side, side)
            total += 3 * width * s_in**2 + 3 * width * s**2 + 3 * 4 * width * s**2
            if block == 0:
                total += 2 * 4 * width * s**2
            side = s
    return total + 2048 + 2048 + 1000


def test_resnet50_float32_batch1_matches_torchinfo_and_hand_count():
    memory = estimate(analyze(load_spec(SPECS / "resnet50.yaml")))
    # torchinfo's published summary of torchvision resnet50 on (1, 3, 224, 224):
    # "Input size (MB): 0.60", "Params size (MB): 102.23", "Forward/backward pass size (MB): 177.83",
    # the last being 2 x the float32 outputs of the leaf layers with parameters (model_statistics.py).
    assert round(memory.input_bytes / 1e6, 2) == 0.60
    assert round(memory.param_bytes / 1e6, 2) == 102.23
    assert round(memory.torchinfo_forward_backward_bytes / 1e6, 2) == 177.83
    assert round(memory.torchinfo_total_bytes / 1e6, 2) == 280.66  # "Estimated Total Size (MB): 280.66"
    assert memory.activation_bytes == 4 * resnet50_activation_elements()


def test_dtype_and_batch_scale_bytes():
    analysis = analyze(load_spec(SPECS / "alexnet_cs231n.yaml"))
    base, half = estimate(analysis), estimate(analysis, "float16", batch=8)
    # float16 is 2 bytes instead of 4; activations scale with the batch, parameters do not.
    assert half.activation_bytes == base.activation_bytes * 8 // 2
    assert half.param_bytes == base.param_bytes // 2
    assert estimate(analysis, "int8").param_bytes == analysis.params
    # conv1's output 96x55x55 (the slide's [55x55x96]) in float32.
    assert base.by_name["conv1"].activation_bytes == 96 * 55 * 55 * 4
    assert base.by_name["conv1"].param_bytes == 34944 * 4


def test_training_totals_add_gradients_and_optimizer_state():
    analysis = analyze(load_spec(SPECS / "alexnet_cs231n.yaml"))
    memory = estimate(analysis)
    params = analysis.params * 4
    # params + gradients + momentum (SGD) or two moments (Adam), plus every activation and the input.
    assert memory.training_bytes("sgd_momentum") == memory.input_bytes + 3 * params + memory.activation_bytes
    assert memory.training_bytes("adam") == memory.input_bytes + 4 * params + memory.activation_bytes


def test_inference_peak_keeps_a_residual_input_alive_until_the_add():
    analysis = analyze(
        parse_spec(
            """
input: [2, 8]
layers:
  - conv: {out_channels: 4, kernel_size: 1}
  - residual:
      body:
        - conv: {out_channels: 4, kernel_size: 3, padding: 1}
        - relu
"""
        )
    )
    memory = estimate(analysis)
    # Elements: input 16, every later output 4*8 = 32. conv1: 16 + 32 = 48. Inside the residual its input x
    # (32) waits for the add: body conv 32 + 32 = 64, relu x + conv out + relu out = 96; the add reads the
    # relu output and x and writes 32 more: 96. Peak 96 elements = 384 bytes.
    assert memory.peak_activation_bytes == 96 * 4
    assert memory.inference_bytes == analysis.params * 4 + 96 * 4
    # Without the residual the same layers peak at two tensors at once: 32 + 32 = 64.
    plain = estimate(
        analyze(
            parse_spec(
                """
input: [2, 8]
layers:
  - conv: {out_channels: 4, kernel_size: 1}
  - conv: {out_channels: 4, kernel_size: 3, padding: 1}
  - relu
"""
            )
        )
    )
    assert plain.peak_activation_bytes == 64 * 4


def test_inference_peak_frees_the_block_input_after_its_last_reader():
    analysis = analyze(
        parse_spec(
            """
input: [2, 8]
layers:
  - conv: {out_channels: 4, kernel_size: 1}
  - residual:
      body: [conv: {out_channels: 4, kernel_size: 3, padding: 1}]
      shortcut: [conv: {out_channels: 4, kernel_size: 1}, batchnorm]
"""
        )
    )
    # Elements (every tensor 32 but the input's 16): conv1 16 + 32 = 48; body conv: x + out = 64;
    # shortcut conv: body out + x + out = 96; then x has no reader left, so the shortcut batchnorm holds
    # body out + conv out + bn out = 96 (not 128); the add: 32 + 32 + 32 = 96.
    assert estimate(analysis).peak_activation_bytes == 96 * 4


def test_structure_rows_sum_their_leaves():
    analysis = analyze(load_spec(SPECS / "resnet50.yaml"))
    memory = estimate(analysis)
    leaves = [row for row in analysis.rows if row.leaf and row.name.startswith("layer1.")]
    assert memory.by_name["layer1"].activations == sum(memory.by_name[row.name].activations for row in leaves)


def test_inference_peak_follows_references_in_the_graph():
    analysis = analyze(
        parse_spec(
            """
input: [2, 4, 4]
layers:
  - conv: {name: a, out_channels: 2, kernel_size: 1}
  - conv: {name: b, out_channels: 2, kernel_size: 1, from: input}
  - add: {from: [a, b]}
"""
        )
    )
    # Every tensor has 2*4*4 = 32 elements. The input is read by a and b, so it lives until b has run:
    # at a: input + a = 64; at b: input + a + b = 96, then the input is freed; at the add: a + b + sum = 96.
    assert estimate(analysis).peak_activation_bytes == 96 * 4


def test_split_sections_are_views_that_keep_their_input_alive():
    analysis = analyze(
        parse_spec(
            """
input: [4, 4, 4]
layers:
  - split: {sections: 2, branches: [[], [conv: {out_channels: 2, kernel_size: 3, padding: 1}]]}
"""
        )
    )
    # The input (64 elements) backs both sections (views, no memory of their own) until the concatenation
    # reads section 0: at the conv 64 + 32 = 96; at the concatenation 64 + 32 + 64 = 160.
    assert estimate(analysis).peak_activation_bytes == 160 * 4
