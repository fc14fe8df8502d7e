"""Text from outside (a cluster, a log, a model, the database) made safe to show.

A terminal obeys the escape sequences it is sent (retitle, clear, move the cursor, open a
hyperlink), BiDi controls reorder what the eye reads, and Rich and Textual read ``[...]``
as markup. None of that may come from data. ``plain`` removes escape sequences whole and
replaces every other control character with a visible ``\\ufffd``, so tampering shows
instead of acting; front ends then draw the result as text (Rich ``Text``, Textual
``Content``, ``markup=False``), never as markup.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

REPLACEMENT = "\ufffd"
ELLIPSIS = "…"

# ESC or its 8-bit C1 form, then the rest of the sequence: CSI up to its final byte; OSC,
# DCS, SOS, PM and APC up to their terminator (BEL, ST, or the end of the text); any other
# ESC with its intermediate and final bytes.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
"""Arabic letter mark, LRM/RLM, the embeddings and overrides, and the isolates."""

LINE_BREAKS = frozenset("\n\x0b\x0c\r\x1c\x1d\x1e\x85\u2028\u2029")
"""Every character ``str.splitlines`` breaks on (``\\r\\n`` is two of them)."""


def _table(multiline: bool) -> dict[int, str]:
    table: dict[int, str] = {}
    for code in (*range(0x20), 0x7F, *range(0x80, 0xA0)):
        table[code] = REPLACEMENT
    for ch in BIDI_CONTROLS:
        table[ord(ch)] = REPLACEMENT
    for code in range(0xD800, 0xE000):
        table[code] = REPLACEMENT
    for ch in LINE_BREAKS:
        table[ord(ch)] = "\n" if multiline else " "
    table[ord("\t")] = "\t" if multiline else " "
    if multiline:
        table[ord("\r")] = ""
    return table


_ONE_LINE = _table(False)
_MULTILINE = _table(True)


def plain(value: object, *, multiline: bool = False, limit: int | None = 2000) -> str:
    """``value`` as printable text: escape sequences removed, other controls, BiDi controls and
    lone surrogates replaced with U+FFFD; line breaks kept as ``\\n`` (``multiline``) or made
    spaces; cut to ``limit`` characters with an ellipsis (None: no cut).

    Markup characters are left as they are: the caller draws the result as text.
    """
    text = value if isinstance(value, str) else str(value)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + ELLIPSIS
    if text.isprintable():
        return text
    if len(text) <= 4096:
        return _clean_cached(text, multiline)
    return _clean(text, multiline)


@lru_cache(maxsize=4096)
def _clean_cached(text: str, multiline: bool) -> str:
    return _clean(text, multiline)


def _clean(text: str, multiline: bool) -> str:
    text = _SEQUENCE.sub("", text)
    return text.translate(_MULTILINE if multiline else _ONE_LINE)


def is_plain(text: str, *, multiline: bool = False) -> bool:
    """Whether ``text`` is already what ``plain`` would leave (no control, BiDi or escape)."""
    return plain(text, multiline=multiline, limit=None) == text


class PlainFormatter(logging.Formatter):
    """A log formatter whose lines carry no control or escape sequence: log records quote
    addresses, errors and answers from outside, and stderr is a terminal too."""

    def format(self, record: logging.LogRecord) -> str:
        return plain(super().format(record), multiline=True, limit=None)
