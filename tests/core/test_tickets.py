"""The ticket database: dedupe, resolve, re-open, diagnoses, history, migrations, corrupt files."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from operator_tui.core.ticket import TicketStatus
from operator_tui.core.tickets import SCHEMA_VERSION, TicketStore, TicketStoreError
from operator_tui.core.types import Severity, Violation

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def v(
    inv: str = "store_down",
    store: int | None = 1,
    sev: Severity = Severity.CRITICAL,
    msg: str = "m",
) -> Violation:
    return Violation(invariant=inv, severity=sev, message=msg, store_id=store)


@pytest.fixture
async def store(tmp_path: Path):
    s = await TicketStore.open(tmp_path / "t.db", subject="tikv")
    yield s
    await s.aclose()


async def test_open_dedupe_resolve_reopen(store: TicketStore) -> None:
    changes = await store.upsert_violations([v(), v("low_disk", 2, Severity.WARNING)], {"n": 1}, T0)
    assert [(c, t.violation_key) for c, t in changes] == [
        ("opened", "store_down:store-1"),
        ("opened", "low_disk:store-2"),
    ]
    first = changes[0][1]
    assert first.status is TicketStatus.OPEN and first.subject == "tikv" and first.store_id == 1

    changes = await store.upsert_violations(
        [v(), v("low_disk", 2, Severity.CRITICAL)], {}, T0 + timedelta(seconds=2)
    )
    assert [(c, t.violation_key, t.severity) for c, t in changes] == [
        ("updated", "low_disk:store-2", Severity.CRITICAL)
    ]
    again = await store.get_ticket(first.id)
    assert (
        again is not None
        and again.occurrences == 2
        and again.last_seen == T0 + timedelta(seconds=2)
    )
    assert again.snapshot == {"n": 1}
    assert await store.count_tickets() == 2

    changes = await store.upsert_violations([v("low_disk", 2)], {}, T0 + timedelta(seconds=4))
    assert [(c, t.id) for c, t in changes] == [("resolved", first.id)]
    resolved = await store.get_ticket(first.id)
    assert resolved is not None and resolved.status is TicketStatus.RESOLVED
    assert resolved.resolved_at == T0 + timedelta(seconds=4)

    changes = await store.upsert_violations([v(), v("low_disk", 2)], {}, T0 + timedelta(seconds=6))
    assert [c for c, _ in changes] == ["opened"]
    reopened = changes[0][1]
    assert reopened.id != first.id and reopened.previous_ticket_id == first.id
    kinds = [e.kind for e in await store.events(first.id)]
    assert kinds == ["opened", "resolved"]


async def test_resolve_absent_false_keeps_tickets(store: TicketStore) -> None:
    await store.upsert_violations([v()], {}, T0)
    changes = await store.upsert_violations(
        [v("subject_unreachable", None)], {}, T0, resolve_absent=False
    )
    assert [(c, t.target) for c, t in changes] == [("opened", "cluster")]
    assert len(await store.list_tickets(include_resolved=False)) == 2


async def test_list_order_and_filters(store: TicketStore) -> None:
    await store.upsert_violations([v(store=1), v(store=2), v(store=3)], {}, T0)
    await store.upsert_violations([v(store=3)], {}, T0)
    all_ = await store.list_tickets()
    assert [t.store_id for t in all_] == [3, 2, 1]
    assert [t.status for t in all_] == [
        TicketStatus.OPEN,
        TicketStatus.RESOLVED,
        TicketStatus.RESOLVED,
    ]
    assert [t.store_id for t in await store.list_tickets(include_resolved=False)] == [3]
    assert len(await store.list_tickets(limit=2)) == 2
    assert [t.store_id for t in await store.list_tickets(status=TicketStatus.RESOLVED)] == [2, 1]
    assert all(t.snapshot == {} for t in all_)


async def test_diagnosis_lifecycle(store: TicketStore) -> None:
    [(_, t)] = await store.upsert_violations([v()], {}, T0)
    assert [x.id for x in await store.tickets_needing_diagnosis()] == [t.id]
    d1 = await store.start_diagnosis(t.id, "claude", "m1")
    assert (await store.get_ticket(t.id)).status is TicketStatus.DIAGNOSING  # type: ignore[union-attr]
    assert await store.tickets_needing_diagnosis() == []
    await store.append_diagnosis_text(d1, "## Obs")
    await store.append_diagnosis_text(d1, "ervation")
    await store.fail_diagnosis(d1, "429 rate limited", final=False)
    assert (await store.get_ticket(t.id)).status is TicketStatus.DIAGNOSING  # type: ignore[union-attr]
    d2 = await store.start_diagnosis(t.id, "claude", "m1", attempt=2)
    await store.fail_diagnosis(d2, "529 overloaded", final=True)
    failed = await store.get_ticket(t.id)
    assert failed is not None and failed.status is TicketStatus.OPEN and failed.diagnosis_failed
    assert await store.tickets_needing_diagnosis() == []
    records = await store.diagnoses(t.id)
    assert [(r.text, r.error) for r in records] == [
        ("## Observation", "429 rate limited"),
        ("", "529 overloaded"),
    ]

    await store.mark_for_rediagnosis(t.id)
    assert [x.id for x in await store.tickets_needing_diagnosis()] == [t.id]
    d3 = await store.start_diagnosis(t.id, "offline", None)
    done = await store.finish_diagnosis(
        d3, {"root_cause_class": "store_down"}, text="full", input_tokens=10, output_tokens=20
    )
    assert done is not None and done.status is TicketStatus.DIAGNOSED and not done.diagnosis_failed
    latest = await store.latest_diagnosis(t.id)
    assert (
        latest is not None
        and latest.id == d3
        and latest.result == {"root_cause_class": "store_down"}
    )
    assert (latest.text, latest.input_tokens, latest.output_tokens) == ("full", 10, 20)
    assert latest.finished_at is not None and latest.error is None
    kinds = [e.kind for e in await store.events(t.id)]
    assert kinds == [
        "opened",
        "diagnosis.started",
        "diagnosis.retry",
        "diagnosis.started",
        "diagnosis.failed",
        "diagnosis.started",
        "diagnosis.finished",
    ]


async def test_resolved_ticket_keeps_status_through_diagnosis(store: TicketStore) -> None:
    [(_, t)] = await store.upsert_violations([v()], {}, T0)
    d = await store.start_diagnosis(t.id, "offline", None)
    await store.upsert_violations([], {}, T0)
    done = await store.finish_diagnosis(d, {"root_cause_class": "store_down"})
    assert done is not None and done.status is TicketStatus.RESOLVED


async def test_requeue_interrupted(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    s = await TicketStore.open(path)
    [(_, a), (_, b)] = await s.upsert_violations([v(store=1), v(store=2)], {}, T0)
    await s.start_diagnosis(a.id, "offline", None)
    await s.aclose()
    s = await TicketStore.open(path)
    assert await s.requeue_interrupted() == [a.id]
    assert {t.id for t in await s.tickets_needing_diagnosis()} == {a.id, b.id}
    rec = await s.latest_diagnosis(a.id)
    assert rec is not None and rec.error == "interrupted"
    await s.aclose()


async def test_corrupt_file_is_one_line_error_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    content = b"this is not sqlite at all\n" * 200
    path.write_bytes(content)
    with pytest.raises(TicketStoreError) as info:
        await TicketStore.open(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert path.read_bytes() == content


async def test_foreign_sqlite_and_newer_schema_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as c:
        c.execute("CREATE TABLE x (y)")
    with pytest.raises(TicketStoreError, match="not a ticket database"):
        await TicketStore.open(foreign)
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as c:
        c.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(TicketStoreError, match="newer"):
        await TicketStore.open(newer)
    with pytest.raises(TicketStoreError, match="directory"):
        await TicketStore.open(tmp_path)


async def test_schema_version_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    s = await TicketStore.open(path)
    await s.aclose()
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert (
            c.execute(
                "SELECT count(*) FROM sqlite_master WHERE name='tickets_one_unresolved'"
            ).fetchone()[0]
            == 1
        )
    s = await TicketStore.open(path)  # reopening migrates nothing and keeps data
    await s.aclose()


async def test_database_refuses_two_unresolved_for_one_key(store: TicketStore) -> None:
    await store.upsert_violations([v()], {}, T0)
    with pytest.raises(sqlite3.IntegrityError):
        await store._write(
            [
                (
                    "INSERT INTO tickets (violation_key, invariant, subject, target, severity, status, message, "
                    "first_seen, last_seen) VALUES ('store_down:store-1','store_down','t','store-1','critical',"
                    "'open','m',0,0)",
                    (),
                )
            ]
        )
    assert await store.count_tickets() == 1


async def test_forward_migration_keeps_data(tmp_path: Path, monkeypatch) -> None:
    from operator_tui.core import tickets as mod

    path = tmp_path / "t.db"
    s = await TicketStore.open(path)
    [(_, t)] = await s.upsert_violations([v()], {"k": 1}, T0)
    await s.aclose()
    monkeypatch.setattr(
        mod, "MIGRATIONS", (*mod.MIGRATIONS, "ALTER TABLE tickets ADD COLUMN note TEXT")
    )
    monkeypatch.setattr(mod, "SCHEMA_VERSION", len(mod.MIGRATIONS))
    s = await TicketStore.open(path)
    again = await s.get_ticket(t.id)
    assert again is not None and again.snapshot == {"k": 1}
    await s.aclose()
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        assert "note" in [r[1] for r in c.execute("PRAGMA table_info(tickets)")]


async def test_damaged_pages_are_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    s = await TicketStore.open(path)
    for k in range(5):
        await s.upsert_violations(
            [v(store=k * 500 + i) for i in range(500)], {"pad": "x" * 200}, T0
        )
    await s.aclose()
    with sqlite3.connect(path) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    assert len(data) > 5 * 4096
    data[3 * 4096 : 3 * 4096 + 600] = b"\xff" * 600
    path.write_bytes(bytes(data))
    with pytest.raises(TicketStoreError) as info:
        await TicketStore.open(path)
    assert "\n" not in str(info.value)
    assert path.read_bytes() == bytes(data)


def _size(path: str) -> int:
    return os.stat(path).st_size


async def _write_ticks(store: TicketStore, ticks: int, start: int = 0) -> None:
    for n in range(start, start + ticks):
        # A ticket opened and one resolved every tick, with a snapshot of some size: pages.
        await store.upsert_violations(
            [v("store_down", n % 50), v("low_disk", (n + 1) % 50)], {"pad": "x" * 4000}, T0
        )


async def test_the_wal_is_emptied_on_schedule_and_stays_bounded(tmp_path: Path) -> None:
    """A reader left open pins the log; the scheduled TRUNCATE empties it once the reader goes."""
    path = tmp_path / "t.db"
    wal = f"{path}-wal"
    store = await TicketStore.open(path, subject="tikv")
    now = [0.0]
    store.monotonic = lambda: now[0]
    store.checkpoint_every_s = 60.0
    reader = sqlite3.connect(path)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM tickets").fetchone()  # holds its snapshot
        await _write_ticks(store, 300)
        pinned = _size(wal)
        assert pinned > 1 << 20  # the reader's snapshot keeps every page in the log
        now[0] = 61.0
        await _write_ticks(store, 1, start=300)
        assert store.checkpoints == 0  # busy: the reader still holds the old snapshot
        reader.execute("COMMIT")
        now[0] = 122.0
        await _write_ticks(store, 1, start=301)
        assert store.checkpoints == 1 and _size(wal) == 0
        for _ in range(5):  # then bounded, with checkpoints on schedule
            now[0] += 61.0
            await _write_ticks(store, 100, start=302)
            assert _size(wal) < pinned / 2
        assert store.checkpoints == 6
    finally:
        reader.close()
        await store.aclose()
