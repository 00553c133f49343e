"""Version 2 of the spec language, sentence by sentence (shared/spec-language.md, "A graph, not only a chain" and
"Blocks that compute"), through parse_spec + analyze.

Every figure is worked by hand from PyTorch's documented formulas: conv params `C_out*C_in*k*k + C_out`, conv
MACs `prod(out_spatial)*k*k*C_in*C_out`, `torch.chunk`/`torch.split` on dim 1, and broadcasting (each dim equal
or 1). Errors assert the message's gist and the line:column of the culprit.
"""

from textwrap import dedent

import pytest

from cnncalc import analyze, parse_spec
from cnncalc.errors import CnncalcError, Position


def spec(text: str):
    return parse_spec(dedent(text).lstrip("\n"), "t.yaml")


def rows(text: str) -> dict:
    return {row.name: row for row in analyze(spec(text)).rows}


def error(text: str) -> CnncalcError:
    with pytest.raises(CnncalcError) as info:
        analyze(spec(text))
    assert info.value.exit_code == 2
    return info.value


def at(line: int, column: int) -> Position:
    return Position("t.yaml", line, column)


# --- from: and the merges -----------------------------------------------------------------------------

BRANCHING = """
    input: [3, 8, 8]
    layers:
      - conv: {name: a, out_channels: 4, kernel_size: 3, padding: 1}
      - conv: {name: b, out_channels: 4, kernel_size: 3, padding: 1}
      - conv: {name: c, out_channels: 4, kernel_size: 1, from: input}
      - add: {from: [b, c]}
      - relu
    """


def test_from_takes_the_named_input_and_the_next_layer_goes_on_from_it():
    got = rows(BRANCHING)
    assert got["b"].inputs == ["a"] and got["c"].inputs == ["input"]
    assert got["c"].input_shape == (3, 8, 8)
    assert got["c"].params == 3 * 4 + 4  # 1x1 conv from the 3-channel input
    assert got["c"].macs == 8 * 8 * 3 * 4
    assert got["add1"].inputs == ["b", "c"] and got["add1"].output_shape == (4, 8, 8)
    assert got["add1"].params == 0 and got["add1"].macs == 0
    assert got["relu1"].inputs == ["add1"]
    # a: 4*3*9 + 4, b: 4*4*9 + 4, c: 16
    assert analyze(spec(BRANCHING)).params == 112 + 148 + 16


def test_add_needs_equal_shapes_and_shows_them():
    e = error(
        """
        input: [3, 8, 8]
        layers:
          - conv: {name: a, out_channels: 4, kernel_size: 3}
          - add: {from: [a, input]}
        """
    )
    assert "cannot be added" in e.message and "`a`: [4, 6, 6]" in e.message and "`input`: [3, 8, 8]" in e.message
    assert e.position == at(4, 5)


def test_multiply_broadcasts_a_gate_over_the_volume():
    got = rows(
        """
        input: [8, 6, 6]
        layers:
          - global_avgpool: {name: pooled}
          - multiply: {from: [input, pooled]}
        """
    )
    assert got["multiply1"].output_shape == (8, 6, 6)  # [8, 6, 6] * [8, 1, 1]


@pytest.mark.parametrize(
    ("gate", "gist"),
    [
        ("- conv: {name: g, out_channels: 4, kernel_size: 6}", "do not broadcast"),  # [4, 1, 1] vs [8, 6, 6]
        ("- flatten: {name: g}", "different ranks"),  # [288] vs [8, 6, 6]
    ],
)
def test_multiply_shapes_that_do_not_broadcast_are_an_error_showing_them(gate, gist):
    e = error(f"input: [8, 6, 6]\nlayers:\n  {gate}\n  - multiply: {{from: [input, g]}}\n")
    assert gist in e.message and "[8, 6, 6]" in e.message
    assert e.position == at(4, 5)


def test_concat_from_sums_the_channels():
    got = rows(
        """
        input: [3, 8, 8]
        layers:
          - conv: {name: a, out_channels: 4, kernel_size: 1}
          - concat: {from: [input, a, a]}
        """
    )
    assert got["concat1"].output_shape == (3 + 4 + 4, 8, 8)


