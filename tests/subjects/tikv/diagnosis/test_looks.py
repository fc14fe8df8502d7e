"""The offline rules look at the simulated cluster through the read-only tools: every
diagnosis carries the trace of those calls and their answers read as evidence; the cause
is the one the rules reach from the context, and what PD answers now shapes the action."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from operator_tikv.diagnosis import families, offline_diagnoser
from operator_tikv.diagnosis.looks import plan
from operator_tikv.plugin import plugin
from operator_tikv.settings import TikvSettings
from operator_tikv.sim import SimCluster, SimConfig
from operator_tikv.sim.demo import subject_settings

from operator_tui.core.diagnosis.context import build_context
from operator_tui.core.history import History
from operator_tui.core.subject import SubjectContext
from operator_tui.core.tools import ToolBox, ToolEnv
from operator_tui.testing.tickets import ticket_for


@pytest.fixture
async def sim() -> AsyncIterator[SimCluster]:
    async with SimCluster(SimConfig(stores=3, regions=60, seed=5, manual_clock=True)) as cluster:
        await cluster.advance(12)
        yield cluster


async def _silent(_text: str) -> None:
    return None


async def test_a_killed_store_is_looked_at_through_the_tools(sim: SimCluster) -> None:
    def clock() -> datetime:
        return datetime.fromtimestamp(sim.now_ns / 1e9, UTC)

    async with httpx.AsyncClient() as http:
        settings = TikvSettings(**subject_settings(sim))
        subject = plugin.create(
            SubjectContext(http=http, settings=settings, interval_s=2.0, clock=clock)
        )
        history = History()
        for _ in range(3):
            history.record(await subject.observe())
            await sim.advance(2)
        await sim.kill_store(2)
        await sim.advance(2)
        snap = await subject.observe()
        history.record(snap)
        violation = next(v for v in subject.evaluate(snap) if v.store_id == 2)
        ticket = ticket_for(violation, snap.taken_at)

        bare = build_context(ticket, subject, snap, history=history)
        without = await offline_diagnoser().diagnose(bare, _silent)
        assert without.investigation == []

        ctx = build_context(ticket, subject, snap, history=history)
        ctx.tools = ToolBox(
            subject.describe().tools, ToolEnv(ticket=ticket, history=history, now=clock)
        )
        outcome = await offline_diagnoser().diagnose(ctx, _silent)

    d, alone = outcome.diagnosis, without.diagnosis
    assert (d.root_cause_class, d.target) == (alone.root_cause_class, alone.target)
    # Seconds after the kill no leader reports a down peer yet (TiKV waits
    # max-peer-down-duration), so PD's down-peer check is empty: no repair to speed up.
    repair = "set_replica_schedule_limit"
    assert repair in [a.action for a in alone.recommended_actions]
    assert repair not in [a.action for a in d.recommended_actions]
    assert "PD flags 0 region(s) with a down-peer" in outcome.text
    steps = outcome.investigation
    assert [s["tool"] for s in steps] == [name for name, _ in plan(ctx).calls]
    assert {"get_store", "get_metric_history", "search_logs"} <= {s["tool"] for s in steps}
    if families.family(ticket.invariant) in (families.DOWN, families.PARTITION):
        assert "region_check" in {s["tool"] for s in steps}
    for step in steps:
        assert step["ok"], step
        assert step["result_chars"] > 0 and step["ms"] >= 0
    assert next(s for s in steps if s["tool"] == "get_store")["input"] == {"store_id": 2}
    assert "PD has store 2 Up now" in outcome.text
    assert "its status port answered at" in outcome.text
