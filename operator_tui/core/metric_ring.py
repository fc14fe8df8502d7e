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
RECENT = 16  # newest points kept as recorded: the stores pane's 12-point trend reads no more
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

    __slots__ = (
        "_columns",
        "_count",
        "_extra",
        "_next",
        "_positional",
        "_recent",
        "_seq",
        "_tz",
        "_us",
        "cls",
        "size",
    )

    def __init__(self, cls: type, size: int) -> None:
        self.cls = cls
        self.size = max(1, size)
        self._count = 0
        self._next = 0
        self._us = array("q", [0]) * self.size
        self._tz: list[tzinfo | None] = [None] * self.size
        self._columns = tuple((name, kind, _column(kind, self.size)) for name, kind in layout(cls))
        self._extra: list[dict[str, Any] | None] = [None] * self.size
        self._recent: list[tuple[datetime, Any] | None] = [None] * min(RECENT, self.size)
        self._seq = 0
        self._positional = all(f.init for f in fields(cls)) and all(
            f.kw_only is False for f in fields(cls)
        )

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
        self._recent[self._seq % len(self._recent)] = (taken_at, metrics)
        self._seq += 1
        self._next = (i + 1) % self.size
        if self._count < self.size:
            self._count += 1

    def count_since(self, since: datetime) -> int:
        """How many of the newest points were taken at or after ``since`` (points are
        recorded in time order, so a binary search over the ring finds it)."""
        since_us = (since - (EPOCH if since.tzinfo is not None else EPOCH_NAIVE)) // ONE_US
        first = (self._next - self._count) % self.size
        low, high = 0, self._count
        while low < high:
            mid = (low + high) // 2
            if self._us[(first + mid) % self.size] < since_us:
                low = mid + 1
            else:
                high = mid
        return self._count - low

    def tail(self, n: int) -> list[tuple[datetime, Any]]:
        """The last ``n`` points, oldest first: the newest ``RECENT`` as recorded, the
        older ones rebuilt from the columns."""
        n = min(max(n, 0), self._count)
        kept = min(n, len(self._recent))
        older = self._rebuilt(n - kept, kept) if n > kept else []
        first = self._seq - kept
        recent = self._recent
        return older + [recent[(first + k) % len(recent)] for k in range(kept)]  # type: ignore[misc]

    def _rebuilt(self, n: int, skip: int) -> list[tuple[datetime, Any]]:
        """``n`` points ending ``skip`` points before the newest, rebuilt column by column
        (a slice of each array, then one pass per column) rather than point by point, so
        the per-point work is only the class's own ``__init__``."""
        times, values, extras = self._decoded(n, skip)
        names = [name for name, _kind, _column in self._columns]
        points = (
            [self.cls(*row) for row in zip(*values, strict=True)]
            if self._positional
            else [
                self.cls(**dict(zip(names, row, strict=True))) for row in zip(*values, strict=True)
            ]
        )
        for k, extra in enumerate(extras):
            if extra is not None:
                for name, value in extra.items():
                    setattr(points[k], name, value)
        return list(zip(times, points, strict=True))

    def table(self) -> tuple[list[datetime], list[str], list[list[Any]]]:
        """Every point as times, field names and one row of values each, oldest first,
        without building the points (what a checkpoint writes)."""
        times, values, extras = self._decoded(self._count, 0)
        names = [name for name, _kind, _column in self._columns]
        rows = [list(row) for row in zip(*values, strict=True)] if values else [[]] * len(times)
        at = {name: k for k, name in enumerate(names)}
        for k, extra in enumerate(extras):
            if extra is not None:
                for name, value in extra.items():
                    rows[k][at[name]] = value
        return times, names, rows

    @classmethod
    def from_table(
        cls, metrics_cls: type, size: int, times: list[datetime], rows: list[list[Any]]
    ) -> MetricRing:
        """A ring holding ``rows`` (values in the class's field order, oldest first), filled
        column by column; a column with a value that does not fit is filled point by point."""
        ring = cls(metrics_cls, size)
        times, rows = times[-ring.size :], rows[-ring.size :]
        k = len(rows)
        if not k:
            return ring
        by_column = list(zip(*rows, strict=True))
        none = {FLOAT: math.nan, INT: NO_INT, BOOL: NO_BOOL}
        if len(by_column) != len(ring._columns) or not all(
            _fits(kind, values)
            for (_n, kind, _c), values in zip(ring._columns, by_column, strict=True)
        ):
            for at, row in zip(times, rows, strict=True):
                ring.append(at, metrics_cls(*row))
            return ring
        for (_name, kind, column), values in zip(ring._columns, by_column, strict=True):
            if kind == OBJECT:
                column[:k] = [EMPTY_DICT if type(v) is dict and not v else v for v in values]
            else:
                gap = none[kind]
                column[:k] = array(kind, [gap if v is None else v for v in values])
        for i, at in enumerate(times):
            tz = at.tzinfo
            ring._tz[i] = tz
            ring._us[i] = (at - (EPOCH if tz is not None else EPOCH_NAIVE)) // ONE_US
        recent = ring._recent
        first = max(0, k - len(recent))
        for i in range(first, k):
            recent[i % len(recent)] = (times[i], metrics_cls(*rows[i]))
        ring._count = k
        ring._next = k % ring.size
        ring._seq = k
        return ring

    def _decoded(self, n: int, skip: int) -> tuple[list[datetime], list[list[Any]], list[Any]]:
        if n <= 0:
            return [], [], []
        first = (self._next - skip - n) % self.size
        if first + n <= self.size:
            parts: tuple[slice, ...] = (slice(first, first + n),)
        else:
            parts = (slice(first, self.size), slice(0, first + n - self.size))

        def cut(column: Any) -> Any:
            return column[parts[0]] if len(parts) == 1 else column[parts[0]] + column[parts[1]]

        values = []
        for _name, kind, column in self._columns:
            got = cut(column)
            if kind == FLOAT:
                values.append([None if v != v else v for v in got])
            elif kind == INT:
                values.append([None if v == NO_INT else v for v in got])
            elif kind == BOOL:
                values.append([None if v == NO_BOOL else v == 1 for v in got])
            else:
                values.append([{} if v is EMPTY_DICT else v for v in got])
        times = [_at(us, tz) for us, tz in zip(cut(self._us), cut(self._tz), strict=True)]
        return times, values, cut(self._extra)


def _fits(kind: str, values: tuple[Any, ...]) -> bool:
    """Whether every value goes into a ``kind`` column as it is (else the point's slot)."""
    if kind == OBJECT:
        return True
    types = set(map(type, values))
    types.discard(type(None))
    if kind == FLOAT:
        return types <= {float} and all(v == v for v in values if v is not None)
    if kind == INT:
        return types <= {int} and all(NO_INT < v < 2**63 for v in values if v is not None)
    return types <= {bool}


def _at(us: int, tz: tzinfo | None) -> datetime:
    if tz is None:
        return EPOCH_NAIVE + us * ONE_US
    at = EPOCH + us * ONE_US
    return at if tz is UTC else at.astimezone(tz)
