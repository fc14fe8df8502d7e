"""The ticket database: one SQLite file (WAL) holding tickets, diagnoses and per-ticket history.

Dedupe is enforced by the database itself: a partial unique index allows one
unresolved ticket per violation key. Every write runs in one ``BEGIN
IMMEDIATE`` transaction under an asyncio lock, so the monitor and the agent
never interleave half-written changes and a ``kill -9`` leaves either all of a
change or none of it. Times are stored as UTC epoch seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from operator_tui.core.bounds import bounded_json
from operator_tui.core.incident_schema import INCIDENTS_MIGRATION
from operator_tui.core.ticket import DiagnosisRecord, Ticket, TicketEvent, TicketStatus
from operator_tui.core.types import Severity, Violation

T = TypeVar("T")
log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000
WAL_LIMIT_BYTES = 4 << 20
"""``journal_size_limit``: after a checkpoint that resets the write-ahead log, SQLite cuts the
file back to this. Without it the file keeps its high-water mark for the life of the database."""
CHECKPOINT_EVERY_S = 300.0
"""A ``wal_checkpoint(TRUNCATE)`` after the first commit this long after the last one. SQLite's
own automatic checkpoint (every 1000 pages) is PASSIVE: it copies what no reader holds and
never shrinks the file, so a reader left open (the console, ``tickets list``) lets the log grow;
a TRUNCATE waits up to ``CHECKPOINT_WAIT_MS`` for them and empties it."""
CHECKPOINT_WAIT_MS = 200
_CHUNK = 400  # stays under SQLite's bound-parameter limit
# What binding one row's values can raise: an int beyond SQLite's signed 64 bits, a lone
# surrogate that does not encode, a type SQLite does not take.
_ROW_ERRORS = (sqlite3.Error, OverflowError, ValueError, TypeError)

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE tickets (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        violation_key TEXT NOT NULL,
        invariant TEXT NOT NULL,
        subject TEXT NOT NULL,
        target TEXT NOT NULL,
        store_id INTEGER,
        severity TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT NOT NULL,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL,
        occurrences INTEGER NOT NULL DEFAULT 1,
        resolved_at REAL,
        previous_ticket_id INTEGER REFERENCES tickets(id),
        snapshot TEXT NOT NULL DEFAULT '{}',
        diagnosis_failed INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX tickets_one_unresolved ON tickets(violation_key) WHERE status != 'resolved';
    CREATE INDEX tickets_status_id ON tickets(status, id);
    CREATE INDEX tickets_key_id ON tickets(violation_key, id);
    CREATE TABLE diagnoses (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id INTEGER NOT NULL REFERENCES tickets(id),
        backend TEXT NOT NULL,
        model TEXT,
        text TEXT NOT NULL DEFAULT '',
        result TEXT,
        input_tokens INTEGER,
        output_tokens INTEGER,
        started_at REAL NOT NULL,
        finished_at REAL,
        error TEXT
    );
    CREATE INDEX diagnoses_ticket ON diagnoses(ticket_id, id);
    CREATE TABLE ticket_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id INTEGER NOT NULL REFERENCES tickets(id),
        ts REAL NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);
    """,
    INCIDENTS_MIGRATION,
    # The investigation trace (the tool calls a diagnosis made) and its estimated cost.
    """
    ALTER TABLE diagnoses ADD COLUMN investigation TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE diagnoses ADD COLUMN cost_usd REAL;
    """,
    # Every tick reads the unresolved incidents; without this it scanned all incidents ever
    # opened (2.5 ms a tick after 1,600 of them, 0.01 ms with it).
    "CREATE INDEX incidents_unresolved ON incidents(id) WHERE status != 'resolved';",
)
SCHEMA_VERSION = len(MIGRATIONS)

