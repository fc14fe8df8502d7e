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
from datetime import UTC, datetime, timedelta, timezone, tzinfo
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

    def columns(self) -> tuple[dict[str, Any], list[bytes]]:
        """The ring exactly as held, for a checkpoint: a header (its place in the ring, the
        time zones, the columns of other values as lists, the values kept aside) and the
        bytes of its time and typed columns, so neither writing nor ``from_columns``
        touches a value one by one. A zone comes back as its offset at that moment."""
        tz: list[list[Any]] = []
        for i, zone in enumerate(self._tz):
            offset = _offset(zone, self._us[i]) if i < self._count else None
            if tz and tz[-1][0] == offset:
                tz[-1][1] += 1
            else:
                tz.append([offset, 1])
        header = {
            "size": self.size,
            "count": self._count,
            "next": self._next,
            "seq": self._seq,
            "layout": [[name, kind] for name, kind, _column in self._columns],
            "tz": tz,
            "objects": {
                name: [{} if v is EMPTY_DICT else v for v in column]
                for name, kind, column in self._columns
                if kind == OBJECT
            },
            "extra": {str(i): e for i, e in enumerate(self._extra) if e is not None},
        }
        buffers = [self._us.tobytes()] + [
            column.tobytes() for _name, kind, column in self._columns if kind != OBJECT
        ]
        return header, buffers

    @classmethod
    def from_columns(
        cls, metrics_cls: type, header: dict[str, Any], buffers: list[bytes]
    ) -> MetricRing:
        """The ring ``columns`` wrote, for ``metrics_cls`` of the same layout (else
        ``ValueError``); the newest points are rebuilt from the columns."""
        ring = cls(metrics_cls, int(header["size"]))
        if [list(pair) for pair in header["layout"]] != [
            [name, kind] for name, kind, _column in ring._columns
        ]:
            raise ValueError("the metrics class changed since these columns were written")
        numeric = [column for _name, kind, column in ring._columns if kind != OBJECT]
        if len(buffers) != len(numeric) + 1:
            raise ValueError("columns and buffers do not match")
        for column, raw in zip([ring._us, *numeric], buffers, strict=True):
            if len(raw) != ring.size * column.itemsize:
                raise ValueError("a column of the wrong length")
            fresh = array(column.typecode)
            fresh.frombytes(raw)
            column[:] = fresh
        at = 0
        for offset, run in header["tz"]:
            zone = None if offset is None else UTC if offset == 0 else _zone(offset)
            ring._tz[at : at + run] = [zone] * run
            at += run
        for name, _kind, column in ring._columns:
            values = header["objects"].get(name)
            if values is not None:
                column[:] = [EMPTY_DICT if type(v) is dict and not v else v for v in values]
        for i, extra in header["extra"].items():
            ring._extra[int(i)] = extra
        ring._count, ring._next, ring._seq = (
            int(header["count"]),
            int(header["next"]),
            int(header["seq"]),
        )
        kept = min(ring._count, len(ring._recent))
        for k, point in enumerate(ring._rebuilt(kept, 0)):
            ring._recent[(ring._seq - kept + k) % len(ring._recent)] = point
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


def _offset(zone: tzinfo | None, us: int) -> int | None:
    if zone is None:
        return None
    delta = zone.utcoffset(_at(us, zone) if zone is not UTC else None)
    return None if delta is None else int(delta.total_seconds())


@cache
def _zone(offset: int) -> tzinfo:
    return timezone(timedelta(seconds=offset))


def _at(us: int, tz: tzinfo | None) -> datetime:
    if tz is None:
        return EPOCH_NAIVE + us * ONE_US
    at = EPOCH + us * ONE_US
    return at if tz is UTC else at.astimezone(tz)
