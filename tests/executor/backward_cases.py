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
