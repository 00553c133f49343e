"""How any text that comes from a spec, an answers file or a file name is shown: `shown()`.

Every output sink (the terminal tables, markdown, csv, verify, run, check, validate, error messages,
JUnit XML, SVG and the plots) passes such text through `shown()`, so that a layer called
"\\x1b[2J" prints as those four characters instead of clearing the screen:
- control characters (C0, DEL, C1), the invisible and bidirectional formatting characters (a
  right-to-left override can make text read backwards), line and paragraph separators, lone
  surrogates (undecodable file names) and the characters XML 1.0 forbids are written as visible
  escapes: `\\n`, `\\x1b`, `\\u202e`. What is left is printable and well-formed in XML.
- every colon followed by another is written `\\x3a`, so `::` never appears: GitHub Actions runs a log
  line that starts with `::` as a workflow command, and a name could begin a line, or begin one when
  rich wraps a long line at a space or folds a long word.
JSON output needs none of this: `json.dumps` escapes every such character already.
"""

from __future__ import annotations

import re

_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNSAFE = re.compile(
    "["
    "\x00-\x1f\x7f-\x9f"  # C0 controls, DEL, C1 controls (CSI, OSC...)
    "\u00ad\u061c\u180e"  # soft hyphen, Arabic letter mark, Mongolian vowel separator
    "\u200b-\u200f"  # zero-width space/joiners, left-to-right and right-to-left marks
    "\u2028-\u202e"  # line/paragraph separators, bidirectional embeddings and overrides
    "\u2060-\u206f"  # word joiner, invisible operators, bidirectional isolates
    "\ud800-\udfff"  # lone surrogates (a file name that is not UTF-8)
    "\ufeff\ufff9-\ufffb\ufffe\uffff"  # byte order mark, interlinear annotations, non-characters
    "\U000e0000-\U000e007f"  # tag characters
    "]"
)
_COMMAND = re.compile(":(?=:)")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _SHORT:
        return _SHORT[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def shown(text: object) -> str:
    """`text` with every control or invisible character, and `::`, escaped visibly (see the module docstring)."""
    result = _UNSAFE.sub(_escape, text if isinstance(text, str) else str(text))
    return _COMMAND.sub(r"\\x3a", result) if "::" in result else result


# What can begin markup inside a line: emphasis, code, raw HTML and autolinks, entities, table cells,
# strikethrough, and the `](` or `][` that makes a link or an image of brackets (a shape's `[6, 28, 28]`
# stays as it is); `\` too, so that a name's own backslash stays one. `_` is left: inside a word
# (`conv_bn`) CommonMark makes no emphasis of it, and escaping it would clutter every name.
_MARKDOWN = re.compile(r"[\\`*<>|~&]|\](?=[(\[])")


def shown_markdown(text: object) -> str:
    """`shown(text)` for markdown: also its markup characters backslash-escaped, so a layer named
    `<img src=...>` or `[x](http://...)` is text in a rendered PR comment, not an image or a link."""
    return _MARKDOWN.sub(lambda match: "\\" + match.group(), shown(text))
