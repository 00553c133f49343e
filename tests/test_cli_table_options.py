"""`cnncalc table` options: receptive-field and memory columns, --sort, --depth, --dtype, --batch."""

import csv
import io
import json

from typer.testing import CliRunner

from cnncalc.cli import app

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, ["table", *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def csv_rows(*args: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(invoke(*args, "--format", "csv"))))


def test_rf_and_jump_columns_on_the_lecture_alexnet():
    rows = {r["name"]: r for r in csv_rows("alexnet_cs231n", "--columns", "name,output,rf,jump")}
    # conv5 sees 163x163 pixels, pool3 195 with a jump of 32 (Araujo et al.'s recurrence, see engine tests).
    assert (rows["conv5"]["rf"], rows["conv5"]["jump"]) == ("163", "16")
    assert (rows["pool3"]["rf"], rows["pool3"]["jump"]) == ("195", "32")
    assert rows["fc6"]["rf"] == "227 (all)"
    table = invoke("alexnet_cs231n", "--columns", "name,output,rf,jump")
    assert "RF" in table and "Jump" in table and "195" in table


def test_sort_by_macs_lists_leaves_largest_first_without_blocks():
    rows = csv_rows("resnet18", "--columns", "name,kind,macs", "--sort", "macs")
    macs = [int(r["macs"]) for r in rows]
    assert macs == sorted(macs, reverse=True)
    assert all(r["kind"] not in ("residual", "repeat") for r in rows)
    # ResNet-18's 7x7 stem: 112*112 * 7*7*3 * 64 = 118,013,952 MACs, the single largest conv.
    assert (rows[0]["name"], macs[0]) == ("conv1", 118013952)


def test_sorted_rows_in_the_table_keep_their_full_dotted_names():
    # QA: sorted, ResNet-18's table listed `conv1`, `conv1`, `conv2`... with no telling which block each is in.
    # layer1.0's 3x3 convs: 56*56 * 3*3*64 * 64 = 115,605,504 MACs, next after the stem's 118,013,952.
    lines = invoke("resnet18", "--columns", "name,macs", "--sort", "macs").splitlines()
    assert [line.split()[1] for line in lines if line.startswith("│ ")][:3] == [
        "conv1",
        "layer1.0.res.conv1",
        "layer1.0.res.conv2",
    ]


def test_sort_by_activations_in_the_rich_table():
    output = invoke("alexnet_cs231n", "--columns", "name,activations", "--sort", "activations")
    # conv1 and relu1 (96*55*55 = 290,400 values each) come first.
    first = [line for line in output.splitlines() if "290,400" in line]
    assert len(first) == 2 and "conv1" in first[0] and "relu1" in first[1]


def test_depth_collapses_blocks_and_keeps_the_totals():
    full = json.loads(invoke("resnet50", "--format", "json"))["totals"]
    rows = csv_rows("resnet50", "--columns", "name,params,macs", "--depth", "0")
    names = [r["name"] for r in rows]
    # Depth 0: the stem, the four stages as one row each, and the head.
    assert names == [
        "conv1",
        "bn1",
        "relu1",
        "maxpool",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
        "avgpool",
        "flatten1",
        "fc",
    ]
    assert sum(int(r["params"]) for r in rows) == full["params"] == 25557032
    assert sum(int(r["macs"]) for r in rows) == full["macs"]
    markdown = invoke("resnet50", "--columns", "name,params", "--depth", "0", "--format", "markdown")
    assert "| 25,557,032 |" in markdown  # torchvision's resnet50 parameter count, in the footer


def test_memory_columns_dtype_and_batch():
    rows = {
        r["name"]: r
        for r in csv_rows(
            "alexnet_cs231n",
            "--columns",
            "name,activations,act_bytes,param_bytes",
            "--dtype",
            "float16",
            "--batch",
            "4",
        )
    }
    # conv1: 96*55*55 = 290,400 values per image, x4 images, 2 bytes each; 34,944 params x 2 bytes.
    assert rows["conv1"]["activations"] == str(290400 * 4)
    assert rows["conv1"]["act_bytes"] == str(290400 * 4 * 2)
    assert rows["conv1"]["param_bytes"] == str(34944 * 2)
    footer = invoke("resnet50", "--memory")
    # torchinfo's published figure for torchvision resnet50 at 1x3x224x224.
    assert "forward/backward pass size 177.83 MB" in footer
    assert "Training" in footer or "training" in footer


def test_json_report_gains_receptive_field_and_memory_keys():
    report = json.loads(invoke("alexnet_cs231n", "--format", "json", "--dtype", "bfloat16"))
    conv5 = next(layer for layer in report["layers"] if layer["name"] == "conv5")
    assert conv5["receptive_field"] == [163, 163]
    assert conv5["effective_stride"] == [16, 16]
    assert conv5["activation_bytes"] == 256 * 13 * 13 * 2
    assert report["totals"]["memory"]["dtype"] == "bfloat16"
    # Existing keys unchanged: the per-layer PyTorch counts of the lecture net sum to 62,378,344
    # (34,944 + 614,656 + 885,120 + 1,327,488 + 884,992 + 37,752,832 + 16,781,312 + 4,097,000).
    assert report["totals"]["params"] == 62378344


def test_unknown_sort_key_is_a_usage_error():
    result = runner.invoke(app, ["table", "alexnet_cs231n", "--sort", "speed"])
    assert result.exit_code == 2


def test_depth_and_sort_together_rank_whole_blocks():
    rows = csv_rows("resnet50", "--columns", "name,params", "--depth", "1", "--sort", "params")
    # torchinfo's summary of torchvision resnet50 lists the Bottlenecks of layer4 at 6,039,552 (with the
    # projection) and 4,462,592 params each; --depth 1 shows each Bottleneck as one row.
    assert [(r["name"], int(r["params"])) for r in rows[:3]] == [
        ("layer4.0", 6039552),
        ("layer4.1", 4462592),
        ("layer4.2", 4462592),
    ]


def test_every_dtype_the_memory_estimate_knows_is_a_dtype_choice():
    # The option's choices are built from engine/dtypes.py DTYPE_BYTES: a dtype added there is offered here.
    from cnncalc.engine.dtypes import DTYPE_BYTES

    help_page = runner.invoke(app, ["table", "--help"], env={"COLUMNS": "200"}).output
    for dtype, size in DTYPE_BYTES.items():
        memory = json.loads(invoke("lenet5", "--format", "json", "--dtype", dtype))["totals"]["memory"]
        assert memory["param_bytes"] == 61706 * size  # LeNet-5's 61,706 params (tests/reference/lenet5.json)
        assert dtype in help_page
