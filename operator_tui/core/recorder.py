"""The flight recorder: every tick and every event of a run, appended to one SQLite file.

The monitor and the event bus hand their objects over without waiting (a queue); a
writer thread encodes, compresses and inserts them, committing at least every
``COMMIT_EVERY_S``. The file is in WAL mode, so a process killed at any moment keeps
every committed transaction (the last fraction of a second is all it can lose) and
nothing written before is ever rewritten: rows are only appended.

Layout (``FORMAT`` 1): ``meta`` (key, JSON value: format, operator version, subject,
settings without secrets, interval, cluster id, started_at), ``ticks`` (seq, t = the
monitor's clock as epoch seconds, zstd JSON of the tick: snapshot, violations, error)
and ``events`` (seq, t, kind, JSON of a bus event: tickets, incidents, diagnoses with
their investigation, actions). Readers: ``core.recording``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from operator_tui.core.events import Event, EventBus
from operator_tui.core.recording_codec import Codec, tick_doc
from operator_tui.core.types import Snapshot, Violation
from operator_tui.core.urls import mask_url

log = logging.getLogger(__name__)

FORMAT = 1
COMMIT_EVERY_S = 0.5
QUEUE_LIMIT = 10_000
SECRET_WORDS = ("key", "token", "password", "secret", "credential")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ticks (seq INTEGER PRIMARY KEY, t REAL NOT NULL, blob BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS ticks_t ON ticks (t);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, t REAL NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_t ON events (t);
"""


class RecorderError(Exception):
    """The recording file cannot be created or written; one line."""


def without_secrets(value: Any) -> Any:
    """Settings as JSON with every field named like a secret dropped and every URL's
    credentials masked."""
    if isinstance(value, Mapping):
        return {
            str(k): without_secrets(v)
            for k, v in value.items()
            if not any(word in str(k).lower() for word in SECRET_WORDS)
        }
    if isinstance(value, list | tuple):
        return [without_secrets(v) for v in value]
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    return value


def epoch(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


_STOP = object()


class Recorder:
    """Append-only writer of one recording. ``tick`` and ``event`` never block and never
    raise; ``close`` flushes what is queued and waits for the writer."""

    def __init__(self, path: Path, meta: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self.codec = Codec()
        self.dropped = 0
        self.written = 0
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_LIMIT)
        self._cluster_id: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size > 0:
                raise RecorderError(f"{self.path} exists: a recording is never overwritten")
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            started = datetime.now(UTC).isoformat()
            rows = {"format": FORMAT, "started_at": started, **meta}
            db.execute("BEGIN")
            db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(k, json.dumps(without_secrets(v), default=str)) for k, v in rows.items()],
            )
            db.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            raise RecorderError(f"cannot record to {self.path}: {exc}") from None
        self._db = db
        self._thread = threading.Thread(target=self._write, name="recorder", daemon=True)
        self._thread.start()

    # --- producers (monitor, bus) -----------------------------------------------------

    def _put(self, item: Any) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1

    def tick(
        self,
        now: datetime,
        snapshot: Snapshot | None,
        violations: list[Violation] | None,
        error: str | None = None,
    ) -> None:
        """One monitor tick; encoded on the writer thread (the snapshot is not changed after)."""
        self._put(
            ("tick", now, snapshot, list(violations) if violations is not None else None, error)
        )
        cluster_id = snapshot.cluster.cluster_id if snapshot is not None else None
        if cluster_id and cluster_id != self._cluster_id:
            self._cluster_id = cluster_id
            self._put(("meta", "cluster_id", cluster_id))

    def event(self, event: Event, t: datetime | None = None) -> None:
        self._put(("event", event, event.ts if t is None else t))

    def follow(self, bus: EventBus, clock: Callable[[], datetime] | None = None) -> None:
        """Record every event ``bus`` publishes from now on, at ``clock``'s time (the
        runtime's: simulated time in an evaluation), so events and ticks share one clock."""
        bus.tap(lambda ev: self.event(ev, None if clock is None else clock()))

    # --- the writer thread ------------------------------------------------------------

    def _row(self, item: tuple[Any, ...]) -> None:
        kind = item[0]
        if kind == "tick":
            _, now, snapshot, violations, error = item
            blob = self.codec.pack(tick_doc(now, snapshot, violations, error))
            self._db.execute("INSERT INTO ticks (t, blob) VALUES (?, ?)", (epoch(now), blob))
        elif kind == "event":
            _, ev, t = item
            data = json.dumps(ev.data, default=str, separators=(",", ":"))
            self._db.execute(
                "INSERT INTO events (t, kind, data) VALUES (?, ?, ?)", (epoch(t), ev.event, data)
            )
        elif kind == "meta":
            self._db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (item[1], json.dumps(item[2], default=str)),
            )
        self.written += 1

    def _write(self) -> None:
        db = self._db
        pending = 0
        last_commit = time.monotonic()
        stopping = False
        while not stopping:
            try:
                item = self._queue.get(timeout=COMMIT_EVERY_S)
            except queue.Empty:
                item = None
            if item is _STOP:
                stopping = True
            elif item is not None:
                if pending == 0:
                    db.execute("BEGIN")
                try:
                    self._row(item)
                    pending += 1
                except Exception as exc:
                    log.warning("recorder: a %s row was not written: %s", item[0], exc)
            due = time.monotonic() - last_commit >= COMMIT_EVERY_S
            if pending and (due or stopping):
                try:
                    db.execute("COMMIT")
                except sqlite3.Error as exc:
                    log.warning("recorder: commit failed: %s", exc)
                pending = 0
                last_commit = time.monotonic()
            elif not pending:
                last_commit = time.monotonic()
        db.close()

    def close_sync(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close_sync)
