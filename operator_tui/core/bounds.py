"""Size bounds on what came from outside: text clipped with a visible marker, JSON kept under a cap.

A cluster, a log or a model can hand over a string of any length; the operator keeps a
bounded prefix and says how much it left out, so a person (and the model) sees that the
value was cut rather than a silently shorter one. ``bounded_json`` is the last guard
before a copy is written to the database: it shrinks the copy (long strings first, then
long lists and maps) until it fits, keeping the shape a reader expects.
"""

from __future__ import annotations

import json
from typing import Any

MARKER = "…[+{n} chars]"
SNAPSHOT_MAX_BYTES = 1 << 20
"""The largest snapshot copy kept with one ticket: 50 stores of a 1000-store cluster take
about 150 kB, so only hostile or broken input comes near it."""

# Rounds of shrinking: (longest string kept, most items kept of a list or map).
_ROUNDS = ((4096, 1000), (1024, 200), (256, 50), (128, 10), (64, 3))


def clip(text: str, limit: int) -> str:
    """``text`` up to ``limit`` characters; a longer one ends with a marker naming what was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + MARKER.format(n=len(text) - limit)


def _shrink(value: Any, chars: int, items: int) -> Any:
    if isinstance(value, str):
        return clip(value, chars)
    if isinstance(value, dict):
        kept = list(value.items())[:items]
        return {clip(str(k), chars): _shrink(v, chars, items) for k, v in kept}
    if isinstance(value, list | tuple):
        return [_shrink(v, chars, items) for v in value[:items]]
    return value


def bounded_json(value: Any, max_bytes: int = SNAPSHOT_MAX_BYTES) -> tuple[Any, str]:
    """``value`` as compact JSON of at most ``max_bytes`` bytes, and the value that JSON holds.

    A value that fits is returned as it is. A larger one is shrunk round by round; a dict
    gets a ``truncated`` entry saying how large the original was. The text is ASCII (lone
    surrogates become JSON escapes), so it always encodes and its length is its size.
    """
    text = json.dumps(value, default=str, separators=(",", ":"))
    if len(text) <= max_bytes:
        return value, text
    original = len(text)
    plain = json.loads(text)
    for chars, items in _ROUNDS:
        small = _shrink(plain, chars, items)
        if isinstance(small, dict):
            small["truncated"] = f"copy of {original} bytes cut to fit {max_bytes} bytes"
        out = json.dumps(small, separators=(",", ":"))
        if len(out) <= max_bytes:
            return small, out
    small = {"truncated": f"copy of {original} bytes exceeded {max_bytes} bytes"}
    return small, json.dumps(small)
