"""A database written before incidents (schema v1) opens, migrates and keeps every ticket and diagnosis."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from operator_tui.core.incident import DEFAULT_RULES, IncidentStatus
from operator_tui.core.incident_store import ORPHANS, UNRESOLVED_STANDING, IncidentStore
from operator_tui.core.tickets import MIGRATIONS, SCHEMA_VERSION, TicketStore
from operator_tui.core.types import Severity, Violation

T = 1_764_800_000.0


def write_v1_database(path: Path) -> None:
    """What the release before incidents left on disk: its one migration, then its rows
    (a resolved ticket, its recurrence diagnosed, one still open), written as it wrote them."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version=1; COMMIT;")
    conn.execute("PRAGMA journal_mode=WAL")
    rows = [
        (
            1,
            "store_down:store-2",
            "store_down",
            "store-2",
            2,
            "critical",
            "resolved",
            T,
            T + 30,
            None,
        ),
        (
            2,
            "store_down:store-2",
            "store_down",
            "store-2",
            2,
            "critical",
            "diagnosed",
            T + 60,
            None,
            1,
        ),
        (3, "low_disk:store-1", "low_disk", "store-1", 1, "warning", "open", T + 70, None, None),
    ]
    for tid, key, inv, target, store, sev, status, first, resolved, prev in rows:
        conn.execute(
            "INSERT INTO tickets (id, violation_key, invariant, subject, target, store_id, severity, "
            "status, message, first_seen, last_seen, occurrences, resolved_at, previous_ticket_id, "
            "snapshot) VALUES (?, ?, ?, 'tikv', ?, ?, ?, ?, ?, ?, ?, 3, ?, ?, '{}')",
            (
                tid,
                key,
                inv,
                target,
                store,
                sev,
                status,
                f"{inv} msg",
                first,
                first + 5,
                resolved,
                prev,
            ),
        )
        conn.execute(
            "INSERT INTO ticket_events (ticket_id, ts, kind, detail) VALUES (?, ?, 'opened', '{}')",
            (tid, first),
        )
    conn.execute(
        "INSERT INTO diagnoses (ticket_id, backend, model, text, result, started_at, finished_at) "
        "VALUES (2, 'offline', NULL, 'store 2 is down', ?, ?, ?)",
        (json.dumps({"root_cause_class": "store_down", "target": 2}), T + 61, T + 62),
    )
    conn.close()


async def test_v1_database_migrates_and_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    write_v1_database(path)
    store = await TicketStore.open(path, subject="tikv")
    try:
        incidents = IncidentStore(store)
        assert await store.count_tickets() == 3
        kept = {t.id: t for t in await store.list_tickets()}
        assert {i: (t.status.value, t.occurrences) for i, t in kept.items()} == {
            1: ("resolved", 3),
            2: ("diagnosed", 3),
            3: ("open", 3),
        }
        [diag] = await store.diagnoses(2)
        assert diag.text == "store 2 is down" and diag.result == {
            "root_cause_class": "store_down",
            "target": 2,
        }
        assert [e.kind for e in await store.events(1)] == ["opened"]
        # every old ticket is its own incident, with its status, times and recurrence link
        listed = {i.id: i for i in await incidents.list_incidents()}
        assert sorted(listed) == [1, 2, 3]
        assert listed[1].status == IncidentStatus.RESOLVED
        assert listed[1].resolved_at == datetime.fromtimestamp(T + 30, UTC)
        assert listed[2].status == IncidentStatus.DIAGNOSED and listed[2].previous_incident_id == 1
        assert listed[3].cause == "low_disk" and listed[3].ticket_ids == [3]
        assert listed[3].severity == Severity.WARNING and listed[3].open_tickets == 1
        # the migrated database goes on: a new symptom is a new incident after the old ids
        now = datetime.fromtimestamp(T + 100, UTC)
        await store.upsert_violations(
            [
                Violation("store_down", Severity.CRITICAL, "down", 2),
                Violation("low_disk", Severity.WARNING, "disk", 1),
                Violation("slow_store", Severity.CRITICAL, "slow", 3),
            ],
            {},
            now,
        )
        [(kind, fresh)] = await incidents.record(DEFAULT_RULES, now)
        assert kind == "opened" and fresh.id == 4 and fresh.ticket_ids == [4]
    finally:
        await store.aclose()
    # reopening migrates nothing again
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert conn.execute("SELECT count(*) FROM incident_tickets").fetchone()[0] == 4
    finally:
        conn.close()
    again = await TicketStore.open(path)
    assert await again.count_tickets() == 4
    await again.aclose()


async def test_the_per_tick_reads_do_not_walk_every_incident_or_ticket_ever_opened(
    tmp_path: Path,
) -> None:
    """What a tick reads of incidents and tickets starts from the partial indexes of the
    unresolved ones: its cost follows what is open, not the database's age."""
    path = tmp_path / "t.db"
    store = await TicketStore.open(path)
    await store.aclose()
    conn = sqlite3.connect(path)
    try:
        for query in (
            UNRESOLVED_STANDING,
            ORPHANS,
            "SELECT id FROM incidents i WHERE i.status != 'resolved' ORDER BY i.id",
            "SELECT violation_key, id, severity FROM tickets WHERE status != 'resolved'",
        ):
            plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {query}")]
            scans = [step for step in plan if step.startswith("SCAN")]
            assert scans and all(
                step.endswith(("incidents_unresolved", "tickets_one_unresolved")) for step in scans
            ), plan
    finally:
        conn.close()