def test_merges_over_branches_fed_the_same_input():
    got = rows(
        """
        input: [4, 6, 6]
        layers:
          - add: {branches: [[], [conv: {out_channels: 4, kernel_size: 3, padding: 1}]]}
          - multiply: {branches: [[], [global_avgpool, sigmoid]]}
        """
    )
    assert got["add1"].output_shape == (4, 6, 6) and got["add1"].params == 4 * 4 * 9 + 4
    assert got["add1.1"].input_shape == (4, 6, 6)
    assert got["multiply1"].output_shape == (4, 6, 6) and got["multiply1.1.global_avgpool1"].output_shape == (4, 1, 1)


def test_a_merge_from_list_needs_two_names_and_other_kinds_take_one():
    e = error("input: [3, 4, 4]\nlayers:\n  - relu: {name: a}\n  - add: {from: [a]}\n")
    assert "at least two" in e.message
    e = error("input: [3, 4, 4]\nlayers:\n  - relu: {name: a}\n  - relu: {from: [a, input]}\n")
    assert "takes one layer name" in e.message and e.position == at(4, 18)


# --- names: scoping, input, errors ------------------------------------------------------------------------


def test_unknown_or_later_names_are_errors_with_did_you_mean():
    e = error("input: [3, 4, 4]\nlayers:\n  - relu: {name: stem}\n  - relu: {from: stme}\n  - relu: {name: later}\n")
    assert "no earlier layer is named `stme`" in e.message and e.hint == "Did you mean `stem`?"
    assert e.position == at(4, 18)
    e = error("input: [3, 4, 4]\nlayers:\n  - relu: {from: later}\n  - relu: {name: later}\n")
    assert "no earlier layer is named `later`" in e.message


def test_a_short_name_does_not_reach_into_a_nested_list_but_a_dotted_path_does():
    text = """
        input: [3, 8, 8]
        layers:
          - repeat: {name: s1, times: 1, layers: [conv: {name: c1, out_channels: 5, kernel_size: 1}, relu]}
          - relu: {from: FROM}
        """
    assert "no earlier layer" in error(text.replace("FROM", "c1")).message
    assert rows(text.replace("FROM", "s1.0.c1"))["relu1"].inputs == ["s1.0.c1"]


def test_input_means_the_input_of_the_list_being_read():
    got = rows(
        """
        input: [3, 8, 8]
        layers:
          - conv: {out_channels: 6, kernel_size: 1}
          - concat:
              branches:
                - [conv: {name: x, out_channels: 2, kernel_size: 1}, relu: {from: input}]
                - []
        """
    )
    # Inside the branch, `input` is the branch's input: conv1's [6, 8, 8], not the network's [3, 8, 8].
    assert got["concat1.0.relu1"].input_shape == (6, 8, 8)
    assert got["concat1"].output_shape == (12, 8, 8)  # the relu branch gives 6 channels, the identity 6


def test_names_inside_a_block_stop_at_its_boundary():
    text = """
        input: [3, 8, 8]
        blocks:
          b:
            layers:
              - relu: {from: FROM}
        layers:
          - conv: {name: outer, out_channels: 4, kernel_size: 1}
          - b
        """
    e = error(text.replace("FROM", "outer"))
    assert "no earlier layer is named `outer`" in e.message and "Inside a block" in e.hint
    assert rows(text.replace("FROM", "input"))["b1.relu1"].input_shape == (4, 8, 8)  # the block use's input


def test_the_nearest_name_wins():
    got = rows(
        """
        input: [3, 8, 8]
        layers:
          - conv: {name: x, out_channels: 2, kernel_size: 1}
          - residual:
              body:
                - conv: {name: x, out_channels: 5, kernel_size: 1}
                - conv: {out_channels: 2, kernel_size: 1, from: x}
        """
    )
    assert got["residual1.conv1"].inputs == ["residual1.x"] and got["residual1.conv1"].input_shape == (5, 8, 8)


