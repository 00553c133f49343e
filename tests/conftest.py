"""Shared test helpers: where the shipped specs are, and golden files (`pytest --overwrite` rewrites them)."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
DATA = Path(__file__).resolve().parent / "data"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--overwrite",
        action="store_true",
        default=False,
        help="Rewrite the golden files in tests/golden/ from the current output (torchinfo's habit).",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """Compare text with tests/golden/<name>; with --overwrite, write it instead."""
    overwrite = request.config.getoption("--overwrite")

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if overwrite:
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"no golden file {path.name}; run `pytest --overwrite` once and review it"
        assert text == path.read_text(encoding="utf-8"), f"output differs from {path.name} (review, then --overwrite)"

    return check
