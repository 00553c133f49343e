"""The shipped architecture files, usable by name (`cnncalc table resnet50`)."""

from __future__ import annotations

from pathlib import Path

from cnncalc.errors import SpecError


def zoo_dir() -> Path:
    """Installed wheels carry the specs as `cnncalc/specs`; a checkout has them in `specs/`."""
    installed = Path(__file__).parent / "specs"
    return installed if installed.is_dir() else Path(__file__).parent.parent / "specs"


def zoo_specs() -> dict[str, Path]:
    """Shipped spec names (file stems) to their paths, sorted by name."""
    folder = zoo_dir()
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def resolve_spec(name_or_path: str) -> Path:
    """A path if it exists, else a shipped spec of that name; a clear error otherwise."""
    path = Path(name_or_path)
    if path.exists() or path.suffix in (".yaml", ".yml") or "/" in name_or_path:
        return path
    specs = zoo_specs()
    key = name_or_path.lower().replace("-", "_")
    if key in specs:
        return specs[key]
    from cnncalc.spec.messages import did_you_mean

    guess = did_you_mean(key, specs)
    raise SpecError(
        f"`{name_or_path}` is neither a file nor a shipped spec.",
        hint=f"Did you mean `{guess}`?" if guess else "`cnncalc list` shows the shipped specs.",
    )


def describe(path: Path) -> str:
    """The spec's `description:` (first sentence), without building its layers."""
    from cnncalc.spec.yaml_source import load_yaml_file

    try:
        root = load_yaml_file(path)
    except SpecError:
        return "(unreadable)"
    text = str(root.get("description") or root.get("name") or "") if isinstance(root, dict) else ""
    return text.strip().splitlines()[0] if text.strip() else ""
