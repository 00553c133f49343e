"""Limits that keep a hostile or mistaken input from exhausting the machine, and what raises them.

- A spec or answers file larger than `max_file_bytes()` (default 5 MB) is refused before it is parsed;
  `--max-file-size SIZE` or the environment variable CNNCALC_MAX_FILE_SIZE raise it.
- A forward pass (`verify`, `run`, `validate --execute`) whose estimated peak memory exceeds the memory
  available is refused before anything is allocated; `--max-memory SIZE` or CNNCALC_MAX_MEMORY set the limit.

The CLI sets the options for one command at a time (`configure`); without them the environment
variables apply, then the defaults. Sizes are written as `5MB`, `64GB`, `512MiB` or a number of bytes.
"""

from __future__ import annotations

import os
import re

from cnncalc.errors import CnncalcError

DEFAULT_MAX_FILE_BYTES = 5 * 10**6
FILE_SIZE_ENV = "CNNCALC_MAX_FILE_SIZE"
MEMORY_ENV = "CNNCALC_MAX_MEMORY"

_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*")

_options: dict[str, int | None] = {"file": None, "memory": None}


def parse_size(text: str, what: str) -> int:
    """`5MB` -> 5,000,000, `2GiB` -> 2,147,483,648; a clear error for anything else."""
    match = _SIZE.fullmatch(text) if len(text) < 40 else None
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise CnncalcError(
            f"{what}: `{text}` is not a size.",
            hint="Write it as a number with a unit, e.g. 5MB, 64GB or 512MiB (kB/MB/GB/TB are powers of 1000).",
        )
    return int(float(match.group(1)) * _UNITS[unit])


def format_bytes(n: int) -> str:
    """Bytes for a message: `5.0 MB`, `128.0 GB` (powers of 1000, as the options take them)."""
    for unit, scale in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} bytes"


def configure(max_file_size: str | None = None, max_memory: str | None = None) -> None:
    """The options of one command (None: the environment variable, else the default)."""
    _options["file"] = None if max_file_size is None else parse_size(max_file_size, "--max-file-size")
    _options["memory"] = None if max_memory is None else parse_size(max_memory, "--max-memory")


def max_file_bytes() -> int:
    if _options["file"] is not None:
        return _options["file"]
    given = os.environ.get(FILE_SIZE_ENV)
    return parse_size(given, FILE_SIZE_ENV) if given else DEFAULT_MAX_FILE_BYTES


def max_memory_bytes() -> tuple[int, str]:
    """The memory a forward pass may use, and where that figure comes from (for the message)."""
    if _options["memory"] is not None:
        return _options["memory"], "--max-memory"
    given = os.environ.get(MEMORY_ENV)
    if given:
        return parse_size(given, MEMORY_ENV), MEMORY_ENV
    return available_memory(), "available"


def available_memory() -> int:
    """MemAvailable from /proc/meminfo (Linux), within a cgroup's memory limit; else free physical pages."""
    found: int | None = None
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        found = None
    if found is None:
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, AttributeError):
            found = 2**63 - 1  # unknown: only NumPy's own limits apply
    cgroup = _cgroup_room()
    return min(found, cgroup) if cgroup is not None else found


def _cgroup_room() -> int | None:
    """Memory left under a cgroup v2 limit (containers, CI runners), or None without one."""
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as limit_file:
            limit = limit_file.read().strip()
        if limit == "max":
            return None
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as current_file:
            current = int(current_file.read().strip())
        return max(int(limit) - current, 0)
    except (OSError, ValueError):
        return None
