"""The installed `cnncalc` command, run from outside the checkout, as a user would."""

import json
import subprocess
import sys
from pathlib import Path

import pytest


def installed_command() -> list[str]:
    script = Path(sys.executable).with_name("cnncalc")
    if not script.exists():
        pytest.skip("cnncalc is not installed in this environment")
    return [str(script)]


def test_shipped_spec_by_name_from_any_folder(tmp_path):
    # Outside the checkout the zoo must come from the installed package (cnncalc/specs in the wheel).
    result = subprocess.run(
        [*installed_command(), "table", "alexnet_cs231n", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # Seed 001: CONV1 of the lecture's AlexNet gives [55x55x96].
    assert report["layers"][0]["output_shape"] == [96, 55, 55]


def test_python_dash_m_works(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "cnncalc", "list"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "alexnet_cs231n" in result.stdout


def test_unknown_spec_name_is_a_clean_error(tmp_path):
    result = subprocess.run(
        [*installed_command(), "table", "alexnet_cs231"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "Did you mean `alexnet_cs231n`?" in result.stderr
    assert "Traceback" not in result.stderr
