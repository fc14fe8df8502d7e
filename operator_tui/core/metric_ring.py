"""A store's metric points as preallocated typed columns.

Kept as ``(datetime, metrics)`` tuples, a point costs hundreds of bytes (a dataclass,
a boxed float per figure, a datetime), and a ring of them grows for hours until it is
full. Here every column is allocated in full when the ring is made: floats in
``array('d')`` (NaN for None), integers in ``array('q')``, flags in ``array('b')``, the
time as integer microseconds; any other field (a text, a dict) holds a reference in a
preallocated list, ``None`` unless set. The columns come from the metrics dataclass's own
fields, so this module knows nothing of any subject. A value that does not fit its
column exactly (an int in a float field, a NaN, a number past 64 bits) is kept as given
in the point's ``extra`` slot, so a point is always rebuilt equal to, and of the same
class as, what was recorded.
"""

from __future__ import annotations

import math
import types
import typing
from array import array
from dataclasses import fields
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from typing import Any

FLOAT, INT, BOOL, OBJECT = "d", "q", "b", "o"
NO_INT = -(2**63)
NO_BOOL = -1
ONE_US = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_NAIVE = datetime(1970, 1, 1)
EMPTY_DICT = object()  # many points hold an empty dict; one marker stands for all of them


@cache
def layout(cls: type) -> tuple[tuple[str, str], ...]:
    """Each field of the metrics class with the column kind its annotation asks for."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # an annotation that cannot be resolved is kept as an object
        hints = {}
    return tuple((f.name, _kind(hints.get(f.name))) for f in fields(cls))


def _kind(hint: Any) -> str:
    args = set(typing.get_args(hint)) if isinstance(hint, types.UnionType) else {hint}
    args.discard(type(None))
    if len(args) != 1:
        return OBJECT
    only = args.pop()
    return {float: FLOAT, int: INT, bool: BOOL}.get(only, OBJECT)


def _column(kind: str, size: int) -> Any:
    if kind == FLOAT:
        return array(FLOAT, [math.nan]) * size
    if kind == INT:
        return array(INT, [NO_INT]) * size
    if kind == BOOL:
        return array(BOOL, [NO_BOOL]) * size
    return [None] * size


class MetricRing:
    """The last ``size`` points of one store, oldest overwritten first."""

    __slots__ = ("_columns", "_count", "_extra", "_next", "_tz", "_us", "cls", "size")

    def __init__(self, cls: type, size: int) -> None:
        self.cls = cls
        self.size = max(1, size)
        self._count = 0
        self._next = 0
        self._us = array("q", [0]) * self.size
        self._tz: list[tzinfo | None] = [None] * self.size
        self._columns = tuple((name, kind, _column(kind, self.size)) for name, kind in layout(cls))
        self._extra: list[dict[str, Any] | None] = [None] * self.size

    def holds(self, metrics: object) -> bool:
        return type(metrics) is self.cls

    def __len__(self) -> int:
        return self._count

    def append(self, taken_at: datetime, metrics: Any) -> None:
        i = self._next
        tz = taken_at.tzinfo
        self._tz[i] = tz
        self._us[i] = (taken_at - (EPOCH if tz is not None else EPOCH_NAIVE)) // ONE_US
        extra: dict[str, Any] | None = None
        for name, kind, column in self._columns:
            value = getattr(metrics, name)
            if kind == FLOAT:
                if value is None:
                    column[i] = math.nan
                    continue
                if type(value) is float and value == value:
                    column[i] = value
                    continue
                column[i] = math.nan
            elif kind == INT:
                if value is None:
                    column[i] = NO_INT
                    continue
                if type(value) is int and NO_INT < value < 2**63:
                    column[i] = value
                    continue
                column[i] = NO_INT
            elif kind == BOOL:
                if value is None:
                    column[i] = NO_BOOL
                    continue
                if type(value) is bool:
                    column[i] = value
                    continue
                column[i] = NO_BOOL
            else:
                column[i] = EMPTY_DICT if type(value) is dict and not value else value
                continue
            if extra is None:
                extra = {}
            extra[name] = value
        self._extra[i] = extra
        self._next = (i + 1) % self.size
        if self._count < self.size:
            self._count += 1

    def tail(self, n: int) -> list[tuple[datetime, Any]]:
        """The last ``n`` points, oldest first, rebuilt as recorded."""
        n = min(max(n, 0), self._count)
        first = (self._next - n) % self.size
        return [self._point((first + k) % self.size) for k in range(n)]

    def _point(self, i: int) -> tuple[datetime, Any]:
        tz = self._tz[i]
        at = (EPOCH if tz is not None else EPOCH_NAIVE) + self._us[i] * ONE_US
        if tz is not None and tz is not UTC:
            at = at.astimezone(tz)
        values: dict[str, Any] = {}
        for name, kind, column in self._columns:
            value = column[i]
            if kind == FLOAT:
                values[name] = None if value != value else value
            elif kind == INT:
                values[name] = None if value == NO_INT else value
            elif kind == BOOL:
                values[name] = None if value == NO_BOOL else bool(value)
            else:
                values[name] = {} if value is EMPTY_DICT else value
        extra = self._extra[i]
        if extra is not None:
            values.update(extra)
        return at, self.cls(**values)
