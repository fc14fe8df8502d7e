"""Checkpoints of a replay: the player's whole state every few minutes of recorded time, so a
seek restores the nearest one before the target and plays forward at most that far.

The state of a replay after tick ``i`` is what playing ticks ``0..i`` left behind: the
ticket database (tickets, incidents, diagnoses, their events), the monitor's memory (tick
count, the episode of each violation), the history windows (metric points and log events)
and how many recorded diagnoses were handed out per violation key. A checkpoint holds all of
it. The ticket database is kept as SQLite pages: a checkpoint stores only the pages that
changed since the one before, so a day of checkpoints costs little more than the database
itself; restoring reads, for each page, its newest version at or before the checkpoint.

Checkpoints are built once, by a second player running through the recording in the
background, and kept in a file beside the recording (``<recording>.checkpoints``) or, when
that cannot be written, in the replay's work directory. The file names the recording (tick
count, first and last tick) and the operator version that built it; any other version
builds it again, since the state depends on today's ticket and incident code. A build cut
short carries on from its last checkpoint next time. No pickle: the file is JSON and SQLite
pages, safe to open beside a recording from somebody else.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from operator_tui import __version__
from operator_tui.core.history import History
from operator_tui.core.recording import Recording
from operator_tui.core.recording_codec import Codec, log_event_from_doc, metrics_from_doc
from operator_tui.core.types import PLAIN_RECORDS, LogEvent, RecordTypes

FORMAT = 1
EVERY_S = 120.0
"""Recorded time between checkpoints: a seek plays at most this much (60 ticks at 2 s)."""
KEEP_BESIDE_S = 1800.0
"""A recording shorter than this builds its checkpoints in a second or two: they stay in the
replay's work directory instead of a file beside it."""
KIND = "operator-tui replay checkpoints"
SUFFIX = ".checkpoints"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (idx INTEGER PRIMARY KEY, pages INTEGER NOT NULL,
    state BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pages (page INTEGER NOT NULL, idx INTEGER NOT NULL, blob BLOB NOT NULL,
    PRIMARY KEY (page, idx)) WITHOUT ROWID;
"""


@dataclass(slots=True)
class Checkpoint:
    """The replay's state after tick ``index`` was played; ``image`` is the ticket database."""

    index: int
    ticks: int
    episodes: dict[str, str]
    consumed: dict[str, int]
    history: History
    image: bytes = b""
    extra: dict[str, Any] = field(default_factory=dict)


def boundaries(times: list[float], every_s: float = EVERY_S) -> list[int]:
    """The tick indexes checkpoints are taken after: the last tick of each ``every_s`` slice
    of recorded time (gaps in the recording take no checkpoint of their own)."""
    if not times:
        return []
    first = times[0]
    out: list[int] = []
    for i in range(len(times) - 1):
        if int((times[i + 1] - first) // every_s) != int((times[i] - first) // every_s):
            out.append(i)
    return out


# --- the history windows as JSON ------------------------------------------------------


def history_doc(history: History) -> dict[str, Any]:
    """The rings of ``history``, exactly: a log event held by both the cluster-wide ring and
    its store's ring is written once."""
    events: list[LogEvent] = []
    seen: dict[int, int] = {}

    def ref(event: LogEvent) -> int:
        key = id(event)
        if key not in seen:
            seen[key] = len(events)
            events.append(event)
        return seen[key]

    logs = [ref(e) for e in history._logs]
    store_logs = {str(sid): [ref(e) for e in ring] for sid, ring in history._store_logs.items()}
    return {
        "sizes": [history._points, history._logs.maxlen, history._store_log_events],
        "metrics": {
            str(sid): [[t.isoformat(), asdict(m)] for t, m in ring]
            for sid, ring in history._metrics.items()
        },
        "events": [asdict(e) for e in events],
        "logs": logs,
        "store_logs": store_logs,
    }


def history_from_doc(doc: dict[str, Any], records: RecordTypes = PLAIN_RECORDS) -> History:
    points, log_events, store_log_events = doc["sizes"]
    history = History(points=points, log_events=log_events, store_log_events=store_log_events)
    for sid, ring in doc["metrics"].items():
        history._metrics[int(sid)] = deque(
            ((datetime.fromisoformat(t), metrics_from_doc(m, records.metrics)) for t, m in ring),
            maxlen=points,
        )
    events = [log_event_from_doc(e, records.log_event) for e in doc["events"]]
    history._logs.extend(events[i] for i in doc["logs"])
    for sid, refs in doc["store_logs"].items():
        history._store_logs[int(sid)] = deque((events[i] for i in refs), maxlen=store_log_events)
    return history


# --- the file ---------------------------------------------------------------------------


def identity(recording: Recording, every_s: float) -> dict[str, Any]:
    """What names a recording and the code that replays it; a file for another is rebuilt."""
    return {
        "kind": KIND,
        "format": FORMAT,
        "operator_version": __version__,
        "every_s": every_s,
        "ticks": len(recording),
        "first": recording.start,
        "last": recording.end,
    }


def page_size(image: bytes) -> int:
    """SQLite's page size from the database header (bytes 16-17; 1 means 65536)."""
    size = int.from_bytes(image[16:18], "big")
    return 65536 if size == 1 else size


class CheckpointFile:
    """One file of checkpoints for one recording. Reads and writes are synchronous and short
    (call them through ``asyncio.to_thread`` from a loop); one writer, the builder."""

    def __init__(self, path: Path, recording: Recording, every_s: float = EVERY_S) -> None:
        self.path = Path(path)
        self.every_s = every_s
        self.codec = Codec()
        self.records = recording.records
        self._lock = threading.Lock()
        want = identity(recording, every_s)
        self._db = self._open(want)
        self.indexes: list[int] = [
            r[0] for r in self._db.execute("SELECT idx FROM checkpoints ORDER BY idx")
        ]
        self._last_image: bytes | None = None

    def _open(self, want: dict[str, Any]) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if tables and "meta" not in tables:
                raise sqlite3.DatabaseError(f"{self.path} is not a checkpoints file")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            have = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}
            if have.get("kind", KIND) != KIND:
                raise sqlite3.DatabaseError(f"{self.path} is not a checkpoints file")
            if have != want:
                db.executescript(
                    "BEGIN; DELETE FROM meta; DELETE FROM checkpoints; DELETE FROM pages; COMMIT;"
                )
                db.execute("BEGIN")
                db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [(k, json.dumps(v)) for k, v in want.items()],
                )
                db.execute("COMMIT")
        except sqlite3.Error:
            db.close()
            raise
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def before(self, index: int) -> int | None:
        """The newest checkpoint at or before tick ``index``."""
        best = None
        lo, hi = 0, len(self.indexes)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.indexes[mid] <= index:
                best = self.indexes[mid]
                lo = mid + 1
            else:
                hi = mid
        return best

    @property
    def last(self) -> int | None:
        return self.indexes[-1] if self.indexes else None

    def add(self, checkpoint: Checkpoint) -> None:
        """Append ``checkpoint`` (after the last one); only the changed pages are written."""
        image = checkpoint.image
        size = page_size(image)
        count = len(image) // size
        previous = self._last_image
        if previous is None and self.indexes:
            previous = self._image(self.indexes[-1])
        changed = [
            (n, checkpoint.index, self.codec.compress(image[n * size : (n + 1) * size]))
            for n in range(count)
            if previous is None
            or previous[n * size : (n + 1) * size] != image[n * size : (n + 1) * size]
        ]
        state = self.codec.pack(
            {
                "ticks": checkpoint.ticks,
                "episodes": checkpoint.episodes,
                "consumed": checkpoint.consumed,
                "history": history_doc(checkpoint.history),
                "page_size": size,
                "extra": checkpoint.extra,
            }
        )
        db = self._db
        with self._lock:
            db.execute("BEGIN")
            try:
                db.executemany("INSERT INTO pages (page, idx, blob) VALUES (?, ?, ?)", changed)
                db.execute(
                    "INSERT INTO checkpoints (idx, pages, state) VALUES (?, ?, ?)",
                    (checkpoint.index, count, state),
                )
                db.execute("COMMIT")
            except sqlite3.Error:
                db.execute("ROLLBACK")
                raise
        self._last_image = image
        self.indexes.append(checkpoint.index)

    def _image(self, index: int) -> bytes:
        with self._lock:
            return self._image_locked(index)

    def _image_locked(self, index: int) -> bytes:
        row = self._db.execute("SELECT pages FROM checkpoints WHERE idx = ?", (index,)).fetchone()
        count = int(row[0])
        rows = self._db.execute(
            "SELECT page, blob, max(idx) FROM pages WHERE idx <= ? AND page < ? GROUP BY page",
            (index, count),
        ).fetchall()
        pages = [b""] * count
        for page, blob, _ in rows:
            pages[page] = self.codec.decompress(blob)
        return b"".join(pages)

    def load(self, index: int) -> Checkpoint:
        """The checkpoint taken after tick ``index`` (one of ``indexes``)."""
        with self._lock:
            row = self._db.execute(
                "SELECT state FROM checkpoints WHERE idx = ?", (index,)
            ).fetchone()
        if row is None:
            raise KeyError(index)
        doc = self.codec.unpack(row[0])
        return Checkpoint(
            index=index,
            ticks=int(doc["ticks"]),
            episodes=dict(doc["episodes"]),
            consumed={str(k): int(v) for k, v in doc["consumed"].items()},
            history=history_from_doc(doc["history"], self.records),
            image=self._image(index),
            extra=dict(doc.get("extra") or {}),
        )


def beside(recording_path: Path) -> Path:
    return recording_path.with_name(recording_path.name + SUFFIX)


def open_checkpoints(
    recording: Recording, fallbacks: Iterable[Path], every_s: float = EVERY_S
) -> CheckpointFile | None:
    """The checkpoints file beside a long recording, else the first of ``fallbacks`` that
    opens."""
    keep = recording.end - recording.start >= KEEP_BESIDE_S
    for path in (*([beside(recording.path)] if keep else []), *fallbacks):
        try:
            return CheckpointFile(path, recording, every_s)
        except (sqlite3.Error, OSError):
            continue
    return None
