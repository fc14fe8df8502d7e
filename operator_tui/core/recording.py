"""Reading a flight recording (``core.recorder`` writes it): its ticks by index or time, its events.

The tick times are loaded once (a few hundred KB for a day at 2 s), so finding the tick
at a time is a binary search and reading it one indexed row and one decompression.
A file whose writer was killed opens as it is: SQLite replays the committed part of its
write-ahead log and drops the rest.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from operator_tui.core.recording_codec import Codec, snapshot_from_doc, violations_from_doc
from operator_tui.core.types import PLAIN_RECORDS, RecordTypes, Snapshot, Violation


class RecordingError(Exception):
    """Not a recording, or one this version cannot read; one line."""


@dataclass(slots=True)
class RecordedTick:
    index: int
    now: datetime
    snapshot: Snapshot | None
    violations: list[Violation] | None
    error: str | None


@dataclass(slots=True)
class RecordedEvent:
    t: float
    kind: str
    data: dict[str, Any]

    @property
    def ts(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)


def at(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


class Recording:
    def __init__(self, path: Path, records: RecordTypes = PLAIN_RECORDS) -> None:
        self.path = Path(path)
        self.records = records
        self.codec = Codec()
        if not self.path.is_file():
            raise RecordingError(f"no recording at {self.path}")
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self.meta: dict[str, Any] = {
                k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM meta")
            }
            rows = self._db.execute("SELECT seq, t FROM ticks ORDER BY seq").fetchall()
        except (sqlite3.Error, ValueError) as exc:
            raise RecordingError(f"{self.path} is not a recording: {exc}") from None
        if self.meta.get("format") != 1:
            raise RecordingError(
                f"{self.path}: recording format {self.meta.get('format')!r} unknown"
            )
        self._seqs = [r[0] for r in rows]
        self.times = [r[1] for r in rows]

    def close(self) -> None:
        self._db.close()

    def __len__(self) -> int:
        return len(self.times)

    @property
    def subject(self) -> str:
        return str(self.meta.get("subject", ""))

    @property
    def interval_s(self) -> float:
        return float(self.meta.get("interval_s") or 2.0)

    @property
    def start(self) -> float:
        return self.times[0] if self.times else 0.0

    @property
    def end(self) -> float:
        return self.times[-1] if self.times else 0.0

    def index_at(self, t: float) -> int:
        """The first tick at or after ``t`` (``len(self)`` past the end)."""
        return bisect.bisect_left(self.times, t)

    def tick(self, index: int) -> RecordedTick:
        row = self._db.execute(
            "SELECT blob FROM ticks WHERE seq = ?", (self._seqs[index],)
        ).fetchone()
        doc = self.codec.unpack(row[0])
        snap = doc.get("snapshot")
        violations = doc.get("violations")
        return RecordedTick(
            index=index,
            now=datetime.fromisoformat(doc["now"]),
            snapshot=None if snap is None else snapshot_from_doc(snap, self.records),
            violations=None if violations is None else violations_from_doc(violations),
            error=doc.get("error"),
        )

    def ticks(self, first: int = 0, last: int | None = None) -> Iterator[RecordedTick]:
        for index in range(first, len(self) if last is None else min(last, len(self))):
            yield self.tick(index)

    def events(
        self, since: float | None = None, until: float | None = None, kinds: tuple[str, ...] = ()
    ) -> list[RecordedEvent]:
        """Events with ``since <= t < until``, in the order they were published."""
        sql = "SELECT t, kind, data FROM events WHERE t >= ? AND t < ?"
        args: list[Any] = [-1e18 if since is None else since, 1e18 if until is None else until]
        if kinds:
            sql += " AND (" + " OR ".join("kind LIKE ?" for _ in kinds) + ")"
            args += [k.replace("*", "%") for k in kinds]
        rows = self._db.execute(sql + " ORDER BY seq", args).fetchall()
        return [RecordedEvent(t, kind, json.loads(data)) for t, kind, data in rows]

    def incident_times(self) -> list[float]:
        return [e.t for e in self.events(kinds=("incident.opened",))]


UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def seconds(text: str) -> float:
    """``90``, ``90s``, ``5m``, ``2h`` or ``1d`` in seconds; ``ValueError`` otherwise."""
    text = text.strip().lower()
    unit = UNITS.get(text[-1:])
    value = float(text[:-1] if unit else text) * (unit or 1.0)
    if not value >= 0:
        raise ValueError(f"not a duration: {text!r}")
    return value


def start_time(text: str, first: float) -> float:
    """A replay's start: seconds after ``first`` (``90s``, ``5m``), an ISO time, or a time of
    day on the recording's first day (``10:00:00``)."""
    with contextlib.suppress(ValueError):
        return first + seconds(text)
    origin = datetime.fromtimestamp(first, UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            clock = datetime.strptime(text, "%H:%M:%S").time()
        except ValueError:
            raise RecordingError(f"--from {text!r}: not an offset (90s, 5m) nor a time") from None
        moment = datetime.combine(origin.date(), clock, UTC)
        if moment < origin - timedelta(seconds=1):
            moment += timedelta(days=1)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
