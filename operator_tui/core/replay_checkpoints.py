"""Checkpoints of a replay: the player's whole state every 30 s of recorded time, so a
seek restores the nearest one before the target and plays forward at most that far.

The state of a replay after tick ``i`` is what playing ticks ``0..i`` left behind: the
ticket database (tickets, incidents, diagnoses, their events), the monitor's memory (tick
count, the episode of each violation), the history windows (metric points and log events)
and how many recorded diagnoses were handed out per violation key. A checkpoint holds all of
it. The ticket database is kept as SQLite pages: a checkpoint stores only the pages that
changed since the one before, so a day of checkpoints costs little more than the database
itself; restoring reads, for each page, its newest version at or before the checkpoint. The
metric rings are kept as the bytes of their typed columns (``MetricRing.columns``), so a
restore copies them back instead of rebuilding hundreds of points per store.

Checkpoints are built once, by a second player running through the recording in the
background, and kept in a file beside the recording (``<recording>.checkpoints``) or, when
that cannot be written, in the replay's work directory. The file names the recording (tick
count, first and last tick) and the operator version that built it; any other version
builds it again, since the state depends on today's ticket and incident code. A build cut
short carries on from its last checkpoint next time. No pickle: the file is JSON and SQLite
pages, safe to open beside a recording from somebody else.
"""

from __future__ import annotations

import bisect
import functools
import json
import sqlite3
import sys
import threading
from array import array
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from operator_tui import __version__
from operator_tui.core.diagnosis.stored import _known, key_types
from operator_tui.core.history import History
from operator_tui.core.metric_ring import layout
from operator_tui.core.recording import Recording
from operator_tui.core.recording_codec import Codec, _enum_fields
from operator_tui.core.tickets import SCHEMA_VERSION
from operator_tui.core.types import LogEvent, RecordTypes, Snapshot

