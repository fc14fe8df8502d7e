"""Reading the good part of a PD answer that the strict, fast path refused.

The fast path (pydantic-core over the raw bytes) refuses a whole answer for one bad
byte or one bad field: a lone surrogate escape in one store's address, a store id
beyond 64 bits, a label that is not a string. Refusing ``/stores`` for one store would
blind every tick, so the refused answer is read again here, in Python: bytes that are
not UTF-8 and lone surrogates are replaced with U+FFFD, raw control characters inside
strings are accepted (they are text to show, and the front ends strip them), and an
item (a store, a region, a hot-peer entry, a member) whose fields do not validate is
dropped alone. Each repair is counted and named, so a person sees what was left out.
What is not an item (the answer's own shape) still refuses the answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from operator_tui.core.bounds import clip

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_REPLACEMENT_UTF8 = "\ufffd".encode()
MAX_NUMBER_DIGITS = 40
"""A JSON number with more digits than this is no value PD writes (uint64 has 20)."""
_ROUNDS = 3


class _Unreadable:
    """Stands for a number too long to be one; no field type accepts it."""

    def __repr__(self) -> str:
        return "<number too long>"


_UNREADABLE = _Unreadable()


@dataclass
class Repairs:
    """What lenient reading changed in one answer."""

    replaced: int = 0
    """Characters replaced with U+FFFD (bytes that are not UTF-8, lone surrogates)."""
    dropped: list[str] = field(default_factory=list)
    """One line per item left out: where it was and why."""

    def summary(self) -> str:
        parts = []
        if self.replaced:
            parts.append(f"replaced {self.replaced} bad character(s)")
        if self.dropped:
            shown = "; ".join(self.dropped[:3])
            more = f"; and {len(self.dropped) - 3} more" if len(self.dropped) > 3 else ""
            parts.append(f"dropped {len(self.dropped)} item(s): {shown}{more}")
        return ", ".join(parts)


class Unrepairable(ValueError):
    """The answer is not JSON even read leniently, or its own shape is wrong."""


def replace_surrogates(text: str) -> str:
    """``text`` with each lone surrogate (which no encoder writes) replaced by U+FFFD."""
    return text if text.isascii() else _LONE_SURROGATE.sub("\ufffd", text)


def _number(text: str) -> Any:
    return int(text) if len(text) <= MAX_NUMBER_DIGITS else _UNREADABLE


def _float(text: str) -> Any:
    return float(text) if len(text) <= MAX_NUMBER_DIGITS * 2 else _UNREADABLE


def _clean(value: Any, repairs: Repairs) -> Any:
    if isinstance(value, str):
        if value.isascii():
            return value
        fixed, n = _LONE_SURROGATE.subn("\ufffd", value)
        repairs.replaced += n
        return fixed
    if isinstance(value, list):
        return [_clean(v, repairs) for v in value]
    if isinstance(value, dict):
        return {_clean(k, repairs): _clean(v, repairs) for k, v in value.items()}
    return value


def loads(content: bytes) -> tuple[Any, Repairs]:
    """The answer as Python values, with bad characters replaced and counted."""
    repairs = Repairs()
    text = content.decode("utf-8", errors="replace")
    repairs.replaced += text.count("\ufffd") - content.count(_REPLACEMENT_UTF8)
    try:
        value = json.loads(text, strict=False, parse_int=_number, parse_float=_float)
    except (ValueError, RecursionError) as exc:
        raise Unrepairable(f"malformed JSON ({exc})") from None
    return _clean(value, repairs), repairs


def _item_path(loc: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The item an error lies in: up to the first list index, or the map entry whose key
    is bad; ``None`` when the error is in the answer's own shape."""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            return loc[: i + 1]
        if part == "[key]":
            return loc[:i]
    return None


def _sort_key(path: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in path)


def _parent(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        value = value[part]
    return value


def _remove(value: Any, path: tuple[Any, ...]) -> bool:
    parent = value
    for part in path[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return False
    last = path[-1]
    if isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent):
        del parent[last]
        return True
    if isinstance(parent, dict):
        for key in (last, str(last)):
            if key in parent:
                del parent[key]
                return True
    return False


def validate(adapter: TypeAdapter[Any], value: Any, repairs: Repairs) -> Any:
    """Validate, dropping each item that fails (with its reason) until the rest passes."""
    for _ in range(_ROUNDS):
        try:
            return adapter.validate_python(value)
        except ValidationError as exc:
            errors = exc.errors()
        items: dict[tuple[Any, ...], dict[str, Any]] = {}
        for err in errors:
            loc = tuple(err.get("loc", ()))
            path = _item_path(loc)
            if path is None:
                where = ".".join(str(p) for p in loc) or "body"
                raise Unrepairable(clip(f"{where}: {err.get('msg', 'invalid')}", 200))
            items.setdefault(path, err)
        for path in sorted(items, key=_sort_key, reverse=True):
            if not _remove(value, path):
                raise Unrepairable(f"cannot leave out {'.'.join(map(str, path))}")
            err = items[path]
            inner = ".".join(str(p) for p in tuple(err.get("loc", ()))[len(path) :])
            line = clip(
                f"{'.'.join(map(str, path))} ({inner + ': ' if inner else ''}"
                f"{err.get('msg', 'invalid')})",
                200,
            )
            if len(path) <= 2 and _parent(value, path) == []:
                # The answer's own list (every store, every member) unreadable: no part is good.
                raise Unrepairable(f"every item unreadable, e.g. {line}")
            repairs.dropped.append(line)
    raise Unrepairable("still invalid after leaving out the bad items")