# --- split and outputs -------------------------------------------------------------------------------------


def test_split_cuts_the_channels_into_sections_one_branch_each():
    got = rows(
        """
        input: [8, 6, 6]
        layers:
          - split: {sections: 2, branches: [[], [conv: {out_channels: 4, kernel_size: 3, padding: 1}]]}
          - split: {sections: [2, 6], branches: [[relu], []]}
        """
    )
    assert got["split1.1"].input_shape == (4, 6, 6)  # torch.chunk(x, 2, dim=1): 4 + 4
    assert got["split1"].output_shape == (8, 6, 6) and got["split1"].params == 4 * 4 * 9 + 4
    assert got["split2.0"].input_shape == (2, 6, 6)  # torch.split(x, [2, 6], dim=1)
    assert got["split2"].output_shape == (8, 6, 6)


@pytest.mark.parametrize(
    ("sections", "branches", "gist"),
    [
        ("3", "[[], [], []]", "3 sections do not divide the 8 input channels"),
        ("[2, 5]", "[[], []]", "add up to 7, but the input has 8"),
        ("2", "[[]]", "2 sections but 1 branches"),
    ],
)
def test_split_sections_must_fit_the_channels(sections, branches, gist):
    e = error(f"input: [8, 6, 6]\nlayers:\n  - split: {{sections: {sections}, branches: {branches}}}\n")
    assert gist in e.message and e.position.line == 3


FPN = """
    input: [3, 32, 32]
    layers:
      - conv: {name: c3, out_channels: 8, kernel_size: 3, stride: 2, padding: 1}
      - conv: {name: c4, out_channels: 16, kernel_size: 3, stride: 2, padding: 1}
      - conv: {name: p4, out_channels: 4, kernel_size: 1}
      - upsample: {scale_factor: 2}
      - conv: {name: lateral3, out_channels: 4, kernel_size: 1, from: c3}
      - add: {name: p3, from: [upsample1, lateral3]}
      - conv: {name: head, out_channels: 2, kernel_size: 1, from: c4}
    outputs: [p3, p4]
    """


def test_several_outputs_are_reported_and_the_first_is_output_shape():
    analysis = analyze(spec(FPN))
    assert analysis.outputs == [("p3", (4, 16, 16)), ("p4", (4, 8, 8))]
    assert analysis.output_shape == (4, 16, 16)


def test_a_layer_no_output_depends_on_is_a_warning_and_its_params_still_count():
    analysis = analyze(spec(FPN))
    assert any("head: no output depends on it" in w for w in analysis.warnings)
    assert analysis.row("head").params == 16 * 2 + 2  # counted, as PyTorch counts an unused module
    with pytest.raises(CnncalcError, match="no output depends"):
        analyze(spec(FPN), strict=True)


def test_an_unknown_output_is_an_error_with_did_you_mean():
    e = error(FPN.replace("[p3, p4]", "[p3, pp4]"))
    assert "no earlier layer is named `pp4`" in e.message and e.hint == "Did you mean `p4`?"


# --- blocks that compute -----------------------------------------------------------------------------------

MBCONV = """
    input: [16, 8, 8]
    blocks:
      mb:
        args: {out: null, stride: 1, expand: 4, hidden: $in_channels * 4}
        layers:
          - residual:
              when: $stride == 1 and $in_channels == $out
              body:
                - conv: {when: $expand != 1, out_channels: $hidden, kernel_size: 1}
                - conv: {out_channels: $hidden, kernel_size: 3, padding: 1, groups: $hidden}
                - conv: {out_channels: $out, kernel_size: 1}
          - conv: {when: not ($stride == 1 and $in_channels == $out), out_channels: $out, kernel_size: 3,
                   stride: $stride, padding: 1}
    layers:
      - mb: {out: 16}
      - mb: {out: 24, stride: 2}
      - mb: {out: 24, expand: 1, hidden: 24}
    """


