"""A store's own evidence comes before its neighbours': two faults on two stores get two causes."""

from __future__ import annotations

from operator_tikv.diagnosis import offline_diagnoser

from operator_tui.core.diagnosis.context import build_context
from operator_tui.core.diagnosis.schema import Diagnosis
from operator_tui.core.types import LogEvent, Severity, Violation
from operator_tui.testing.fake_subject import FakeSubject


async def _noop(text: str) -> None:
    return None


async def diagnose_violation(fake: FakeSubject, make_ticket, v: Violation) -> Diagnosis:
    snap = await fake.observe()
    ctx = build_context(make_ticket(v, snap.taken_at), fake, snap, history=fake.history)
    return (await offline_diagnoser().diagnose(ctx, _noop)).diagnosis


async def warm(fake: FakeSubject) -> None:
    for _ in range(4):
        await fake.observe()


async def test_write_stall_beside_a_killed_store_is_its_own(fake: FakeSubject, make_ticket) -> None:
    await warm(fake)
    fake.kill(3)
    fake.write_stall(1)
    d = await diagnose_violation(
        fake, make_ticket, Violation("write_stall", Severity.WARNING, "write stall", 1)
    )
    assert (d.root_cause_class, d.target) == ("write_stall", 1)
    assert all(a.action != "set_replica_schedule_limit" for a in d.recommended_actions)
    weighed = {(c.cause, c.target): c for c in d.causes_considered}
    assert ("store_down", 3) in weighed and not weighed["store_down", 3].chosen
    assert weighed["store_down", 3].evidence_against


async def test_slow_disk_latency_beside_a_killed_store_is_its_own(
    fake: FakeSubject, make_ticket
) -> None:
    await warm(fake)
    fake.kill(3)
    fake.slow_disk(1)
    d = await diagnose_violation(
        fake, make_ticket, Violation("high_write_latency", Severity.WARNING, "p99 450 ms", 1)
    )
    assert (d.root_cause_class, d.target) == ("slow_disk", 1)


async def test_latency_beside_a_partitioned_store_with_a_stall_is_the_stall(
    fake: FakeSubject, make_ticket
) -> None:
    await warm(fake)
    fake.partition(2)
    fake.metrics[1].write_stall = 2.0
    fake.metrics[1].p99_write_latency_ms = 240.0
    d = await diagnose_violation(
        fake, make_ticket, Violation("high_write_latency", Severity.WARNING, "p99 240 ms", 1)
    )
    assert (d.root_cause_class, d.target) == ("write_stall", 1)


async def test_survivor_latency_with_nothing_of_its_own_is_the_dead_store(
    fake: FakeSubject, make_ticket
) -> None:
    await warm(fake)
    fake.kill(3)
    fake.metrics[1].p99_write_latency_ms = 180.0
    d = await diagnose_violation(
        fake, make_ticket, Violation("high_write_latency", Severity.WARNING, "p99 180 ms", 1)
    )
    assert (d.root_cause_class, d.target) == ("store_down", 3)
    chosen = next(c for c in d.causes_considered if c.chosen)
    assert any("became_leader" in e or "leader" in e for e in chosen.evidence_for)


async def test_slow_disk_stall_is_not_compaction(fake: FakeSubject, make_ticket) -> None:
    """A slow disk's own stall ticket names the slow disk, not 'compaction is behind'."""
    await warm(fake)
    fake.slow_disk(3)
    fake.metrics[3].slow_score = 100.0
    fake.stores[3].slow_score = 100.0
    fake.metrics[3].write_stall = 1.0
    d = await diagnose_violation(
        fake, make_ticket, Violation("write_stall", Severity.CRITICAL, "write stall", 3)
    )
    assert (d.root_cause_class, d.target) == ("slow_disk", 3)
    assert "compaction is behind" not in d.root_cause
    rejected = next(c for c in d.causes_considered if c.cause == "write_stall")
    assert not rejected.chosen and rejected.evidence_against


async def test_a_partition_stays_a_partition_once_pd_says_down(
    fake: FakeSubject, make_ticket
) -> None:
    await warm(fake)
    fake.stores[2].state = "Down"
    fake.metrics[2].unreachable_reports_per_s = {1: 4.0, 3: 4.0}
    d = await diagnose_violation(
        fake, make_ticket, Violation("store_down", Severity.CRITICAL, "PD says Down", 2)
    )
    assert (d.root_cause_class, d.target) == ("network_partition", 2)
    weighed = {c.cause: c for c in d.causes_considered}
    assert weighed["network_partition"].chosen and weighed["store_down"].evidence_against
    assert any("reports stores [1, 3]" in e for e in weighed["network_partition"].evidence_for)
    # Its port no longer read this tick: what it last answered, and its own reports, decide.
    fake.metrics[2] = fake.metrics[2].__class__(store_id=2, reachable=True)
    snap = await fake.observe()
    snap.store_metrics.pop(2)
    ctx = build_context(
        make_ticket(Violation("store_down", Severity.CRITICAL, "PD says Down", 2), snap.taken_at),
        fake,
        snap,
        history=fake.history,
    )
    unseen = (await offline_diagnoser().diagnose(ctx, _noop)).diagnosis
    assert unseen.root_cause_class == "network_partition"


async def test_a_killed_store_is_still_down(fake: FakeSubject, make_ticket) -> None:
    await warm(fake)
    fake.kill(2)
    fake.stores[2].state = "Down"
    d = await diagnose_violation(
        fake, make_ticket, Violation("store_down", Severity.CRITICAL, "refused", 2)
    )
    assert (d.root_cause_class, d.target) == ("store_down", 2)


async def test_critical_error_from_the_counter_and_from_a_panic(
    fake: FakeSubject, make_ticket
) -> None:
    await warm(fake)
    fake.metrics[1].critical_errors_per_s = 0.5
    d = await diagnose_violation(
        fake, make_ticket, Violation("critical_error", Severity.CRITICAL, "critical errors", 1)
    )
    assert (d.root_cause_class, d.target) == ("critical_error", 1)
    assert any("critical errors/s" in e for e in d.causes_considered[0].evidence_for)
    # A store that panicked on a corrupt SST and exited: down, but a restart would not help.
    fake.metrics[1].critical_errors_per_s = 0.0
    fake.logs.append(
        LogEvent(
            time=fake.clock(),
            level="FATAL",
            source="lib.rs:1",
            message="sst corruption",
            store_id=3,
        )
    )
    fake.kill(3)
    d = await diagnose_violation(
        fake, make_ticket, Violation("store_down", Severity.CRITICAL, "refused", 3)
    )
    assert (d.root_cause_class, d.target) == ("critical_error", 3)
    assert "restart" in " ".join(o.option.lower() for o in d.options_considered)


async def test_no_rule_falls_back_to_a_critical_error(fake: FakeSubject, make_ticket) -> None:
    await warm(fake)
    fake.metrics[2].critical_errors_per_s = 1.0
    d = await diagnose_violation(fake, make_ticket, Violation("mystery", Severity.INFO, "?", None))
    assert (d.root_cause_class, d.target) == ("critical_error", 2)
