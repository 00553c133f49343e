"""Bad input never crashes: each case exits 2 with file:line:column, the gist, and no traceback.

Run through the CLI (`cnncalc table`, or `check` where stated), as a user would meet them.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app

runner = CliRunner()
HEADER = "input: [3, 32, 32]\nlayers:\n"
MEMORY_CAP = 512 * 2**20  # the CLI refusing a bomb needs about 80 MB


def refused(tmp_path: Path, content: str | bytes, command: str = "table", name: str = "bad.yaml") -> tuple[str, str]:
    """Run `cnncalc <command>` on a file with `content`; assert exit 2 without a traceback; give (path, stderr)."""
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    result = runner.invoke(app, [command, str(path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.stderr.count("\n") == 1, "one paragraph"
    return str(path), result.stderr


# cnncalc's own words and positions only: the wording of PyYAML's messages changes between versions.
def test_malformed_yaml(tmp_path):
    path, err = refused(tmp_path, HEADER + "  - conv: {out_channels: 8, kernel_size: 3\n  - relu\n")
    assert err.startswith(f"{path}:5:1: error: invalid YAML: ")


def test_unclosed_brace_names_where_it_opened(tmp_path):
    _, err = refused(tmp_path, HEADER + "  - conv: {out_channels: 8, kernel_size: 3\n  - relu\n")
    assert "The bracket at line 3, column 11 is not closed" in err  # the `{` after `- conv: `


def test_a_tab_in_the_indentation_says_so(tmp_path):
    path, err = refused(tmp_path, HEADER + "  - conv:\n\t  out_channels: 8\n")
    assert err.startswith(f"{path}:4:1: error: invalid YAML: a tab in the indentation.")
    assert "replace it with spaces" in err


def test_a_layer_without_its_dash_is_pointed_at_with_the_fix(tmp_path):
    # PyYAML marks line 5 (past the end); the culprit is `relu` on line 4.
    path, err = refused(tmp_path, HEADER + "  - conv: {out_channels: 8, kernel_size: 3}\n  relu\n")
    assert err.startswith(f"{path}:4:3: error: invalid YAML: ")
    assert "each layer starts with `- `" in err


def test_misaligned_arguments_ask_to_check_the_indentation(tmp_path):
    path, err = refused(tmp_path, HEADER + "  - conv:\n    out_channels: 8\n   kernel_size: 3\n")
    assert err.startswith(f"{path}:5:4: error: invalid YAML:")
    assert "Check the indentation" in err


def test_in_channels_is_not_suggested_as_out_channels(tmp_path):
    # A PyTorch habit (nn.Conv2d(in_channels, ...)); difflib would offer `out_channels`, the opposite.
    path, err = refused(tmp_path, HEADER + "  - conv: {in_channels: 3, out_channels: 8, kernel_size: 3}\n")
    assert err == (
        f"{path}:3:12: error: `conv` has no argument `in_channels`. "
        "It is taken from the layer's input shape; remove `in_channels`.\n"
    )


def test_pytorch_class_names_are_matched_whatever_the_case(tmp_path):
    path, err = refused(tmp_path, HEADER + "  - ReLU\n")
    assert err == f"{path}:3:5: error: unknown layer kind `ReLU`. Did you mean `relu`?\n"


def test_duplicate_keys(tmp_path):
    path, err = refused(tmp_path, HEADER + "  - conv: {out_channels: 8, kernel_size: 3, out_channels: 4}\n")
    assert err.startswith(f"{path}:3:45: error: duplicate key `out_channels` (first given at line 3, column 12)")


def test_unknown_kind_suggests_the_close_one(tmp_path):
    path, err = refused(tmp_path, HEADER + "  - convv: {out_channels: 8, kernel_size: 3}\n")
    assert err == f"{path}:3:5: error: unknown layer kind `convv`. Did you mean `conv`?\n"


def test_unknown_argument_suggests_the_close_one(tmp_path):
    path, err = refused(tmp_path, HEADER + "  - conv: {out_channels: 8, kernal_size: 3}\n")
    assert err == f"{path}:3:29: error: `conv` has no argument `kernal_size`. Did you mean `kernel_size`?\n"


def test_wrong_type(tmp_path):
    path, err = refused(tmp_path, HEADER + "  - conv: {out_channels: 8, kernel_size: abc}\n")
    assert err.startswith(f"{path}:3:42: error: `conv` argument `kernel_size` must be a positive integer")
    assert "'abc'" in err


def test_zero_size(tmp_path):
    path, err = refused(tmp_path, HEADER + "  - conv: {out_channels: 0, kernel_size: 3}\n")
    assert err == f"{path}:3:26: error: `conv` argument `out_channels` must be greater than 0; got 0.\n"


def test_negative_size(tmp_path):
    path, err = refused(tmp_path, HEADER + "  - conv: {out_channels: 8, kernel_size: -3}\n")
    assert err.startswith(f"{path}:3:42: error: `conv` argument `kernel_size` must be a positive integer")


def test_zero_input_size(tmp_path):
    path, err = refused(tmp_path, "input: [3, 0, 32]\nlayers:\n  - relu\n")
    assert err.startswith(f"{path}:1:8: error: the input shape must be 1 to 4 positive integers")


def test_an_input_too_large_for_a_tensor_is_told_as_a_layer_output_is(tmp_path):
    # One message for both (graph.too_large); 2**63 - 1 elements is what torch's int64 indexing reaches.
    limit = "a tensor holds at most 9,223,372,036,854,775,807 (what PyTorch and NumPy can index)."
    path, err = refused(tmp_path, "input: [3, 4000000000000000000]\nlayers:\n  - relu\n")
    assert err == f"{path}:1:8: error: the input shape [3, 4.0e+18] would hold 1.2e+19 elements; {limit}\n"
    path, err = refused(tmp_path, "input: [3, 8]\nlayers:\n  - upsample: {size: 4000000000000000000}\n")
    assert err.startswith(
        f"{path}:3:5: error: layer `upsample1` (upsample): its output [3, 4.0e+18] would hold 1.2e+19 elements; {limit}"
    )


def test_kernel_larger_than_the_padded_input(tmp_path):
    # (5 + 2*1 - 9)/1 + 1 = -1: PyTorch refuses it too ("Kernel size can't be greater than actual input size").
    path, err = refused(
        tmp_path, "input: [3, 5, 5]\nlayers:\n  - conv: {out_channels: 8, kernel_size: 9, padding: 1}\n"
    )
    assert err.startswith(f"{path}:3:42: error: layer `conv1` (conv): the kernel does not fit")
    assert "input 5 + padding 1+1 = 7, effective kernel 9" in err


def test_groups_that_do_not_divide_the_channels(tmp_path):
    path, err = refused(tmp_path, HEADER + "  - conv: {out_channels: 8, kernel_size: 3, groups: 2}\n")
    assert err.startswith(f"{path}:3:53: error: layer `conv1` (conv): groups=2 does not divide the 3 input channels")


def test_mismatched_residual_shapes_show_both(tmp_path):
    text = HEADER + "  - residual:\n      body:\n        - conv: {out_channels: 8, kernel_size: 3, padding: 1}\n"
    path, err = refused(tmp_path, text)
    assert err.startswith(f"{path}:3:5: error: layer `residual1` (residual): the body gives [8, 32, 32]")
    assert "the shortcut gives [3, 32, 32]" in err and "projection" in err


def test_mismatched_concat_spatial_sizes_are_shown(tmp_path):
    text = HEADER + (
        "  - concat:\n      branches:\n"
        "        - [conv: {out_channels: 8, kernel_size: 3}]\n"
        "        - [conv: {out_channels: 8, kernel_size: 1}]\n"
    )
    path, err = refused(tmp_path, text)
    assert err.startswith(f"{path}:3:5: error: layer `concat1` (concat): branches must agree")
    assert "branch 0: [8, 30, 30], branch 1: [8, 32, 32]" in err


def test_linear_on_a_volume_suggests_flatten(tmp_path):
    path, err = refused(tmp_path, HEADER + "  - linear: {out_features: 10}\n")
    assert err.startswith(f"{path}:3:5: error: layer `linear1` (linear): needs a flat input [F]")
    assert "Add `- flatten` before it (giving [3072])" in err


BLOCK = (
    "input: [3, 32, 32]\nblocks:\n  unit:\n    args: {width: 8}\n"
    "    layers:\n      - conv: {out_channels: $width, kernel_size: 3}\n"
)


def test_unknown_block_argument(tmp_path):
    path, err = refused(tmp_path, BLOCK + "layers:\n  - unit: {widht: 4}\n")
    assert (
        err
        == f"{path}:8:12: error: block `unit` has no argument `widht` (its arguments: width). Did you mean `width`?\n"
    )


def test_a_block_using_itself(tmp_path):
    text = "input: [3, 32, 32]\nblocks:\n  a:\n    layers: [b]\n  b:\n    layers: [a]\nlayers:\n  - a\n"
    path, err = refused(tmp_path, text)
    assert err.startswith(f"{path}:6:14: error: block `a` uses itself (a -> b -> a)")


def test_non_utf8_file(tmp_path):
    path, err = refused(tmp_path, HEADER.encode() + b"  - relu # caf\xe9\n")
    assert err.startswith(f"{path}:3:15: error: the file is not UTF-8 text (byte 0xe9")


def test_empty_file(tmp_path):
    path, err = refused(tmp_path, "")
    assert err.startswith(f"{path}:1:1: error: the file is empty.")


def test_comments_only_file(tmp_path):
    path, err = refused(tmp_path, "# nothing here yet\n")
    assert err.startswith(f"{path}:1:1: error: the file is empty.")


def test_folder_given_as_a_file_to_table(tmp_path):
    folder = tmp_path / "models.yaml"
    folder.mkdir()
    result = runner.invoke(app, ["table", str(folder)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith(f"{folder}:1:1: error: this is a folder, not a spec file.")


def test_folder_given_as_answers_to_check(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text(HEADER + "  - relu\n")
    result = runner.invoke(app, ["check", str(spec), "--answers", str(tmp_path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    # QA: answers are not validated: the advice is a glob of the folder's files, not `cnncalc validate`
    assert result.stderr == f"{tmp_path}:1:1: error: this is a folder, not an answers file. Give a glob such as " \
        f"'{tmp_path / '*.yaml'}'.\n"  # fmt: skip


def test_missing_file(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    result = runner.invoke(app, ["table", str(missing)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr == f"{missing}: error: no such file.\n"  # QA: no line or column in a missing file


def test_alias_bomb_is_refused_fast_with_bounded_memory(tmp_path):
    # "Billion laughs": 9 references per level, 12 levels = 9**12 (282 billion) layers if expanded.
    lines = ["input: [3, 8, 8]", "a0: &a0 [relu, relu, relu, relu, relu, relu, relu, relu, relu]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    lines.append("layers: *a11")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    resource = pytest.importorskip("resource")  # POSIX: cap the child's address space

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "cnncalc", "table", str(path)],
        capture_output=True,
        text=True,
        timeout=20,
        preexec_fn=cap_memory,
    )
    assert time.perf_counter() - started < 5
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    assert result.stderr.startswith(f"{path}:2:") and "billion laughs" in result.stderr


def test_absurd_repeat_count_is_refused_quickly(tmp_path):
    started = time.perf_counter()
    path, err = refused(tmp_path, HEADER + "  - repeat: {times: 1000000000, layers: [relu]}\n")
    assert time.perf_counter() - started < 1
    assert err.startswith(f"{path}:3:21: error: `times` must be a whole number from 0 to 10,000; got 1000000000.")


def test_nested_repeats_that_multiply_are_refused_quickly(tmp_path):
    text = HEADER + "  - repeat: {times: 10000, layers: [{repeat: {times: 10000, layers: [relu]}}]}\n"
    started = time.perf_counter()
    path, err = refused(tmp_path, text)
    assert time.perf_counter() - started < 5
    assert err.startswith(f"{path}:3:") and "expands to more than 100,000 layers" in err


def test_deep_yaml_nesting(tmp_path):
    # libyaml has a nesting limit of its own (1,000 in PyYAML 6.0.4); cnncalc's 100 must fire first, at
    # the list that is one level too deep: the root mapping is level 1, so the 100th `[` (column 8 + 100).
    path, err = refused(tmp_path, "input: [3, 8, 8]\nlayers: " + "[" * 5000 + "relu" + "]" * 5000 + "\n")
    assert err == (
        f"{path}:2:108: error: the document nests lists and mappings more than 100 levels deep. "
        "Use `repeat:` or `blocks:` instead of deep nesting.\n"
    )


@pytest.mark.parametrize("levels", [101, 999, 1000, 1001, 20000])
def test_deep_yaml_nesting_gives_the_same_message_at_any_depth(tmp_path, levels):
    # Flow (`[[[`) and block (`- - -`, indented keys) nesting, around libyaml's own limit.
    for text in (
        "input: [3, 8, 8]\nlayers: " + "[" * levels + "relu" + "]" * levels + "\n",
        "input: [3, 8, 8]\nlayers:\n" + "- " * levels + "relu\n",
        "input: [3, 8, 8]\n" + "".join(" " * i + "k:\n" for i in range(min(levels, 1200))),
    ):
        _, err = refused(tmp_path, text)
        assert "nests lists and mappings more than 100 levels deep" in err


def test_nesting_of_exactly_100_levels_is_read(tmp_path):
    # Root mapping + 99 lists = 100 levels: within the limit, so the spec's own error (not a list) is what shows.
    _, err = refused(tmp_path, "input: [3, 8, 8]\nlayers: " + "[" * 99 + "relu" + "]" * 99 + "\n")
    assert "levels deep" not in err


def test_deeply_nested_structures(tmp_path):
    layer = "relu"
    for _ in range(300):
        layer = f"{{residual: {{body: [{layer}]}}}}"
    path, err = refused(tmp_path, f"input: [3, 8, 8]\nlayers:\n  - {layer}\n")
    assert err.startswith(f"{path}:3:") and "levels deep" in err


def test_long_chain_of_blocks(tmp_path):
    lines = ["input: [3, 8, 8]", "blocks:"]
    for i in range(300):
        lines += [f"  b{i}:", f"    layers: [b{i + 1}]"]
    lines += ["  b300:", "    layers: [relu]", "layers: [b0]"]
    path, err = refused(tmp_path, "\n".join(lines) + "\n")
    assert err.startswith(f"{path}:") and "layers nest more than 64 levels deep" in err


def test_argument_reference_outside_a_block(tmp_path):
    path, err = refused(tmp_path, HEADER + "  - conv: {out_channels: $x, kernel_size: 3}\n")
    assert err.startswith(f"{path}:3:26: error: `$x` refers to a block argument, but it is not inside a block")


def test_folder_given_as_the_spec_to_check(tmp_path):
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith(f"{tmp_path}:1:1: error: this is a folder, not a spec file.")


def test_bare_pool_suggests_maxpool_not_lppool(tmp_path):
    # issue 12: spelling distance alone picks `lppool`; the lecture's POOL layers are max pools.
    path, err = refused(tmp_path, HEADER + "  - pool\n")
    assert err == f"{path}:3:5: error: unknown layer kind `pool`. Did you mean `maxpool`?\n"


def test_total_params_in_expect_suggests_params_not_the_bound(tmp_path):
    # issue 12: `total_params` is closest in spelling to `max_params`, an upper bound, not what was meant.
    _, err = refused(tmp_path, HEADER + "  - relu\nexpect:\n  total_params: 0\n")
    assert "has no argument `total_params`. Did you mean `params`?" in err


def test_four_mistakes_are_all_reported_in_file_order(tmp_path):
    # issue 12: one run shows every independent mistake, each its own paragraph, in file order.
    path = tmp_path / "four.yaml"
    path.write_text(
        "input: [3, 32, 32]\nlayrs: 1\nlayers:\n  - conv: {out_channels: 8, kernal_size: 3}\n  - relu\n  - pool\n"
        "  - conv: {out_channels: 8, kernel_size: abc}\n"
    )
    for command in ("table", "validate"):
        result = runner.invoke(app, [command, str(path)])
        assert result.exit_code == 2 and "Traceback" not in result.output
        text = result.stderr if command == "table" else result.stdout
        found = [f"{path}:{where}" for where in ("2:1", "4:29", "6:5", "7:42") if f"{path}:{where}" in text]
        assert len(found) == 4, text
        assert [text.index(f) for f in found] == sorted(text.index(f) for f in found)
    assert "Did you mean `layers`?" in result.stdout and "Did you mean `maxpool`?" in result.stdout


def test_many_mistakes_are_capped(tmp_path):
    from cnncalc.spec.build import MAX_ERRORS

    _, err = refused_lines(tmp_path, HEADER + "  - convv\n" * (MAX_ERRORS + 5))
    assert err.count("unknown layer kind `convv`") == MAX_ERRORS


def refused_lines(tmp_path: Path, content: str) -> tuple[str, str]:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["table", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    return str(path), result.stderr
