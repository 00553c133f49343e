"""Untrusted text (answers, file names, spec names) made safe to print: the one place to swap for a shared one."""

from __future__ import annotations

import re

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_COMMAND = re.compile(r"(^|\s)::")  # where a wrapped or split line could start with `::`


def clean(text: object) -> str:
    """`text` with control characters `repr`-escaped, never starting a line with `::` (a CI workflow command)."""
    out = _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], str(text))
    return _COMMAND.sub(lambda m: m.group(1) + "\\x3a:", out)
