"""Untrusted text (answers, file names, spec names) made safe to print: the one place to swap for a shared one."""

from __future__ import annotations

import re

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean(text: object) -> str:
    """`text` with control characters `repr`-escaped, never starting a line with `::` (a CI workflow command)."""
    out = _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], str(text))
    return "\\x3a" + out[1:] if out.startswith("::") else out
