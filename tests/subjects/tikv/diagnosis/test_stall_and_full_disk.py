"""A RocksDB write stall and a filling disk on one store are two causes, each its own ticket's.

TiKV rejects writes to a full disk at raftstore (``DiskFull``) and never stalls RocksDB for
it; RocksDB states why it stalls (``tikv_engine_write_stall_reason``). So the stall's ticket
names the stall when RocksDB gives a reason, and the disk's ticket stays the disk's.
"""

from __future__ import annotations

import pytest
from operator_tikv.diagnosis import offline_diagnoser

from operator_tui.core.diagnosis.context import build_context
from operator_tui.core.diagnosis.schema import Diagnosis
from operator_tui.core.types import Severity, Violation
from operator_tui.testing.fake_subject import FakeSubject

REASONS = (
    "level0_file_limit_slowdown",
    "pending_compaction_bytes_stop",
    "memtable_count_limit_slowdown",
)


async def _noop(text: str) -> None:
    return None


async def diagnose(
    fake: FakeSubject, make_ticket, invariant: str, sid: int | None
) -> tuple[Diagnosis, str]:
    """The diagnosis and its text (whose Evidence section lists the finding's evidence)."""
    snap = await fake.observe()
    v = Violation(invariant, Severity.WARNING, invariant, sid)
    ctx = build_context(make_ticket(v, snap.taken_at), fake, snap, history=fake.history)
    outcome = await offline_diagnoser().diagnose(ctx, _noop)
    return outcome.diagnosis, outcome.text


async def stalled_on_a_filling_disk(fake: FakeSubject, sid: int, reasons: dict[str, float]) -> None:
    for _ in range(4):
        await fake.observe()
    fake.disk_pressure(sid)
    fake.write_stall(sid)
    fake.metrics[sid].write_stall_reasons_per_s = reasons


@pytest.mark.parametrize("reason", REASONS)
@pytest.mark.parametrize("invariant", ["write_stall", "high_write_latency"])
async def test_the_stalls_ticket_names_the_stall_and_its_reason(
    fake: FakeSubject, make_ticket, invariant: str, reason: str
) -> None:
    await stalled_on_a_filling_disk(fake, 2, {reason: 0.1})
    d, text = await diagnose(fake, make_ticket, invariant, 2)
    assert (d.root_cause_class, d.target) == ("write_stall", 2)
    assert reason in text.split("## Evidence")[1].split("##")[0]
    assert "also 92% full" in text
    weighed = {c.cause: c for c in d.causes_considered}
    assert not weighed["disk_full"].chosen
    assert any(reason in e for e in weighed["write_stall"].evidence_for)


async def test_the_disks_ticket_stays_the_disks(fake: FakeSubject, make_ticket) -> None:
    await stalled_on_a_filling_disk(fake, 2, {"level0_file_limit_slowdown": 0.1})
    d, _ = await diagnose(fake, make_ticket, "low_disk", 2)
    assert (d.root_cause_class, d.target) == ("disk_full", 2)
    weighed = {c.cause: c for c in d.causes_considered}
    assert not weighed["write_stall"].chosen


@pytest.mark.parametrize(
    "reasons",
    [None, {}, {"not_a_tikv_reason": 3.0}],
    ids=["not-read", "none-counting", "unknown-type"],
)
async def test_a_stall_with_no_reason_on_a_full_disk_is_the_disk(
    fake: FakeSubject, make_ticket, reasons
) -> None:
    await stalled_on_a_filling_disk(fake, 2, reasons)
    d, _ = await diagnose(fake, make_ticket, "write_stall", 2)
    assert (d.root_cause_class, d.target) == ("disk_full", 2)
    stall = next(c for c in d.causes_considered if c.cause == "write_stall")
    assert any("names no stall reason" in e for e in stall.evidence_against)


async def test_a_reason_does_not_outrank_a_slow_disk(fake: FakeSubject, make_ticket) -> None:
    """A slow disk makes flushes and compactions fall behind: level-0 files pile up."""
    await stalled_on_a_filling_disk(fake, 2, {"level0_file_limit_slowdown": 0.1})
    fake.slow_disk(2)
    d, _ = await diagnose(fake, make_ticket, "write_stall", 2)
    assert (d.root_cause_class, d.target) == ("slow_disk", 2)


async def test_a_stall_elsewhere_does_not_take_the_disks_ticket(
    fake: FakeSubject, make_ticket
) -> None:
    for _ in range(4):
        await fake.observe()
    fake.disk_pressure(3)
    fake.write_stall(1)
    fake.metrics[1].write_stall_reasons_per_s = {"pending_compaction_bytes_slowdown": 0.2}
    disk, _ = await diagnose(fake, make_ticket, "low_disk", 3)
    assert (disk.root_cause_class, disk.target) == ("disk_full", 3)
    stall, text = await diagnose(fake, make_ticket, "write_stall", 1)
    assert (stall.root_cause_class, stall.target) == ("write_stall", 1)
    assert "pending_compaction_bytes_slowdown" in text and "% full" not in text


@pytest.mark.parametrize(
    ("reasons", "expected"),
    [({"level0_file_limit_stop": 0.1}, ("write_stall", 3)), ({}, ("disk_full", 1))],
    ids=["reason-named", "no-reason"],
)
async def test_no_rule_weighs_a_named_stall_before_a_full_disk(
    fake: FakeSubject, make_ticket, reasons, expected
) -> None:
    """PD's low-space ratio stops region placement, not writes; a stated stall slows them now."""
    for _ in range(4):
        await fake.observe()
    fake.disk_pressure(1)
    fake.write_stall(3)
    fake.metrics[3].write_stall_reasons_per_s = reasons
    d, _ = await diagnose(fake, make_ticket, "mystery", None)
    assert (d.root_cause_class, d.target) == expected
