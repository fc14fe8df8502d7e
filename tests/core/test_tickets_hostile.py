"""The ticket database under values it cannot store: one bad ticket costs only itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from operator_tui.core.bounds import SNAPSHOT_MAX_BYTES, bounded_json, clip
from operator_tui.core.tickets import TicketStore
from operator_tui.core.types import Severity, Violation

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def v(store: int | None, inv: str = "store_down", msg: str = "m") -> Violation:
    return Violation(invariant=inv, severity=Severity.CRITICAL, message=msg, store_id=store)


@pytest.fixture
async def store(tmp_path: Path):
    s = await TicketStore.open(tmp_path / "t.db", subject="tikv")
    yield s
    await s.aclose()


async def test_an_id_beyond_64_bits_costs_only_its_own_ticket(store: TicketStore) -> None:
    """Finding 1: one store id of 2^63 rolled back the whole tick's write (OverflowError)."""
    changes = await store.upsert_violations([v(1), v(2**63), v(3)], {"n": 1}, T0)
    assert sorted(t.store_id for c, t in changes if c == "opened") == [1, 3]
    assert store.failed_rows == 1
    assert await store.count_tickets() == 2
    again = await store.upsert_violations([v(1), v(2**64 + 5), v(3)], {}, T0 + timedelta(seconds=2))
    assert again == []
    assert await store.count_tickets() == 2


async def test_a_message_that_does_not_encode_costs_only_its_update(store: TicketStore) -> None:
    await store.upsert_violations([v(1), v(2)], {}, T0)
    await store.upsert_violations(
        [v(1, msg="bad \ud800 text"), v(2, msg="fine")], {}, T0 + timedelta(seconds=2)
    )
    tickets = {t.store_id: t for t in await store.list_tickets()}
    assert tickets[2].message == "fine" and tickets[2].occurrences == 2
    assert tickets[1].message == "m" and tickets[1].occurrences == 1
    assert store.failed_rows == 1


async def test_a_key_that_does_not_encode_is_left_out(store: TicketStore) -> None:
    bad = Violation(invariant="down\udfff", severity=Severity.CRITICAL, message="m")
    changes = await store.upsert_violations([bad, v(4)], {}, T0)
    assert [t.store_id for _, t in changes] == [4]


async def test_the_stored_snapshot_is_bounded(store: TicketStore) -> None:
    """Finding 4: a 50 MB label was stored whole with every ticket (about 100 MB each)."""
    huge = {"taken_at": T0.isoformat(), "stores": [{"id": 1, "labels": {"zone": "x" * 5_000_000}}]}
    changes = await store.upsert_violations([v(1)], huge, T0)
    ticket = await store.get_ticket(changes[0][1].id)
    assert ticket is not None
    assert len(json.dumps(ticket.snapshot)) <= SNAPSHOT_MAX_BYTES
    assert "truncated" in ticket.snapshot
    assert ticket.snapshot["stores"][0]["labels"]["zone"].endswith("chars]")
    assert changes[0][1].snapshot == ticket.snapshot


def test_clip_marks_what_it_cut() -> None:
    assert clip("abc", 3) == "abc"
    assert clip("abcdef", 2) == "ab…[+4 chars]"


def test_bounded_json_keeps_a_small_value_as_it_is() -> None:
    value = {"a": [1, 2], "b": "\ud800"}
    kept, text = bounded_json(value)
    assert kept is value and json.loads(text) == value and text.isascii()


def test_bounded_json_always_fits() -> None:
    value = {f"k{i}" * 1000: ["y" * 10_000] * 1000 for i in range(50)}
    kept, text = bounded_json(value, 10_000)
    assert len(text) <= 10_000 and json.loads(text) == kept