def test_in_channels_when_and_defaults_evaluated_in_the_use():
    got = rows(MBCONV)
    # mb1: 16 -> 16, stride 1: the residual exists; hidden = 16 * 4 = 64 from the default, in the use.
    assert got["mb1.residual1.conv1"].params == 16 * 64 + 64
    assert got["mb1.residual1.conv2"].params == 64 * 9 + 64  # depthwise: groups = 64
    assert "mb1.conv1" not in got  # its `when:` is false
    # mb2: 16 -> 24 with stride 2: no residual, the plain conv; it is conv1 (a removed layer uses no number).
    assert got["mb2.conv1"].output_shape == (24, 4, 4) and "mb2.residual1" not in got
    # mb3: expand 1 removes the expansion conv, so the depthwise conv is conv1.
    assert [name for name in got if name.startswith("mb3.residual1.")] == ["mb3.residual1.conv1", "mb3.residual1.conv2"]
    assert got["mb3.residual1"].params == (24 * 9 + 24) + (24 * 24 + 24)


def test_a_removed_layer_uses_up_no_auto_name_number():
    got = rows(
        """
        input: [3, 4, 4]
        blocks:
          b:
            args: {gate: false}
            layers: [relu: {when: $gate}, relu, sigmoid]
        layers: [b]
        """
    )
    assert [name for name in got if name.startswith("b1.")] == ["b1.relu1", "b1.sigmoid1"]


def test_from_a_removed_layer_says_why_it_is_absent():
    e = error(
        """
        input: [3, 4, 4]
        blocks:
          b:
            args: {gate: false}
            layers: [relu: {name: g, when: $gate}, sigmoid: {from: g}]
        layers: [b]
        """
    )
    assert "absent here, because its `when:` is false" in e.message


@pytest.mark.parametrize("when", ["$width", '"$width + 1"', "yes please"])
def test_when_must_be_a_boolean(when):
    e = error(
        f"input: [3, 4, 4]\nblocks:\n  b:\n    args: {{width: 2}}\n    layers: [relu: {{when: {when}}}]\nlayers: [b]\n"
    )
    assert "`when:` must be true or false" in e.message


def test_in_channels_outside_every_block_is_an_error():
    e = error("input: [3, 4, 4]\nlayers:\n  - conv: {out_channels: $in_channels, kernel_size: 1}\n")
    assert "outside every block" in e.message and e.position == at(3, 26)


def test_in_channels_of_a_block_use_argument_is_the_enclosing_blocks():
    got = rows(
        """
        input: [6, 4, 4]
        blocks:
          inner:
            args: {width: null}
            layers: [conv: {out_channels: $width, kernel_size: 1}]
          outer:
            layers:
              - conv: {out_channels: 3, kernel_size: 1}
              - inner: {width: $in_channels * 2}
        layers: [outer]
        """
    )
    # `$in_channels * 2` is written in outer's body, where it means outer's input: 6 -> width 12.
    assert got["outer1.inner1.conv1"].output_shape == (12, 4, 4)


def test_index_and_times_in_a_top_level_repeat_and_times_zero():
    got = rows(
        """
        input: [3, 4, 4]
        layers:
          - repeat: {times: 3, layers: [conv: {out_channels: "$index * 2 + $times", kernel_size: 1}]}
          - repeat: {name: nothing, times: 0, layers: [relu]}
        """
    )
    assert [got[f"repeat1.{i}"].output_shape[0] for i in range(3)] == [3, 5, 7]
    assert got["nothing"].output_shape == (7, 4, 4) and got["nothing"].params == 0  # the identity


def test_trainable_false_counts_params_as_non_trainable():
    analysis = analyze(
        spec(
            """
            input: [3, 4, 4]
            layers:
              - conv: {out_channels: 2, kernel_size: 1, trainable: false}
              - residual: {trainable: false, body: [conv: {out_channels: 2, kernel_size: 1}]}
              - conv: {out_channels: 2, kernel_size: 1}
            """
        )
    )
    assert analysis.params == 8 + 6 + 6  # 3*2 + 2, then 2*2 + 2 twice
    assert analysis.non_trainable_params == 8 + 6 and analysis.trainable_params == 6
    assert analysis.row("residual1.conv1").trainable_params == 0
