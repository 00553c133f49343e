"""Every file cnncalc writes (`draw -o`, `plot -o`, `schema -o`, `validate --junit`) goes through here.

- `check_output` refuses, before anything is written, an output with the wrong extension, one that is
  not a regular file (a folder, a device), and one that resolves (symlinks followed, hard links too)
  to any of the command's input files: `cnncalc validate s.yaml --junit s.yaml` must not replace the spec.
- `write_atomically` writes a temporary file in the same folder, then renames it over the target
  (os.replace), so a failure never leaves a half-written file. A symlinked output is written through
  to its target; the target keeps its permissions (a new file gets the usual ones, after the umask).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from cnncalc.errors import SpecError


def check_output(path: Path, inputs: Iterable[str | Path], suffixes: tuple[str, ...], what: str) -> None:
    """Refuse `path` as the output for `what` unless it ends in one of `suffixes` and is none of `inputs`."""
    if path.suffix.lower() not in suffixes:
        names = ", ".join(suffixes[:-1]) + (" or " if len(suffixes) > 1 else "") + suffixes[-1]
        raise SpecError(f"cannot write {what} to `{path}`.", hint=f"Use a {names} file name.")
    refuse_inputs(path, inputs, what)


def refuse_inputs(path: Path, inputs: Iterable[str | Path], what: str) -> None:
    """Refuse `path` as the output for `what` if it is a folder or device, or resolves to any of `inputs`."""
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        kind = "a folder" if target.is_dir() else "not a regular file"
        raise SpecError(f"cannot write {what} to `{path}`: it is {kind}.", hint="Give a file name.")
    for given in inputs:
        source = Path(given)
        if _same_file(target, source):
            link = " (through a symbolic link)" if os.path.islink(path) else ""
            raise SpecError(
                f"refusing to write {what} to `{path}`: it is the input `{source}`{link}, which it would replace.",
                hint="Give the output another file name.",
            )


def _same_file(target: Path, source: Path) -> bool:
    try:
        if Path(os.path.realpath(source)) == target:
            return True
        return target.exists() and source.exists() and os.path.samefile(target, source)  # hard links
    except OSError:
        return False


def write_atomically(path: Path, write: str | bytes | Callable[[str], None], what: str = "") -> None:
    """Write `path` through a temporary file in its folder and a rename; `write` is the content, or a
    function that writes the file it is given (matplotlib's savefig). `what` names it in errors."""
    target = Path(os.path.realpath(path))
    named = f"{what} " if what else ""
    try:
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=f".tmp{target.suffix}")
    except OSError as exc:
        raise SpecError(f"cannot write {named}`{path}` ({exc.strerror}).") from None
    try:
        if isinstance(write, (str, bytes)):
            data = write.encode("utf-8") if isinstance(write, str) else write
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        else:
            os.close(fd)
            write(temporary)
        os.chmod(temporary, _mode_for(target))
        os.replace(temporary, target)
    except OSError as exc:
        _remove(temporary)
        raise SpecError(f"cannot write {named}`{path}` ({exc.strerror or exc}).") from None
    except BaseException:
        _remove(temporary)
        raise


def _mode_for(target: Path) -> int:
    """The target's own permissions when it exists; else what a plain `open(..., "w")` would give."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _remove(temporary: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temporary)
