"""Validate many spec files for CI: find them, then parse, propagate and check each one."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cnncalc.errors import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    CnncalcError,
    Position,
    SpecError,
    all_errors,
    out_of_memory,
)
from cnncalc.globs import GLOB_CHARS
from cnncalc.globs import glob_paths as _glob
from cnncalc.globs import walk as _walk

SPEC_SUFFIXES = (".yaml", ".yml")

Status = Literal["passed", "failed", "error"]


@dataclass
class Message:
    """One problem found in a file: an error (the file fails) or a warning."""

    level: Literal["error", "warning"]
    text: str
    position: Position | None = None

    def to_dict(self) -> dict[str, Any]:
        pos = self.position
        return {
            "level": self.level,
            "message": self.text,
            "position": str(pos) if pos else None,
            "line": pos.line if pos and pos.line else None,  # line 0: the file as a whole
            "column": pos.column if pos and pos.line else None,
        }


@dataclass
class FileResult:
    """The outcome for one file: `error` (unusable, exit 2), `failed` (a check, exit 1) or `passed`."""

    path: str
    status: Status = "passed"
    messages: list[Message] = field(default_factory=list)
    output_shape: list[int] | None = None
    params: int | None = None
    macs: int | None = None
    checks: int = 0  # expectations checked (and executed layers compared, with --execute)

    @property
    def exit_code(self) -> int:
        return {"passed": EXIT_OK, "failed": EXIT_CHECK_FAILED, "error": EXIT_BAD_INPUT}[self.status]

    @property
    def errors(self) -> list[Message]:
        return [m for m in self.messages if m.level == "error"]

    @property
    def warnings(self) -> list[Message]:
        return [m for m in self.messages if m.level == "warning"]

    def summary(self) -> str:
        if self.params is None:
            return ""
        checks = f", {self.checks} check{'s' if self.checks != 1 else ''} passed" if self.checks else ""
        return f"output {self.output_shape}, {self.params:,} params, {self.macs:,} MACs{checks}"

    def fail(self, status: Status, text: str, position: Position | None) -> None:
        """Record an error; an unusable file (`error`) outranks a failed check."""
        self.messages.append(Message("error", text, position))
        if self.status != "error":
            self.status = status

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "output_shape": self.output_shape,
            "params": self.params,
            "macs": self.macs,
            "flops": None if self.macs is None else 2 * self.macs,
            "checks": self.checks,
            "messages": [m.to_dict() for m in self.messages],
        }


def exit_code(results: list[FileResult]) -> int:
    """0 when all pass, 2 if any file is unusable, else 1 if any check failed."""
    return max((r.exit_code for r in results), default=EXIT_BAD_INPUT)


def discover(paths: list[str]) -> list[Path | FileResult]:
    """Spec files named by `paths` (files, folders searched recursively, globs), in order;
    a path that names no file at all becomes an unusable-input result in its place.

    Candidates that cannot be read (dangling links, link loops, FIFOs named *.yaml) are kept, so that
    reading them reports each as unusable. Folders are walked without following a symbolic link back
    into a folder already walked, and a file reached twice (through links) is validated once.
    """
    found: list[Path | FileResult] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = folder_specs(path)
            found.extend(files or [_unusable(given, "folder holds no .yaml or .yml spec files.")])
        elif os.path.lexists(given):
            found.append(path)  # one that cannot be read (a dangling link...) is reported when it is read
        elif not GLOB_CHARS & set(given):
            found.append(
                _unusable(str(path), "no such file or folder.", at_start=False)
            )  # no line or column to point at
        else:  # a glob the shell did not expand (Windows shells, or quoted in CI)
            matches = _glob(given)
            files = [f for m in matches for f in (folder_specs(m) if m.is_dir() else [m])]
            found.extend(files or [_unusable(given, "the pattern matches no files.")])
    seen: set[str] = set()
    unique = []
    for item in found:  # a file named twice, or reached through links, is validated once
        key = os.path.realpath(item) if isinstance(item, Path) else None
        if key is None or key not in seen:
            unique.append(item)
            if key is not None:
                seen.add(key)
    return unique


def folder_specs(folder: Path) -> list[Path]:
    """*.yaml / *.yml under `folder`, recursively, skipping hidden files and folders (.git, .github...).

    Every entry with such a name that is not a folder is a candidate, readable or not."""
    return sorted(p for p in _walk(folder) if p.suffix in SPEC_SUFFIXES)


# Below this many files a pool of processes costs more than it saves (each starts in ~0.1 s).
POOL_FROM = 8


def validate_many(
    found: list[Path | FileResult],
    strict: bool = False,
    execute: bool = False,
    jobs: int | None = None,
    limits: tuple[str | None, str | None] = (None, None),
) -> list[FileResult]:
    """Validate the files (results already made pass through) in `jobs` processes (default: the cores);
    the results come back in the order of `found`, however the work was shared."""
    import os

    paths = [item for item in found if isinstance(item, Path)]
    jobs = jobs or os.cpu_count() or 1
    if jobs == 1 or len(paths) < POOL_FROM:
        done = [validate_file(path, strict, execute) for path in paths]
    else:
        from concurrent.futures import ProcessPoolExecutor
        from functools import partial

        from cnncalc import limits as limit_options

        with ProcessPoolExecutor(min(jobs, len(paths)), initializer=limit_options.configure, initargs=limits) as pool:
            chunk = max(1, len(paths) // (4 * jobs))
            done = list(pool.map(partial(validate_file, strict=strict, execute=execute), paths, chunksize=chunk))
    results = iter(done)
    return [next(results) if isinstance(item, Path) else item for item in found]


def validate_file(path: Path, strict: bool = False, execute: bool = False) -> FileResult:
    """Parse, propagate and check one file's `expect:`; with `execute`, also run the NumPy forward pass."""
    from cnncalc.checking import check_expect
    from cnncalc.engine.propagate import analyze
    from cnncalc.spec.build import load_spec

    result = FileResult(str(path))
    try:
        spec = load_spec(path, str(path))
        analysis = analyze(spec)
        result.output_shape, result.params, result.macs = list(analysis.output_shape), analysis.params, analysis.macs
        for warning, where in analysis.located_warnings():
            if strict:  # as `cnncalc table --strict`: an unusable spec (exit 2)
                result.fail("error", f"{warning} (an error under --strict)", where)
            else:
                result.messages.append(Message("warning", warning, where))
        if spec.expect is not None:
            unknown: list[SpecError] = []  # a layer name no layer has: unusable, but the rest is still checked
            checked = check_expect(analysis, spec.expect, spec.expect_raw, unknown)
            for name in unknown:  # first: the JUnit <error> and the text line's headline are why exit 2
                result.fail("error", f"{name.message} {name.hint}", name.position)
            result.checks += len(checked.answers)
            for answer in checked.wrong:
                hint = f" {answer.hint}" if answer.hint else ""
                result.fail(
                    "failed",
                    f"expect `{answer.key}`: {_show(answer.given)} given, but cnncalc computes "
                    f"{_show(answer.correct_value)}.{hint}",
                    answer.position,
                )
        if execute and result.status != "error":
            _execute(spec, analysis, result)
    except CnncalcError as error:
        status: Status = "error" if error.exit_code == EXIT_BAD_INPUT else "failed"
        for problem in all_errors(error):  # a spec with several mistakes shows them all
            hint = f" {problem.hint}" if problem.hint else ""
            result.fail(status, f"{problem.message}{hint}", problem.position)
    return result