FORMAT = 4
EVERY_S = 30.0
"""Recorded time between checkpoints: a seek plays at most this much (15 ticks at 2 s)."""
KEEP_BESIDE_S = 1800.0
"""A recording shorter than this builds its checkpoints in a second or two: they stay in the
replay's work directory instead of a file beside it."""
KIND = "operator-tui replay checkpoints"
SUFFIX = ".checkpoints"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (idx INTEGER PRIMARY KEY, pages INTEGER NOT NULL,
    state BLOB NOT NULL, rings BLOB NOT NULL, logs BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pages (page INTEGER NOT NULL, idx INTEGER NOT NULL, blob BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS pages_at ON pages (page, idx);
CREATE INDEX IF NOT EXISTS pages_changed ON pages (idx);
"""
# A rowid table, not WITHOUT ROWID: a compressed page (about 1 KB) fits in a table leaf but
# not in an index leaf, where each would spill into an overflow page of its own.


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


# --- the history windows -------------------------------------------------------------


def _rows(records: Iterable[Any]) -> dict[str, Any]:
    """Records of one class as a table (field names once, then one list of values each):
    a third of the size of dicts, and read back by position."""
    items = list(records)
    if not items:
        return {"fields": [], "rows": []}
    names = [f.name for f in fields(type(items[0]))]
    return {"fields": names, "rows": [[getattr(r, n) for n in names] for r in items]}


def _records(table: dict[str, Any], cls: type, fix: Callable[[list[Any]], None]) -> list[Any]:
    """Records from a table; an enum column's values become members through one lookup
    each (thousands of log events come back at once)."""
    names = table["fields"]
    exact = names == [f.name for f in fields(cls)]
    enums = [
        (names.index(name), _reader(cls, name)) for name, _ in _enum_fields(cls) if name in names
    ]
    out = []
    for row in table["rows"]:
        fix(row)
        for at, member in enums:
            row[at] = member(row[at])
        record = cls(*row) if exact else cls(**_known(cls, dict(zip(names, row, strict=True))))
        out.append(record)
    return out


def history_docs(history: History) -> tuple[dict[str, Any], bytes, dict[str, Any]]:
    """The rings of ``history``, exactly: the metric rings as their headers and the bytes of
    their columns (``History.metric_columns``), and the log events as a document (an event
    held by both the cluster-wide ring and its store's is written once)."""
    if isinstance(history, RestoredHistory):
        history.materialize()
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
    rings: dict[str, Any] = {}
    chunks: list[bytes] = []
    for sid, header, buffers in history.metric_columns():
        rings[str(sid)] = {**header, "buffers": [len(b) for b in buffers]}
        chunks.extend(buffers)
    metrics = {
        "sizes": [history._points, history._logs.maxlen, history._store_log_events],
        "rings": rings,
    }
    return (
        metrics,
        b"".join(chunks),
        {"events": _rows(events), "logs": logs, "store_logs": store_logs},
    )


@functools.cache
def _dict_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if "dict" in str(f.type))


@functools.cache
def _reader(cls: type, name: str) -> Callable[[Any], Any] | None:
    """How a value of a ring's other column comes back as it was before JSON: a figure by
    key with the key type its field declares (a store id per peer an int, a reason's name a
    text; undeclared: a store id), an enum field's member; None: as it is. Decided once per
    field, since a restore reads thousands of values."""
    if name in _dict_fields(cls):
        key = key_types(cls).get(name, int)

        def figures(value: Any) -> Any:
            if not value or not isinstance(value, dict):
                return value
            return {key(k): float(v) for k, v in value.items()}

        return figures
    enum = dict(_enum_fields(cls)).get(name)
    if enum is None:
        return None
    known = {m.value: m for m in enum}

    def member(value: Any) -> Any:
        try:
            return known.get(value, value)
        except TypeError:  # not a value any member has
            return value

    return member


def _as_recorded(value: Any, name: str, cls: type) -> Any:
    reader = _reader(cls, name)
    return value if reader is None else reader(value)


class RestoredHistory(History):
    """A checkpoint's history: its metric rings at once (their columns as written), its log
    events when first read. Thousands of log lines are most of what a restore would decode,
    and a seek seldom needs them (the log and store screens and a diagnosis do); lines played
    meanwhile wait."""

    PENDING_LIMIT = 20_000

    def __init__(
        self, doc: dict[str, Any], rings: bytes, logs: bytes, codec: Codec, records: RecordTypes
    ) -> None:
        points, log_events, store_log_events = doc["sizes"]
        super().__init__(points=points, log_events=log_events, store_log_events=store_log_events)
        cls = records.metrics
        raw = memoryview(rings)
        at = 0
        for sid, header in doc["rings"].items():
            buffers = []
            for length in header["buffers"]:
                buffers.append(raw[at : at + length])
                at += length
            for name, values in header["objects"].items():
                reader = _reader(cls, name)
                if reader is not None:
                    header["objects"][name] = [reader(v) for v in values]
            for extra in header["extra"].values():
                for name, value in extra.items():
                    extra[name] = _as_recorded(value, name, cls)
            self.restore_metric_columns(int(sid), cls, header, buffers)
        self._blob: bytes | None = logs
        self._codec = codec
        self._records = records
        self._later: list[LogEvent] = []

    def materialize(self) -> None:
        if self._blob is None:
            return
        doc = self._codec.unpack(self._blob)
        self._blob = None
        table = doc["events"]
        when = table["fields"].index("time") if "time" in table["fields"] else -1

        def times(row: list[Any]) -> None:
            if when >= 0 and row[when] is not None:
                row[when] = datetime.fromisoformat(row[when])

        events = _records(table, self._records.log_event, times)
        self._logs.extend(events[i] for i in doc["logs"])
        for sid, refs in doc["store_logs"].items():
            self._store_logs[int(sid)] = deque(
                (events[i] for i in refs), maxlen=self._store_log_events
            )
        later, self._later = self._later, []
        if later:
            super().record(Snapshot(taken_at=datetime.now(UTC), log_events=later))

    def record(self, snapshot: Snapshot) -> None:
        if self._blob is None:
            super().record(snapshot)
            return
        super().record(replace(snapshot, log_events=[]))
        self._later.extend(snapshot.log_events)
        if len(self._later) > self.PENDING_LIMIT:
            self.materialize()

    def recent_log_events(self, store_id: int | None = None, limit: int = 200) -> list[LogEvent]:
        self.materialize()
        return super().recent_log_events(store_id, limit)


# --- the file ---------------------------------------------------------------------------


def identity(recording: Recording, every_s: float) -> dict[str, Any]:
    """What names a recording and the code that replays it; a file for another is rebuilt."""
    return {
        "kind": KIND,
        "format": FORMAT,
        "operator_version": __version__,
        "ticket_schema": SCHEMA_VERSION,
        "every_s": every_s,
        "ticks": len(recording),
        "first": recording.start,
        "last": recording.end,
        "byteorder": sys.byteorder,
        "metrics_layout": [list(pair) for pair in layout(recording.records.metrics)],
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
        self.indexes: list[int] = []
        self._counts: list[int] = []
        for idx, pages in self._db.execute("SELECT idx, pages FROM checkpoints ORDER BY idx"):
            self.indexes.append(int(idx))
            self._counts.append(int(pages))
        self._last_image: bytes | None = None
        self._versions: dict[int, tuple[array[int], array[int]]] | None = None
        self._changed: dict[int, list[int]] = {}
        self._buffer = bytearray()
        self._held: dict[int, int] = {}
        self._at: int | None = None
        self._page_size: int | None = None

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
                    "BEGIN; DELETE FROM meta; DROP TABLE checkpoints; DROP TABLE pages; COMMIT;"
                )
                db.executescript(SCHEMA)
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
        metrics, rings, logs = history_docs(checkpoint.history)
        state = self.codec.pack(
            {
                "ticks": checkpoint.ticks,
                "episodes": checkpoint.episodes,
                "consumed": checkpoint.consumed,
                "history": metrics,
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
                    "INSERT INTO checkpoints (idx, pages, state, rings, logs) VALUES (?, ?, ?, ?, ?)",
                    (
                        checkpoint.index,
                        count,
                        state,
                        self.codec.compress(rings),
                        self.codec.pack(logs),
                    ),
                )
                db.execute("COMMIT")
            except sqlite3.Error:
                db.execute("ROLLBACK")
                raise
            if self._versions is not None:
                self._add_versions(
                    db.execute(
                        "SELECT page, idx, rowid FROM pages WHERE idx = ?", (checkpoint.index,)
                    )
                )
        self._last_image = image
        self.indexes.append(checkpoint.index)
        self._counts.append(count)

    def _image(self, index: int) -> bytes:
        with self._lock:
            return self._image_locked(index)

    def warm(self) -> None:
        """Hold the newest checkpoint's pages before the first seek: a database that only
        grows keeps most pages as first written, so a seek then reads those written after
        its target, not everything written before it."""
        if self.indexes:
            self._image(self.indexes[-1])

    def _add_versions(self, rows: Iterable[tuple[int, int, int]]) -> None:
        assert self._versions is not None
        for page, idx, rowid in rows:
            held = self._versions.get(page)
            if held is None:
                held = self._versions[page] = (array("q"), array("q"))
            held[0].append(idx)
            held[1].append(rowid)
            self._changed.setdefault(idx, []).append(page)

    def _image_locked(self, index: int) -> bytes:
        """The database at checkpoint ``index``. Which version of each page every checkpoint
        holds is read once (from the index alone) and kept; from the last image read, only
        the pages changed between the two checkpoints are looked at, and only those whose
        version differs are read and decompressed (a seek reads a few dozen pages, not the
        whole database); the first time, every page. Pages past the end of a smaller image
        stay held, so going back and forth across a growing database reads them once."""
        position = bisect.bisect_left(self.indexes, index)
        if position == len(self.indexes) or self.indexes[position] != index:
            raise KeyError(index)
        count = self._counts[position]
        if self._versions is None:
            self._versions = {}
            self._add_versions(
                self._db.execute("SELECT page, idx, rowid FROM pages ORDER BY page, idx")
            )
        if self._at is None:
            wanted: Iterable[int] = range(count)
        else:
            lo, hi = sorted((self._at, index))
            between = self.indexes[
                bisect.bisect_right(self.indexes, lo) : bisect.bisect_right(self.indexes, hi)
            ]
            changed: set[int] = set()
            for idx in between:
                changed.update(self._changed.get(idx, ()))
            wanted = changed
        need: list[tuple[int, int, int]] = []
        for page in wanted:
            versions = self._versions.get(page)
            if page >= count or versions is None:
                continue
            k = bisect.bisect_right(versions[0], index) - 1
            if k >= 0 and self._held.get(page) != versions[0][k]:
                need.append((versions[1][k], page, versions[0][k]))
        blobs: dict[int, bytes] = {}
        for start in range(0, len(need), 500):
            chunk = [rowid for rowid, _page, _version in need[start : start + 500]]
            marks = ",".join("?" * len(chunk))
            blobs.update(
                self._db.execute(f"SELECT rowid, blob FROM pages WHERE rowid IN ({marks})", chunk)
            )
        size = self._page_size
        if size is None:
            first = next((blobs[rowid] for rowid, page, _v in need if page == 0), None)
            size = self._page_size = page_size(self.codec.decompress(first)) if first else 4096
        image = self._buffer
        if len(image) < count * size:
            image.extend(bytes(count * size - len(image)))
        for rowid, page, version in need:
            raw = self.codec.decompress(blobs[rowid])
            if len(raw) != size:
                self._at, self._held = None, {}
                raise ValueError(f"page {page} of checkpoint {version} is {len(raw)} bytes")
            image[page * size : (page + 1) * size] = raw
            self._held[page] = version
        self._at = index
        return bytes(memoryview(image)[: count * size])

    def load(self, index: int) -> Checkpoint:
        """The checkpoint taken after tick ``index`` (one of ``indexes``)."""
        with self._lock:
            row = self._db.execute(
                "SELECT state, rings, logs FROM checkpoints WHERE idx = ?", (index,)
            ).fetchone()
        if row is None:
            raise KeyError(index)
        doc = self.codec.unpack(row[0])
        return Checkpoint(
            index=index,
            ticks=int(doc["ticks"]),
            episodes=dict(doc["episodes"]),
            consumed={str(k): int(v) for k, v in doc["consumed"].items()},
            history=RestoredHistory(
                doc["history"], self.codec.decompress(row[1]), row[2], self.codec, self.records
            ),
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