_LIST_COLUMNS = (
    "id, violation_key, invariant, subject, target, store_id, severity, status, message, "
    "first_seen, last_seen, occurrences, resolved_at, previous_ticket_id, diagnosis_failed"
)
_ALL_COLUMNS = _LIST_COLUMNS + ", snapshot"


class TicketStoreError(Exception):
    """The ticket database cannot be used; the message fits on one line."""


def _ts(value: datetime) -> float:
    return value.timestamp()


def time_or_none(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def ticket_from_row(row: Sequence[Any]) -> Ticket:
    return Ticket(
        id=row[0],
        violation_key=row[1],
        invariant=row[2],
        subject=row[3],
        target=row[4],
        store_id=row[5],
        severity=Severity(row[6]),
        status=TicketStatus(row[7]),
        message=row[8],
        first_seen=datetime.fromtimestamp(row[9], UTC),
        last_seen=datetime.fromtimestamp(row[10], UTC),
        occurrences=row[11],
        resolved_at=time_or_none(row[12]),
        previous_ticket_id=row[13],
        diagnosis_failed=bool(row[14]),
        snapshot=json.loads(row[15]) if len(row) > 15 else {},
    )


def _row_diagnosis(row: Sequence[Any]) -> DiagnosisRecord:
    return DiagnosisRecord(
        id=row[0],
        ticket_id=row[1],
        backend=row[2],
        model=row[3],
        text=row[4],
        result=json.loads(row[5]) if row[5] else None,
        input_tokens=row[6],
        output_tokens=row[7],
        started_at=datetime.fromtimestamp(row[8], UTC),
        finished_at=time_or_none(row[9]),
        error=row[10],
        investigation=json.loads(row[11]) if len(row) > 11 and row[11] else [],
        cost_usd=row[12] if len(row) > 12 else None,
    )


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class TicketStore:
    """Async access to the ticket database. Create with ``await TicketStore.open(path)``."""

    def __init__(self, conn: aiosqlite.Connection, path: Path, subject: str) -> None:
        self._conn = conn
        self.path = path
        self.subject = subject
        self._lock = asyncio.Lock()
        self.clock: Callable[[], datetime] = _utcnow
        """Stamps what is written without a time of its own; the runtime sets its clock (a
        simulated one in evaluations and screenshots)."""
        self.failed_rows = 0
        """Rows of a tick's write left out because their values could not be stored."""
        self.checkpoint_every_s = CHECKPOINT_EVERY_S
        self.monotonic: Callable[[], float] = time.monotonic
        self._checkpointed_at: float | None = None  # the first commit starts the schedule
        self.checkpoints = 0
        """Scheduled checkpoints that emptied the log (a busy one is tried again next time)."""

    @classmethod
    async def open(
        cls, path: Path | str, *, subject: str = "", scratch: bool = False
    ) -> TicketStore:
        """Open (creating if absent) and migrate; never overwrites a file it cannot read.
        ``scratch``: a database this process has just written itself and can make again (a
        replay's, restored from its own checkpoint): no quick check of every page, and no
        waits for the disk (a restore's close would otherwise flush tens of MB)."""
        path = Path(path)
        where = str(path)
        if path.is_dir():
            raise TicketStoreError(f"ticket database {where} is a directory")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TicketStoreError(
                f"cannot create the directory of {where}: {exc.strerror}"
            ) from None
        conn: aiosqlite.Connection | None = None
        try:
            conn = await aiosqlite.connect(where, isolation_level=None)
            await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            async with conn.execute("PRAGMA user_version") as cur:
                row = await cur.fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise TicketStoreError(
                    f"ticket database {where} has schema v{version}, newer than this "
                    f"operator-tui understands (v{SCHEMA_VERSION})"
                )
            if version == 0:
                async with conn.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type='table'"
                ) as cur:
                    row = await cur.fetchone()
                if row and row[0]:
                    raise TicketStoreError(
                        f"{where} is an SQLite database but not a ticket database; refusing to touch it"
                    )
            row = ("ok",)
            if not scratch:
                async with conn.execute("PRAGMA quick_check") as cur:
                    row = await cur.fetchone()
            if not row or row[0] != "ok":
                first = str(row[0]).strip().splitlines()[0] if row and row[0] else "?"
                raise TicketStoreError(
                    f"ticket database {where} is damaged ({first}); left untouched"
                )
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
            await conn.execute(f"PRAGMA synchronous={'OFF' if scratch else 'NORMAL'}")
            await conn.execute("PRAGMA foreign_keys=ON")
            for number in range(version, SCHEMA_VERSION):
                await conn.executescript(
                    f"BEGIN IMMEDIATE; {MIGRATIONS[number]}; PRAGMA user_version={number + 1}; COMMIT;"
                )
        except TicketStoreError:
            if conn is not None:
                await conn.close()
            raise
        except (sqlite3.Error, OSError) as exc:
            if conn is not None:
                await conn.close()
            reason = " ".join(str(exc).split())
            raise TicketStoreError(f"cannot open ticket database {where}: {reason}") from None
        return cls(conn, path, subject)

    async def aclose(self) -> None:
        async with self._lock:
            await self._conn.close()

    async def image(self) -> bytes:
        """The whole database as the bytes of one SQLite file, between writes (a replay's
        checkpoint; ``path.write_bytes`` and ``open`` bring it back)."""
        async with self._lock:
            copy = sqlite3.connect(":memory:", check_same_thread=False)
            try:
                await self._conn.backup(copy)
                return copy.serialize()
            finally:
                copy.close()

    # --- reads -------------------------------------------------------------------------

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """One trip to the connection's thread (a cursor's execute, fetch and close are three)."""
        return list(await self._conn.execute_fetchall(sql, params))

    async def get_ticket(self, ticket_id: int) -> Ticket | None:
        rows = await self._fetchall(
            f"SELECT {_ALL_COLUMNS} FROM tickets WHERE id = ?", (ticket_id,)
        )
        return ticket_from_row(rows[0]) if rows else None

    async def list_tickets(
        self,
        *,
        include_resolved: bool = True,
        limit: int = 500,
        status: TicketStatus | None = None,
    ) -> list[Ticket]:
        """Unresolved tickets first, then resolved ones; newest first within each. No snapshots."""
        if status is not None:
            rows = await self._fetchall(
                f"SELECT {_LIST_COLUMNS} FROM tickets WHERE status = ? ORDER BY id DESC LIMIT ?",
                (status.value, limit),
            )
            return [ticket_from_row(r) for r in rows]
        rows = await self._fetchall(
            f"SELECT {_LIST_COLUMNS} FROM tickets WHERE status != 'resolved' ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        if include_resolved and len(rows) < limit:
            rows += await self._fetchall(
                f"SELECT {_LIST_COLUMNS} FROM tickets WHERE status = 'resolved' ORDER BY id DESC LIMIT ?",
                (limit - len(rows),),
            )
        return [ticket_from_row(r) for r in rows]

    async def count_tickets(self) -> int:
        rows = await self._fetchall("SELECT count(*) FROM tickets")
        return int(rows[0][0])

    async def tickets_needing_diagnosis(self, limit: int = 10) -> list[Ticket]:
        """Open tickets whose last diagnosis did not fail, oldest first."""
        rows = await self._fetchall(
            f"SELECT {_LIST_COLUMNS} FROM tickets WHERE status = 'open' AND diagnosis_failed = 0 "
            "ORDER BY id LIMIT ?",
            (limit,),
        )
        return [ticket_from_row(r) for r in rows]

    async def latest_diagnosis(self, ticket_id: int) -> DiagnosisRecord | None:
        rows = await self._fetchall(
            "SELECT * FROM diagnoses WHERE ticket_id = ? ORDER BY id DESC LIMIT 1", (ticket_id,)
        )
        return _row_diagnosis(rows[0]) if rows else None

    async def diagnoses(self, ticket_id: int) -> list[DiagnosisRecord]:
        rows = await self._fetchall(
            "SELECT * FROM diagnoses WHERE ticket_id = ? ORDER BY id", (ticket_id,)
        )
        return [_row_diagnosis(r) for r in rows]

    async def events(self, ticket_id: int) -> list[TicketEvent]:
        rows = await self._fetchall(
            "SELECT id, ticket_id, ts, kind, detail FROM ticket_events WHERE ticket_id = ? ORDER BY id",
            (ticket_id,),
        )
        return [
            TicketEvent(
                id=r[0],
                ticket_id=r[1],
                ts=datetime.fromtimestamp(r[2], UTC),
                kind=r[3],
                detail=json.loads(r[4]),
            )
            for r in rows
        ]

    # --- writes ------------------------------------------------------------------------

    async def _transaction(self, body: Callable[[], Awaitable[T]]) -> T:
        """Run ``body`` in one write transaction, shielded: a cancelled caller never leaves it half done."""

        async def run() -> T:
            async with self._lock:
                await self._conn.execute("BEGIN IMMEDIATE")
                try:
                    result = await body()
                except BaseException:
                    await self._conn.execute("ROLLBACK")
                    raise
                await self._conn.execute("COMMIT")
                now = self.monotonic()
                if self._checkpointed_at is None:
                    self._checkpointed_at = now
                elif now - self._checkpointed_at >= self.checkpoint_every_s:
                    await self._checkpoint()
                return result

        task = asyncio.ensure_future(run())
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return await asyncio.shield(task)

    async def checkpoint(self) -> bool:
        """Copy the log into the database and empty it; False when a reader kept it busy."""
        async with self._lock:
            return await self._checkpoint()

    async def _checkpoint(self) -> bool:
        self._checkpointed_at = self.monotonic()
        # A short wait for readers: the tick's write that called this must not stall 5 s.
        await self._conn.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
        try:
            async with self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
                row = await cur.fetchone()
        except sqlite3.Error as exc:
            log.warning("WAL checkpoint failed: %s", exc)
            return False
        finally:
            await self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        done = row is not None and row[0] == 0
        self.checkpoints += done
        return done

    async def _each(
        self, sql: str, rows: Sequence[tuple[Any, ...]], what: str, key_at: int = 0
    ) -> None:
        """``executemany`` in which a row that cannot be stored is left out alone (logged and
        counted): one ticket's bad value must not cost the tick the writes of the others."""
        conn = self._conn
        await conn.execute("SAVEPOINT each_batch")
        try:
            await conn.executemany(sql, rows)
        except _ROW_ERRORS:
            await conn.execute("ROLLBACK TO each_batch")
        else:
            await conn.execute("RELEASE each_batch")
            return
        for row in rows:
            await conn.execute("SAVEPOINT each_row")
            try:
                await conn.execute(sql, row)
            except _ROW_ERRORS as exc:
                await conn.execute("ROLLBACK TO each_row")
                self.failed_rows += 1
                log.warning("%s %r not stored: %s: %s", what, row[key_at], type(exc).__name__, exc)
            await conn.execute("RELEASE each_row")
        await conn.execute("RELEASE each_batch")

    async def _write(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        async def body() -> None:
            for sql, params in statements:
                await self._conn.execute(sql, params)

        await self._transaction(body)

    async def upsert_violations(
        self,
        violations: Sequence[Violation],
        snapshot: dict[str, Any] | Callable[[], dict[str, Any]],
        now: datetime | None = None,
        *,
        resolve_absent: bool = True,
        subject: str | None = None,
    ) -> list[tuple[str, Ticket]]:
        """Record one tick's violations; returns ``("opened"|"updated"|"resolved", ticket)`` changes.

        A known key bumps ``last_seen`` and ``occurrences`` ("updated" only when its
        severity changed); a new key opens a ticket linked to the last resolved one of
        the same key; unresolved tickets whose key is absent are resolved unless
        ``resolve_absent`` is false (a tick that could not observe must not resolve).
        ``snapshot`` may be a callable, so it is built only when a ticket opens.
        """
        now = now or self.clock()
        ts = _ts(now)
        subject = self.subject if subject is None else subject
        current: dict[str, Violation] = {}
        for v in violations:
            if not _encodes(v.key):
                self.failed_rows += 1
                log.warning("violation key %r not stored: it does not encode as UTF-8", v.key)
                continue
            held = current.get(v.key)
            if held is None or v.severity.rank > held.severity.rank:
                current[v.key] = v
        changes: list[tuple[str, Ticket]] = []
        conn = self._conn

        async def body() -> None:
            unresolved = {
                key: (tid, sev)
                for key, tid, sev in await self._fetchall(
                    "SELECT violation_key, id, severity FROM tickets WHERE status != 'resolved'"
                )
            }
            seen_updates: list[tuple[Any, ...]] = []
            events: list[tuple[Any, ...]] = []
            raised: list[int] = []
            for key, v in current.items():
                held = unresolved.get(key)
                if held is None:
                    continue
                tid, severity = held
                if v.severity.value != severity:
                    detail = json.dumps({"from": severity, "to": v.severity.value})
                    events.append((tid, ts, "severity_changed", detail))
                    raised.append(tid)
                seen_updates.append((ts, v.severity.value, v.message, tid))
            if seen_updates:
                await self._each(
                    "UPDATE tickets SET last_seen = ?, occurrences = occurrences + 1, severity = ?, "
                    "message = ? WHERE id = ?",
                    seen_updates,
                    "update of ticket",
                    key_at=3,
                )
            changes.extend(("updated", t) for t in await self._tickets_by_id(raised))
            new_keys = [k for k in current if k not in unresolved]
            previous: dict[str, int] = {}
            for part in _chunks(new_keys):
                marks = ",".join("?" * len(part))
                for key, last_id in await self._fetchall(
                    f"SELECT violation_key, max(id) FROM tickets WHERE violation_key IN ({marks}) "
                    "GROUP BY violation_key",
                    part,
                ):
                    previous[key] = last_id
            if new_keys:
                snap, snapshot_json = bounded_json(snapshot() if callable(snapshot) else snapshot)
                await self._each(
                    "INSERT INTO tickets (violation_key, invariant, subject, target, store_id, severity, "
                    "status, message, first_seen, last_seen, previous_ticket_id, snapshot) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)",
                    [
                        (
                            k,
                            current[k].invariant,
                            subject,
                            current[k].target,
                            current[k].store_id,
                            current[k].severity.value,
                            current[k].message,
                            ts,
                            ts,
                            previous.get(k),
                            snapshot_json,
                        )
                        for k in new_keys
                    ],
                    "new ticket",
                )
                opened: list[Ticket] = []
                for part in _chunks(new_keys):
                    marks = ",".join("?" * len(part))
                    rows = await self._fetchall(
                        f"SELECT {_LIST_COLUMNS} FROM tickets WHERE status != 'resolved' "
                        f"AND violation_key IN ({marks})",
                        part,
                    )
                    opened += [ticket_from_row(r) for r in rows]
                opened.sort(key=lambda t: t.id)
                for t in opened:
                    t.snapshot = snap
                    detail = {"message": t.message, "severity": t.severity.value}
                    if t.previous_ticket_id is not None:
                        detail["previous_ticket_id"] = t.previous_ticket_id
                    events.append((t.id, ts, "opened", json.dumps(detail)))
                    changes.append(("opened", t))
            if resolve_absent:
                gone = [tid for k, (tid, _) in unresolved.items() if k not in current]
                if gone:
                    await conn.executemany(
                        "UPDATE tickets SET status = 'resolved', resolved_at = ? WHERE id = ?",
                        [(ts, tid) for tid in gone],
                    )
                    events.extend((tid, ts, "resolved", "{}") for tid in gone)
                    changes.extend(("resolved", t) for t in await self._tickets_by_id(gone))
            if events:
                await conn.executemany(
                    "INSERT INTO ticket_events (ticket_id, ts, kind, detail) VALUES (?, ?, ?, ?)",
                    events,
                )

        await self._transaction(body)
        return changes

    async def _tickets_by_id(self, ids: Sequence[int]) -> list[Ticket]:
        out: list[Ticket] = []
        for part in _chunks(ids):
            marks = ",".join("?" * len(part))
            rows = await self._fetchall(
                f"SELECT {_LIST_COLUMNS} FROM tickets WHERE id IN ({marks}) ORDER BY id", part
            )
            out += [ticket_from_row(r) for r in rows]
        return out

    async def add_event(
        self,
        ticket_id: int,
        kind: str,
        detail: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> None:
        await self._write(
            [
                (
                    "INSERT INTO ticket_events (ticket_id, ts, kind, detail) VALUES (?, ?, ?, ?)",
                    (
                        ticket_id,
                        _ts(now or self.clock()),
                        kind,
                        json.dumps(detail or {}, default=str),
                    ),
                )
            ]
        )

    async def start_diagnosis(
        self,
        ticket_id: int,
        backend: str,
        model: str | None,
        *,
        attempt: int = 1,
        now: datetime | None = None,
    ) -> int:
        """Open a diagnosis record and mark the ticket ``diagnosing`` (a resolved one stays resolved)."""
        ts = _ts(now or self.clock())

        async def body() -> int:
            await self._conn.execute(
                "UPDATE tickets SET status = 'diagnosing', diagnosis_failed = 0 "
                "WHERE id = ? AND status != 'resolved'",
                (ticket_id,),
            )
            cur = await self._conn.execute(
                "INSERT INTO diagnoses (ticket_id, backend, model, started_at) VALUES (?, ?, ?, ?)",
                (ticket_id, backend, model, ts),
            )
            diag_id = int(cur.lastrowid or 0)
            await self._conn.execute(
                "INSERT INTO ticket_events (ticket_id, ts, kind, detail) VALUES (?, ?, 'diagnosis.started', ?)",
                (
                    ticket_id,
                    ts,
                    json.dumps({"diagnosis_id": diag_id, "backend": backend, "attempt": attempt}),
                ),
            )
            return diag_id

        diag_id = await self._transaction(body)
        return diag_id

    async def append_diagnosis_text(self, diagnosis_id: int, text: str) -> None:
        if text:
            await self._write(
                [("UPDATE diagnoses SET text = text || ? WHERE id = ?", (text, diagnosis_id))]
            )

    async def finish_diagnosis(
        self,
        diagnosis_id: int,
        result: dict[str, Any],
        *,
        text: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        investigation: list[dict[str, Any]] | None = None,
        cost_usd: float | None = None,
        now: datetime | None = None,
    ) -> Ticket | None:
        """Store the result, its investigation trace and cost; a ticket still ``diagnosing``
        becomes ``diagnosed``."""
        ts = _ts(now or self.clock())
        ticket_id = await self._diagnosis_ticket(diagnosis_id)
        stmts: list[tuple[str, Sequence[Any]]] = [
            (
                "UPDATE diagnoses SET result = ?, input_tokens = ?, output_tokens = ?, finished_at = ?, "
                "error = NULL, text = coalesce(?, text), investigation = ?, cost_usd = ? WHERE id = ?",
                (
                    json.dumps(result, default=str),
                    input_tokens,
                    output_tokens,
                    ts,
                    text,
                    bounded_json(investigation or [], 256_000)[1],
                    cost_usd,
                    diagnosis_id,
                ),
            ),
            (
                "UPDATE tickets SET status = 'diagnosed', diagnosis_failed = 0 WHERE id = ? AND status = 'diagnosing'",
                (ticket_id,),
            ),
            (
                "INSERT INTO ticket_events (ticket_id, ts, kind, detail) VALUES (?, ?, 'diagnosis.finished', ?)",
                (
                    ticket_id,
                    ts,
                    json.dumps(
                        {
                            "diagnosis_id": diagnosis_id,
                            "root_cause_class": result.get("root_cause_class"),
                        }
                    ),
                ),
            ),
        ]
        await self._write(stmts)
        return await self.get_ticket(ticket_id)

    async def fail_diagnosis(
        self,
        diagnosis_id: int,
        error: str,
        *,
        final: bool = True,
        text: str | None = None,
        investigation: list[dict[str, Any]] | None = None,
        now: datetime | None = None,
    ) -> Ticket | None:
        """Record a failed attempt, with the tool calls it made before it failed. A final failure
        puts the ticket back to ``open`` flagged failed: still diagnosable on request, not
        retried forever by the agent."""
        ts = _ts(now or self.clock())
        ticket_id = await self._diagnosis_ticket(diagnosis_id)
        trace = None if investigation is None else bounded_json(investigation, 256_000)[1]
        stmts: list[tuple[str, Sequence[Any]]] = [
            (
                "UPDATE diagnoses SET error = ?, finished_at = ?, text = coalesce(?, text), "
                "investigation = coalesce(?, investigation) WHERE id = ?",
                (error, ts, text, trace, diagnosis_id),
            ),
            (
                "INSERT INTO ticket_events (ticket_id, ts, kind, detail) VALUES (?, ?, ?, ?)",
                (
                    ticket_id,
                    ts,
                    "diagnosis.failed" if final else "diagnosis.retry",
                    json.dumps({"diagnosis_id": diagnosis_id, "error": error}),
                ),
            ),
        ]
        if final:
            stmts.append(
                (
                    "UPDATE tickets SET status = 'open', diagnosis_failed = 1 WHERE id = ? AND status = 'diagnosing'",
                    (ticket_id,),
                )
            )
        await self._write(stmts)
        return await self.get_ticket(ticket_id)

    async def mark_for_rediagnosis(self, ticket_id: int) -> Ticket | None:
        """Clear a failure flag and queue the ticket again (one being diagnosed keeps its status)."""
        await self._write(
            [
                (
                    "UPDATE tickets SET diagnosis_failed = 0, status = CASE WHEN status IN "
                    "('resolved', 'diagnosing') THEN status ELSE 'open' END WHERE id = ?",
                    (ticket_id,),
                )
            ]
        )
        return await self.get_ticket(ticket_id)

    async def requeue_interrupted(self, now: datetime | None = None) -> list[int]:
        """After a crash: tickets left ``diagnosing`` go back to ``open``; dangling diagnoses are closed."""
        ts = _ts(now or self.clock())
        ids = [
            r[0] for r in await self._fetchall("SELECT id FROM tickets WHERE status = 'diagnosing'")
        ]
        stmts: list[tuple[str, Sequence[Any]]] = [
            (
                "UPDATE diagnoses SET error = 'interrupted', finished_at = ? WHERE finished_at IS NULL",
                (ts,),
            ),
            ("UPDATE tickets SET status = 'open' WHERE status = 'diagnosing'", ()),
        ]
        stmts += [
            (
                "INSERT INTO ticket_events (ticket_id, ts, kind, detail) VALUES (?, ?, 'requeued', '{}')",
                (i, ts),
            )
            for i in ids
        ]
        await self._write(stmts)
        return ids

    async def _diagnosis_ticket(self, diagnosis_id: int) -> int:
        rows = await self._fetchall("SELECT ticket_id FROM diagnoses WHERE id = ?", (diagnosis_id,))
        if not rows:
            raise TicketStoreError(f"no diagnosis {diagnosis_id}")
        return int(rows[0][0])
