"""The subject against the simulated cluster: kill, partition, disk pressure, slow disk,
hot region, PD leader killed mid-run. Time is the simulator's (manual clock), and the
subject's clock follows it, so grace periods run in simulated seconds."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from operator_tikv.figures import pd_figures
from operator_tikv.plugin import plugin
from operator_tikv.settings import TikvSettings
from operator_tikv.sim import SimCluster, SimConfig
from operator_tikv.sim.demo import subject_settings
from operator_tikv.states import StoreState

from operator_tui.core.history import History
from operator_tui.core.subject import SubjectContext
from operator_tui.core.types import Severity


@pytest.fixture
async def sim() -> AsyncIterator[SimCluster]:
    async with SimCluster(SimConfig(stores=3, regions=100, seed=7, manual_clock=True)) as cluster:
        await cluster.advance(12)
        yield cluster


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def subject_for(sim, http, **options):
    clock = options.pop("clock", lambda: datetime.fromtimestamp(sim.now_ns / 1e9, UTC))
    for key, value in subject_settings(sim).items():
        options.setdefault(key, value)
    settings = TikvSettings(**options)
    return plugin.create(SubjectContext(http=http, settings=settings, interval_s=2.0, clock=clock))


async def tick(subject, history: History | None = None):
    """One observation and its violations; ``history`` records it as the monitor would."""
    snapshot = await subject.observe()
    if history is not None:
        history.record(snapshot)
    return snapshot, {v.key: v for v in subject.evaluate(snapshot)}


async def run_for(sim, subject, seconds, step=10.0):
    """Advance simulated time in steps, observing after each; returns the last tick."""
    result = None
    elapsed = 0.0
    while elapsed < seconds:
        await sim.advance(step)
        elapsed += step
        result = await tick(subject)
    return result


async def test_healthy_cluster(sim, http):
    subject = subject_for(sim, http)
    history = History()
    await tick(subject, history)
    await sim.advance(2)
    snap, violations = await tick(subject, history)
    assert violations == {}
    assert snap.errors == []
    assert [s.state for s in snap.stores] == [StoreState.UP] * 3
    pd = pd_figures(snap.cluster)
    assert snap.cluster.stores_up == 3 and pd.region_count == 100
    assert pd.pd_members_total == 3 and pd.pd_leader
    for sid in (1, 2, 3):
        m = snap.store_metrics[sid]
        assert m.reachable and m.qps > 0 and m.p99_write_latency_ms > 0
        assert m.region_count == snap.store(sid).region_count
    assert history.recent_log_events(limit=5)
    assert len(history.metric_history(1)) == 2


async def test_killed_store_is_down_on_the_next_tick(sim, http):
    subject = subject_for(sim, http)
    history = History()
    await tick(subject, history)
    await sim.advance(2)
    await tick(subject, history)
    await sim.kill_store(2)
    await sim.advance(2)
    snap, violations = await tick(subject, history)
    assert snap.store(2).state is StoreState.UP  # PD has not noticed yet (20 s)
    assert list(violations) == ["store_down:store-2"]
    assert violations["store_down:store-2"].severity is Severity.CRITICAL
    assert not snap.store_metrics[2].reachable
    await sim.advance(30)
    snap, violations = await tick(subject, history)
    assert snap.store(2).state is StoreState.DISCONNECTED
    assert "store_down:store-2" in violations
    survivors = {
        e.store_id for e in history.recent_log_events(limit=1000) if e.kind == "became_leader"
    }
    assert survivors and 2 not in survivors
    await sim.start_store(2)
    await sim.advance(12)
    await tick(subject)
    await sim.advance(2)
    snap, violations = await tick(subject)
    assert "store_down:store-2" not in violations
    assert snap.store(2).state is StoreState.UP


async def test_partition_is_reported_as_disconnected(sim, http):
    subject = subject_for(sim, http)
    await tick(subject)
    sim.add_fault("partition_store", 3)
    await sim.advance(25)
    snap, violations = await tick(subject)
    assert snap.store(3).state is StoreState.DISCONNECTED
    assert snap.store_metrics[3].reachable
    assert "store_disconnected:store-3" in violations
    assert "store_down:store-3" not in violations


async def test_partition_is_seen_from_the_peers_on_the_next_tick(sim, http):
    subject = subject_for(sim, http)
    await tick(subject)
    await sim.advance(2)
    await tick(subject)
    fault = sim.add_fault("partition_store", 1)
    await sim.advance(2)
    snap, violations = await tick(subject)
    assert snap.store(1).state is StoreState.UP  # PD waits 20 s for heartbeats
    assert list(violations) == ["store_disconnected:store-1"]
    v = violations["store_disconnected:store-1"]
    assert "stores 2, 3 report it unreachable" in v.message and "PD still says Up" in v.message
    for _ in range(12):
        await sim.advance(2)
        snap, violations = await tick(subject)
        assert "store_disconnected:store-1" in violations
        assert not [
            k
            for k in violations
            if k.startswith(("store_down", "store_disconnected:"))
            and k != "store_disconnected:store-1"
        ]
    assert snap.store(1).state is StoreState.DISCONNECTED
    sim.clear_fault(fault)
    cleared = False
    for _ in range(10):
        await sim.advance(2)
        snap, violations = await tick(subject)
        if snap.store(1).state is StoreState.UP and not violations:
            cleared = True
            break
    assert cleared, violations


async def test_no_partition_from_a_killed_paused_or_restarted_store(sim, http):
    subject = subject_for(sim, http, scrape_timeout_s=0.5)
    seen: set[str] = set()

    async def ticks(n):
        for _ in range(n):
            await sim.advance(2)
            _, violations = await tick(subject)
            seen.update(violations)

    await tick(subject)
    await ticks(2)
    await sim.kill_store(2)
    await ticks(15)
    await sim.start_store(2)
    await ticks(10)
    pause = sim.add_fault("pause_store", 3)
    await ticks(3)
    sim.clear_fault(pause)
    await ticks(10)
    assert "store_down:store-2" in seen and "store_down:store-3" in seen
    assert not [k for k in seen if k.startswith("store_disconnected")], seen


async def test_disk_pressure_warns_then_goes_critical(sim, http):
    subject = subject_for(sim, http, invariants={"low_disk_grace_s": 10})
    await tick(subject)
    capacity = sim.model.stores[1].capacity
    sim.add_fault(
        "disk_pressure", 1, target_available_ratio=0.05, rate_bytes_per_s=capacity * 0.005
    )
    seen = set()
    for _ in range(40):
        await sim.advance(10)
        _, violations = await tick(subject)
        if "low_disk:store-1" in violations:
            seen.add(violations["low_disk:store-1"].severity)
        if Severity.CRITICAL in seen:
            break
    assert seen == {Severity.WARNING, Severity.CRITICAL}
    assert all(not k.startswith("low_disk:store-2") for k in violations)


async def test_slow_disk_raises_write_latency(sim, http):
    subject = subject_for(sim, http)
    await tick(subject)
    sim.add_fault("slow_disk", 2, latency_ms=1500)
    _, violations = await run_for(sim, subject, 70)
    assert "high_write_latency:store-2" in violations
    v = violations["high_write_latency:store-2"]
    assert v.details["p99_write_latency_ms"] > 100
    assert not [k for k in violations if k.startswith("high_write_latency") and k != v.key]


async def test_hot_region_concentrates_write_flow(sim, http):
    subject = subject_for(sim, http)
    await tick(subject)
    sim.add_fault("hot_region", share=0.9)
    _, violations = await run_for(sim, subject, 130)
    hot = [v for k, v in violations.items() if k.startswith("hot_write_region:")]
    assert len(hot) == 1 and hot[0].details["share"] >= 0.6


async def test_pd_leader_killed_mid_run_is_not_a_cluster_down(sim, http):
    subject = subject_for(sim, http)
    before, _ = await tick(subject)
    old_leader = pd_figures(before.cluster).pd_leader

    async def clock_runs():
        while True:
            await asyncio.sleep(0.05)
            await sim.advance(0.5)

    runner = asyncio.create_task(clock_runs())
    try:
        sim.kill_pd_leader()
        snap, violations = await tick(subject)
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    assert len(snap.stores) == 3
    pd = pd_figures(snap.cluster)
    assert pd.pd_leader and pd.pd_leader != old_leader
    assert not [k for k in violations if k.startswith(("store_down", "store_disconnected"))]
    assert "pd_leader_changed:cluster" in violations
    assert snap.extra["pd_failovers"] >= 1 or snap.extra["pd_endpoint"] != sim.pd_urls[0]
    assert (pd.pd_members_healthy, pd.pd_members_total) == (2, 3)
    assert "pd_member_unhealthy:cluster" in violations


async def test_actions_reach_pd(sim, http):
    subject = subject_for(sim, http)
    await tick(subject)
    r = await subject.execute("set_leader_schedule_limit", {"n": 8})
    assert r.ok, r.message
    snap, _ = await tick(subject)
    assert pd_figures(snap.cluster).leader_schedule_limit == 8
    r = await subject.execute("transfer_leader", {"region_id": 999999, "to_store_id": 1})
    assert not r.ok and not r.refused and "999999" in r.message


async def test_sim_logs_arrive_once_each(sim, http):
    subject = subject_for(sim, http)
    history = History()
    await tick(subject, history)
    for _ in range(5):
        await sim.advance(3)
        await tick(subject, history)
    sim.add_fault("kill_store", 1)
    for _ in range(3):
        await sim.advance(3)
        await tick(subject, history)
    got = [e.raw for e in history.recent_log_events(store_id=2, limit=5000)]
    assert got and len(got) == len(set(got))
    served = (
        await http.get(f"{sim.pd_urls[1]}/sim/api/v1/stores/2/logs", params={"limit": 5000})
    ).text
    assert got == [ln for ln in served.splitlines() if ln][-len(got) :]


async def test_paused_store_times_out_and_is_down(sim, http):
    subject = subject_for(sim, http, scrape_timeout_s=0.5)
    await tick(subject)
    sim.add_fault("pause_store", 1)
    await sim.advance(2)
    snap, violations = await tick(subject)
    assert "store_down:store-1" in violations
    assert "timed out" in snap.store_metrics[1].error
    assert snap.stores and not [
        k for k in violations if k.startswith("store_down") and k != "store_down:store-1"
    ]


async def test_critical_errors_are_reported(sim, http):
    subject = subject_for(sim, http)
    await tick(subject)
    sim.add_fault("critical_error", 3, type="sst_corruption", rate_per_s=2.0)
    await sim.advance(2)
    snap, violations = await tick(subject)
    assert "critical_error:store-3" in violations
    assert snap.store_metrics[3].critical_errors_per_s == pytest.approx(2.0, rel=0.2)


async def test_write_stall_reason_is_read_from_the_stalled_store_only(sim, http):
    """Read every 2 s, the reason still shows though TiKV sets it every 10 s."""
    subject = subject_for(sim, http)
    await tick(subject)
    sim.add_fault("write_stall", 2, cause="pending_compaction", stall_ms=900.0)
    seen = []
    for _ in range(15):
        await sim.advance(2)
        snap, _ = await tick(subject)
        seen.append(snap.store_metrics[2].write_stall_reasons_per_s)
        assert snap.store_metrics[1].write_stall_reasons_per_s == {}
    # Once the window holds a flush, every read names the reason.
    assert all(set(r or {}) == {"pending_compaction_bytes_slowdown"} for r in seen[6:]), seen


async def test_a_dead_store_beyond_the_scrape_budget_is_read_on_the_next_tick(http):
    config = SimConfig(stores=24, regions=600, seed=5, manual_clock=True)
    async with SimCluster(config) as big:
        await big.advance(12)
        # The peers' reports alone bring it forward (not its heartbeat, nor PD's state, nor a
        # kept connection closed by the kill: httpx keeps none).
        subject = subject_for(
            big, http, scrape_budget=6, heartbeat_overdue_s=1000, scrape_client="httpx"
        )
        for _ in range(5):  # 1-6, 7-12, 13-18, 19-24, then 1-6 again
            await tick(subject)
            await big.advance(2)
        victim = 3  # just read: not due again for three ticks
        await big.kill_store(victim)
        await big.advance(2)
        _, first = await tick(subject)
        await big.advance(2)
        snap, second = await tick(subject)
        assert f"store_down:store-{victim}" not in first
        assert f"store_down:store-{victim}" in second
        assert snap.store(victim).state is StoreState.UP  # PD waits 20 s
        assert not snap.store_metrics[victim].reachable


async def test_evict_leader_runs_checks_and_moves_leaders_off_the_store(sim, http):
    """The action a slow store gets first, end to end against the simulated PD: pre-check,
    PD's scheduler route, post-check, leaders leaving, and removal."""
    subject = subject_for(sim, http)
    snap, _ = await tick(subject)
    led = next(s for s in snap.stores if s.leader_count > 0)
    before = await subject.precheck("evict_leader", {"store_id": led.id}, {})
    assert before.ok and not before.done, before.message
    r = await subject.execute("evict_leader", {"store_id": led.id})
    assert r.ok, r.message
    after = await subject.verify("evict_leader", {"store_id": led.id})
    assert after.ok, after.message
    assert (await subject.precheck("evict_leader", {"store_id": led.id}, {})).done
    await run_for(sim, subject, 60)
    snap, _ = await tick(subject)
    assert snap.store(led.id).leader_count < led.leader_count
    r = await subject.execute("remove_evict_leader", {"store_id": led.id})
    assert r.ok, r.message
    assert (await subject.verify("remove_evict_leader", {"store_id": led.id})).ok