def _execute(spec: Any, analysis: Any, result: FileResult) -> None:
    """Run the NumPy forward pass and compare every executed shape with the arithmetic."""
    try:
        from cnncalc.executor.verify import verify_spec
    except ImportError:
        result.fail("error", "--execute needs the NumPy executor (cnncalc.executor.verify), which is missing.", None)
        return
    from cnncalc.engine.pass_memory import check_forward_pass

    try:
        check_forward_pass(analysis)  # before anything is allocated
        report = verify_spec(spec, analysis=analysis, seed=0, batch=1)
    except CnncalcError as error:
        hint = f" {error.hint}" if error.hint else ""
        result.fail("error", f"{error.message}{hint}", error.position)
        return
    except MemoryError as error:
        too_big = out_of_memory(error)
        result.fail("error", f"{too_big.message} {too_big.hint}", None)
        return
    result.checks += len(report.layers)
    for layer in report.layers:
        if not layer.match:
            row = analysis.row(layer.name)
            executed = f"shape {_show(layer.executed_shape)} and {_show(layer.executed_params)} params"
            computed = f"shape {_show(layer.expected_shape)} and {_show(layer.expected_params)} params"
            result.fail(
                "failed",
                f"executing `{layer.name}` gives {executed}, but the arithmetic says {computed}.",
                row.layer.source if row else None,
            )
    if not report.match and result.status == "passed":
        result.fail("failed", "the executed network does not match the computed shapes.", None)


def _unusable(path: str, text: str, at_start: bool = True) -> FileResult:
    result = FileResult(path)
    result.fail("error", text, Position(path, 1, 1) if at_start else None)
    return result


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(str, value)) + "]"
    return f"{value:,}" if isinstance(value, int) else str(value)
