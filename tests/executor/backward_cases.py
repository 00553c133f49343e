"""Small networks covering every kind and option, shared by the autograd and finite-difference tests."""

# One small network per kind and option.
KIND_CASES = [
    ((3, 7, 6), [{"conv": {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": [[1, 0], [2, 1]]}}]),
    ((4, 9), [{"conv": {"out_channels": 6, "kernel_size": 3, "dilation": 2, "groups": 2, "padding": "same"}}]),
    ((2, 4, 5, 4), [{"conv": {"out_channels": 2, "kernel_size": 2, "stride": [1, 2, 1], "bias": False}}]),
    (
        (4, 5, 5),
        [
            {
                "conv_transpose": {
                    "out_channels": 6,
                    "kernel_size": 3,
                    "stride": 2,
                    "padding": 1,
                    "output_padding": 1,
                    "groups": 2,
                }
            }
        ],
    ),
    ((3, 4), [{"conv_transpose": {"out_channels": 2, "kernel_size": 4, "stride": 3, "dilation": 2, "padding": 3}}]),
    ((2, 7, 8), [{"maxpool": {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}}]),
    ((2, 9, 8), [{"maxpool": {"kernel_size": 2, "stride": 1, "dilation": 2}}]),
    ((2, 7, 6), [{"minpool": {"kernel_size": 3, "stride": 2}}]),
    ((2, 7, 8), [{"avgpool": {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}}]),
    ((2, 7, 8), [{"avgpool": {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}}]),
    ((2, 5, 6, 5), [{"avgpool": {"kernel_size": 2, "ceil_mode": True}}]),
    ((2, 7, 8), [{"lppool": {"kernel_size": 2, "norm_type": 3}}]),
    ((3, 7, 5), [{"adaptive_avgpool": {"output_size": [3, 4]}}]),
    ((3, 7, 5, 3), [{"adaptive_maxpool": {"output_size": [3, 2, 2]}}]),
    ((3, 2, 3), [{"adaptive_maxpool": {"output_size": [4, 5]}}]),
    ((3, 5, 4), ["global_avgpool", "flatten", {"linear": {"out_features": 3}}]),
    ((3, 5, 4), ["global_maxpool"]),
    ((6, 5, 4), ["batchnorm", {"lrn": {"size": 3, "alpha": 0.5, "beta": 0.75, "k": 2.0}}, {"lrn": {"size": 4}}]),
    ((4, 6), ["relu", "relu6", {"leaky_relu": {"negative_slope": 0.1}}, "sigmoid", "tanh", "silu", "gelu"]),
    ((4, 6), [{"gelu": {"approximate": "tanh"}}, "dropout", "identity", {"softmax": {"dim": 0}}]),
    ((2, 3, 4), [{"upsample": {"scale_factor": 2}}, {"upsample": {"scale_factor": [1.5, 0.7]}}]),
    ((2, 4, 3), [{"upsample": {"scale_factor": 2.5}}]),
    # Issue 10's kinds.
    (
        (4, 6),
        [
            "hardswish",
            "hardsigmoid",
            "mish",
            "selu",
            {"elu": {"alpha": 0.7}},
            {"celu": {"alpha": 1.5}},
            {"softplus": {"beta": 2, "threshold": 3}},
            {"hardtanh": {"min_val": -0.5, "max_val": 2}},
        ],
    ),
    ((3, 4, 5), [{"prelu": {"num_parameters": 3}}, "prelu", {"log_softmax": {"dim": 0}}]),
    ((3, 4, 5), [{"log_softmax": {"dim": -1}}]),
    # Not a norm over the positions last: an mse of its output to a constant would not depend on its input.
    ((4, 3, 5), ["instancenorm", {"instancenorm": {"affine": True}}, {"groupnorm": {"num_groups": 2}}, "layernorm"]),
    ((4, 3, 5), [{"groupnorm": {"num_groups": 4}}, {"instancenorm": {"affine": True, "track_running_stats": True}}]),
    ((6,), ["layernorm", {"layernorm": {"elementwise_affine": False}}, {"prelu": {"num_parameters": 6}}]),
    (
        (4, 3, 5),
        [
            {"batchnorm": {"affine": False}},
            {"batchnorm": {"frozen": True}},
            {"batchnorm": {"scale": False}},
            {"batchnorm": {"center": False}},
        ],
    ),
    ((4, 3, 5), ["layer_scale", "affine", {"affine": {"bias": False}}, {"affine": {"scale": False}}]),
    ((4, 3, 5), [{"stochastic_depth": {"p": 0.2}}, "dropout2d", {"channel_shuffle": {"groups": 2}}]),
    ((4, 3, 2, 2), ["dropout3d", {"channel_shuffle": {"groups": 4}}]),
    ((8, 4, 6), [{"pixel_unshuffle": {"downscale_factor": 2}}, {"pixel_shuffle": {"upscale_factor": 2}}]),
    ((8, 2, 3), [{"pixel_shuffle": {"upscale_factor": 2}}]),
    (
        (2, 4, 5),
        [
            {"pad": {"padding": [[2, 1], [1, 3]], "mode": "reflect"}},
            {"pad": {"padding": [[3, 1], [0, 2]], "mode": "replicate"}},
            {"pad": {"padding": [[2, 4], [1, 3]], "mode": "circular"}},
            {"pad": {"padding": 1, "value": 2.0}},
        ],
    ),
    ((2, 5), [{"pad": {"padding": [[4, 3]], "mode": "reflect"}}, {"pad": {"padding": [[5, 0]], "mode": "circular"}}]),
    ((2, 3, 4, 3), [{"pad": {"padding": [1, 2, 1], "mode": "reflect"}}, {"pad": {"padding": 1, "mode": "replicate"}}]),
    ((2, 3, 4), [{"upsample": {"scale_factor": 1.5}}, {"upsample": {"size": [7, 3]}}]),
    (
        (2, 3, 4),
        [
            {"upsample": {"scale_factor": 2.5, "mode": "bilinear"}},
            {"upsample": {"size": [5, 11], "mode": "bilinear", "align_corners": True}},
            {"upsample": {"scale_factor": [0.6, 0.5], "mode": "bilinear"}},
        ],
    ),
    (
        (2, 3, 4),
        [
            {"upsample": {"scale_factor": [0.6, 1.7], "mode": "bicubic"}},
            {"upsample": {"size": [9, 5], "mode": "bicubic", "align_corners": True}},
        ],
    ),
    (
        (2, 5),
        [
            {"upsample": {"scale_factor": 2.5, "mode": "linear"}},
            {"upsample": {"size": 7, "mode": "linear", "align_corners": True}},
        ],
    ),
    (
        (2, 3, 4, 2),
        [
            {"upsample": {"scale_factor": 2, "mode": "trilinear"}},
            {"upsample": {"size": [4, 5, 3], "mode": "trilinear", "align_corners": True}},
        ],
    ),
    # TensorFlow's `same`: asymmetric pads, -inf max-pool padding, an average without the padding.
    (
        (3, 7, 6),
        [
            {"conv": {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": "same"}},
            {"maxpool": {"kernel_size": 3, "stride": 2, "padding": "same"}},
        ],
    ),
    ((3, 8, 6), [{"conv": {"out_channels": 2, "kernel_size": [4, 3], "stride": 3, "dilation": 1, "padding": "same"}}]),
    (
        (3, 7, 6),
        [
            {"avgpool": {"kernel_size": 3, "stride": 2, "padding": "same"}},
            {"avgpool": {"kernel_size": 2, "stride": 1, "padding": "same"}},
        ],
    ),
    # `like:`: the second input (here the conv) gives only its size.
    (
        (3, 4, 4),
        [
            {"conv": {"name": "a", "out_channels": 2, "kernel_size": 1}},
            {"maxpool": {"kernel_size": 2}},
            {"upsample": {"like": "a", "mode": "bilinear"}},
        ],
    ),
]

# Every merge: a residual, channel sections, a broadcast product (a [3, 1, 1] gate), concat, add.
MERGE_LAYERS = [
    {"conv": {"name": "stem", "out_channels": 4, "kernel_size": 3, "padding": 1}},
    {"residual": {"body": [{"conv": {"out_channels": 4, "kernel_size": 3, "padding": 1}}, "relu"]}},
    {"split": {"sections": [1, 3], "branches": [["relu"], [{"conv": {"out_channels": 2, "kernel_size": 1}}]]}},
    {"conv": {"name": "gate_src", "out_channels": 3, "kernel_size": 1}},
    {"global_avgpool": {"name": "squeeze"}},
    {"multiply": {"from": ["gate_src", "squeeze"]}},
    {"concat": {"from": ["stem", "gate_src"]}},
    {"add": {"branches": [["relu"], ["sigmoid"]]}},
]
