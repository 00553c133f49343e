"""The positioned YAML reader: positions, duplicate keys, merge keys, floats, hostile files."""

import pytest

from cnncalc.errors import Position, SpecError
from cnncalc.spec.yaml_source import YList, YMap, load_yaml_file, parse_yaml


def yaml_error(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        parse_yaml(text, "t.yaml")
    return info.value


def test_mappings_and_lists_remember_where_each_value_is():
    doc = parse_yaml("input: [3, 32, 32]\nlayers:\n  - relu\n  - conv: {out_channels: 8}\n", "t.yaml")
    assert isinstance(doc, YMap) and isinstance(doc["layers"], YList)
    assert doc.key_pos["layers"] == Position("t.yaml", 2, 1)
    assert doc.value_pos["input"] == Position("t.yaml", 1, 8)
    assert doc["layers"].item_pos == [Position("t.yaml", 3, 5), Position("t.yaml", 4, 5)]
    conv_args = doc["layers"][1]["conv"]
    assert conv_args.key_pos["out_channels"] == Position("t.yaml", 4, 12)
    assert conv_args.value_pos["out_channels"] == Position("t.yaml", 4, 26)


def test_duplicate_key_is_refused_at_the_second_one_naming_the_first():
    error = yaml_error("layers:\n  - conv: {kernel_size: 3,\n      kernel_size: 5}\n")
    assert "duplicate key `kernel_size`" in error.message
    assert "first given at line 2, column 12" in error.message
    assert error.position == Position("t.yaml", 3, 7)


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("5e9", 5e9),  # the contract: `5e9` is a float, as a PyTorch user means it (YAML 1.1 says string)
        ("5.0e9", 5e9),  # the contract's own example `max_macs: 5.0e9` (YAML 1.1 needs a signed exponent)
        ("1e-4", 1e-4),
        ("-2E+3", -2000.0),
        ("5.0e+9", 5e9),  # already a float in YAML 1.1
    ],
)
def test_scientific_notation_is_read_as_a_float(written, value):
    doc = parse_yaml(f"max_macs: {written}\n", "t.yaml")
    assert isinstance(doc["max_macs"], float)
    assert doc["max_macs"] == value


def test_quoted_scientific_notation_stays_text():
    assert parse_yaml("a: \"5e9\"\nb: '1e3'\n", "t.yaml") == {"a": "5e9", "b": "1e3"}


def test_merge_key_copies_the_anchor_and_explicit_keys_win():
    doc = parse_yaml(
        "base: &c3 {out_channels: 4, kernel_size: 3, padding: 1}\nconv: {<<: *c3, out_channels: 8}\n", "t.yaml"
    )
    assert doc["conv"] == {"out_channels": 8, "kernel_size": 3, "padding": 1}
    # A merged key points at the merged mapping (line 1), an explicit one at itself.
    assert doc["conv"].key_pos["kernel_size"] == Position("t.yaml", 1, 7)
    assert doc["conv"].key_pos["out_channels"] == Position("t.yaml", 2, 17)


def test_merge_key_accepts_a_list_of_mappings():
    doc = parse_yaml("a: &a {x: 1}\nb: &b {y: 2}\nc: {<<: [*a, *b]}\n", "t.yaml")
    assert doc["c"] == {"x": 1, "y": 2}


def test_merging_a_scalar_is_an_error():
    error = yaml_error("a: &a 3\nb: {<<: *a}\n")
    assert "`<<` must merge a mapping" in error.message
    assert error.position == Position("t.yaml", 1, 4)


def test_billion_laughs_is_refused_not_expanded():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]  # 10**7 values
    error = yaml_error("\n".join(lines) + "\n")
    assert "billion laughs" in error.message
    assert error.hint and "repeat" in error.hint


def test_invalid_yaml_points_at_the_problem():
    error = yaml_error("layers:\n  - conv: out_channels: 8\n")
    assert error.message.startswith("invalid YAML: ")
    assert error.hint and "write the kind with its colon" in error.hint
    # The second `:` on line 2 (column 23) is where YAML cannot go on.
    assert error.position == Position("t.yaml", 2, 23)


def test_a_list_as_a_mapping_key_is_refused():
    error = yaml_error("? [a, b]\n: 1\n")
    assert "plain word" in error.message
    assert error.position == Position("t.yaml", 1, 3)


def test_files_that_are_not_utf8_give_the_line_and_column_of_the_bad_byte(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode() + b"input: [3, 4, 4]  # \xe9\n")
    with pytest.raises(SpecError) as info:
        load_yaml_file(path, "latin1.yaml")
    assert "not UTF-8" in info.value.message and "0xe9" in info.value.message
    assert info.value.position == Position("latin1.yaml", 2, 21)


def test_empty_file_missing_file_and_folder_are_clear_errors(tmp_path):
    (tmp_path / "empty.yaml").write_text("  \n", encoding="utf-8")
    for path, gist, line in (
        (tmp_path / "empty.yaml", "the file is empty", 1),
        (tmp_path / "nope.yaml", "no such file", 0),  # no line to point at: line 0 shows as the name alone
        (tmp_path, "folder", 1),
    ):
        with pytest.raises(SpecError) as info:
            load_yaml_file(path, "x.yaml")
        assert gist in info.value.message
        assert info.value.position == Position("x.yaml", line, line)


@pytest.mark.parametrize("loader", ["libyaml", "pure Python"])
@pytest.mark.parametrize("levels", [101, 1000, 5000])
def test_the_nesting_limit_fires_first_with_either_pyyaml_parser(monkeypatch, loader, levels):
    from cnncalc.spec import yaml_source

    if loader == "pure Python":
        monkeypatch.setattr(yaml_source, "_Loader", yaml_source._PythonLoader)
    elif yaml_source._Loader is yaml_source._PythonLoader:
        pytest.skip("PyYAML is built without libyaml here")
    for text in ("a: " + "[" * levels + "]" * levels + "\n", "- " * levels + "x\n"):
        error = yaml_error(text)
        assert error.message == "the document nests lists and mappings more than 100 levels deep."
        assert error.position.line == 1
