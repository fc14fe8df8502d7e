"""The runtime: monitor ticks, tickets, the agent (offline and Claude through the loopback API), actions."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from operator_tikv.diagnosis import offline_diagnoser

from operator_tui.core.commands import Commands
from operator_tui.core.diagnosis.base import DiagnosisOutcome, TextSink
from operator_tui.core.diagnosis.claude import ClaudeDiagnoser, make_client
from operator_tui.core.diagnosis.context import DiagnosisContext
from operator_tui.core.runtime import OperatorRuntime, RuntimeOptions
from operator_tui.core.subject import SubjectError
from operator_tui.core.ticket import TicketStatus
from operator_tui.core.tickets import TicketStore
from operator_tui.testing.fake_subject import FakeChaos, FakeSubject
from operator_tui.testing.messages_api import MessagesAPIServer, Reply
from operator_tui.testing.samples import diagnosis_input


def options(**kw: Any) -> RuntimeOptions:
    base: dict[str, Any] = {"interval_s": 0.2, "agent_max_retries": 2}
    base.update(kw)
    return RuntimeOptions(**base)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[TicketStore]:
    s = await TicketStore.open(tmp_path / "t.db", subject="fake")
    yield s
    await s.aclose()


def make_runtime(tmp_path, fake, store, diagnoser=None, **kw) -> OperatorRuntime:
    return OperatorRuntime(
        options(**kw),
        fake,
        store,
        diagnoser or offline_diagnoser(),
        chaos=FakeChaos(fake),
        retry_base_s=0.01,
        retry_max_s=0.05,
    )


@pytest.fixture
def runtime(tmp_path: Path, fake: FakeSubject, store: TicketStore) -> OperatorRuntime:
    return make_runtime(tmp_path, fake, store)


class Running:
    """Runs the agent loop for the duration of a test."""

    def __init__(self, rt: OperatorRuntime) -> None:
        self.rt = rt

    async def __aenter__(self) -> OperatorRuntime:
        self.task = asyncio.create_task(self.rt.run_agent())
        return self.rt

    async def __aexit__(self, *exc: object) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.rt.aclose()


def test_implements_commands(runtime: OperatorRuntime) -> None:
    assert isinstance(runtime, Commands)
    assert runtime.config.name == "fake" and runtime.chaos is not None


async def test_tick_opens_and_resolves(
    runtime: OperatorRuntime, fake: FakeSubject, wait_event
) -> None:
    sub = runtime.bus.subscribe()
    snap = await runtime.tick_once()
    assert snap is not None and runtime.latest_snapshot is snap
    tick = await wait_event(sub, "tick")
    assert (
        tick.data["stores_up"] == 3
        and tick.data["stores_total"] == 3
        and tick.data["reachable"] is True
    )
    assert {"regions", "qps", "p99_ms", "tick_ms"} <= tick.data.keys()
    assert tick.data["regions"] == 100, "the subject's declared figure"
    assert await runtime.list_tickets() == []

    fake.kill(2)
    await runtime.tick_once()
    opened = await wait_event(sub, "ticket.opened")
    assert (
        opened.data["ticket"]["invariant"] == "store_down"
        and opened.data["ticket"]["store_id"] == 2
    )
    ticket = await runtime.get_ticket(opened.data["ticket"]["id"])
    assert ticket is not None and ticket.snapshot["stores"][1]["state"] == "Disconnected"

    await runtime.tick_once()
    assert (await runtime.get_ticket(ticket.id)).occurrences == 2  # type: ignore[union-attr]
    fake.start(2)
    await runtime.tick_once()
    resolved = await wait_event(sub, "ticket.resolved")
    assert (
        resolved.data["ticket"]["id"] == ticket.id
        and resolved.data["ticket"]["status"] == "resolved"
    )


async def test_unreachable_subject_is_a_ticket_not_a_crash(
    runtime: OperatorRuntime, fake: FakeSubject, wait_event
) -> None:
    fake.kill(1)
    await runtime.tick_once()
    sub = runtime.bus.subscribe()
    fake.unreachable = True
    assert await runtime.tick_once() is None
    tick = await wait_event(sub, "tick")
    assert tick.data["reachable"] is False and "connection refused" in tick.data["error"]
    open_ = await runtime.list_tickets(include_resolved=False)
    assert sorted(t.invariant for t in open_) == ["store_down", "subject_unreachable"]
    fake.unreachable = False
    await runtime.tick_once()
    open_ = await runtime.list_tickets(include_resolved=False)
    assert [t.invariant for t in open_] == ["store_down"]


async def test_crashing_subject_is_reported(
    runtime: OperatorRuntime, fake: FakeSubject, wait_event, monkeypatch
) -> None:
    sub = runtime.bus.subscribe()

    def boom(snapshot):
        raise RuntimeError("bug in an invariant")

    monkeypatch.setattr(fake, "evaluate", boom)
    assert await runtime.tick_once() is not None
    err = await wait_event(sub, "error")
    assert "bug in an invariant" in err.data["message"]


async def test_agent_diagnoses_offline_and_streams(
    runtime: OperatorRuntime, fake: FakeSubject, wait_event
) -> None:
    sub = runtime.bus.subscribe()
    for _ in range(3):
        await runtime.tick_once()
    async with Running(runtime):
        fake.kill(3)
        await runtime.tick_once()
        started = await wait_event(sub, "diagnosis.started")
        tid = started.data["ticket_id"]
        assert started.data["backend"] == "offline" and started.data["attempt"] == 1
        chunk = await wait_event(sub, "diagnosis.chunk", ticket_id=tid)
        assert chunk.data["text"].startswith("## Observation")
        done = await wait_event(sub, "diagnosis.finished", ticket_id=tid)
        proposed = await wait_event(sub, "action.proposed", ticket_id=tid)
    assert (
        proposed.data["action"] == "set_replica_schedule_limit"
        and proposed.data["mode"] == "observe"
    )
    assert (
        done.data["diagnosis"]["root_cause_class"] == "store_down"
        and done.data["diagnosis"]["target"] == 3
    )
    ticket = await runtime.get_ticket(tid)
    assert ticket is not None and ticket.status is TicketStatus.DIAGNOSED
    record = await runtime.latest_diagnosis(tid)
    assert (
        record is not None
        and record.result == done.data["diagnosis"]
        and "## Root cause" in record.text
    )
    kinds = [e.kind for e in await runtime.ticket_events(tid)]
    assert (
        kinds[:3] == ["opened", "diagnosis.started", "diagnosis.finished"]
        and "action.proposed" in kinds
    )


class Gate:
    """A diagnoser that holds every diagnosis until released, counting how many run at once."""

    backend = "gate"
    model = None

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self.release = asyncio.Event()
        self.seen: list[int] = []

    async def diagnose(self, context: DiagnosisContext, on_text: TextSink) -> DiagnosisOutcome:
        self.active += 1
        self.peak = max(self.peak, self.active)
        self.seen.append(context.ticket.id)
        try:
            await on_text("working")
            await self.release.wait()
        finally:
            self.active -= 1
        return await offline_diagnoser().diagnose(context, on_text)


async def test_bounded_concurrency(
    tmp_path, fake: FakeSubject, store: TicketStore, wait_event
) -> None:
    gate = Gate()
    rt = make_runtime(tmp_path, fake, store, gate, agent_concurrency=2)
    sub = rt.bus.subscribe()
    fake.kill(1)
    fake.slow_disk(2)
    fake.disk_pressure(3)
    fake.pd_leader_lost()
    await rt.tick_once()
    assert len(await rt.list_tickets()) == 4
    async with Running(rt):
        for _ in range(2):
            await wait_event(sub, "diagnosis.chunk")
        await asyncio.sleep(0.05)
        assert gate.active == 2 and gate.peak == 2
        gate.release.set()
        for _ in range(4):
            await wait_event(sub, "diagnosis.finished")
    assert gate.peak == 2 and sorted(gate.seen) == [1, 2, 3, 4]


async def test_interrupted_diagnosis_is_requeued(
    tmp_path, fake: FakeSubject, store: TicketStore, wait_event
) -> None:
    gate = Gate()
    rt = make_runtime(tmp_path, fake, store, gate)
    sub = rt.bus.subscribe()
    fake.kill(1)
    await rt.tick_once()
    async with Running(rt):
        started = await wait_event(sub, "diagnosis.started")
        assert (await rt.get_ticket(started.data["ticket_id"])).status is TicketStatus.DIAGNOSING  # type: ignore[union-attr]
    ticket = await rt.get_ticket(started.data["ticket_id"])
    assert ticket is not None and ticket.status is TicketStatus.OPEN
    assert [t.id for t in await store.tickets_needing_diagnosis()] == [ticket.id]


@pytest.fixture
async def api() -> AsyncIterator[MessagesAPIServer]:
    async with MessagesAPIServer() as server:
        yield server


def claude_for(api: MessagesAPIServer) -> ClaudeDiagnoser:
    return ClaudeDiagnoser(
        make_client("sk-test", api.base_url, timeout_s=10), model="claude-test", max_tokens=1024
    )


def valid_tool(target: int = 1) -> dict[str, Any]:
    return diagnosis_input(target=target, observation="store gone", root_cause="process killed")


async def test_claude_429_then_success(
    tmp_path, fake, store, api: MessagesAPIServer, wait_event
) -> None:
    claude = claude_for(api)
    rt = make_runtime(tmp_path, fake, store, claude)
    api.enqueue(
        Reply.error(429, retry_after=0),
        Reply.message(
            "## Observation\n\nStore 1 is gone.\n",
            tool_input=valid_tool(),
            input_tokens=11,
            output_tokens=22,
        ),
    )
    sub = rt.bus.subscribe()
    fake.kill(1)
    await rt.tick_once()
    async with Running(rt):
        done = await wait_event(sub, "diagnosis.finished")
    await claude.aclose()
    assert done.data["attempt"] == 2 and done.data["model"] == "claude-test"
    assert (done.data["input_tokens"], done.data["output_tokens"]) == (11, 22)
    records = await store.diagnoses(done.data["ticket_id"])
    assert [(r.backend, r.error is None, r.result is not None) for r in records] == [
        ("claude", False, False),
        ("claude", True, True),
    ]
    assert "429" in (records[0].error or "")
    assert records[1].text == "## Observation\n\nStore 1 is gone.\n"


async def test_claude_cut_stream_then_success(
    tmp_path, fake, store, api: MessagesAPIServer, wait_event
) -> None:
    claude = claude_for(api)
    rt = make_runtime(tmp_path, fake, store, claude)
    api.enqueue(
        Reply.message(
            "## Observation\n\nStore 1 is gone for good.\n",
            tool_input=valid_tool(),
            cut_after_events=5,
            chunk_chars=6,
        ),
        Reply.message("## Observation\n\nagain\n", tool_input=valid_tool()),
    )
    sub = rt.bus.subscribe()
    fake.kill(1)
    await rt.tick_once()
    async with Running(rt):
        first = await wait_event(sub, "diagnosis.started", attempt=1)
        await wait_event(sub, "diagnosis.chunk")
        second = await wait_event(sub, "diagnosis.started", attempt=2)
        done = await wait_event(sub, "diagnosis.finished")
    await claude.aclose()
    assert first.data["ticket_id"] == second.data["ticket_id"] == done.data["ticket_id"]
    records = await store.diagnoses(done.data["ticket_id"])
    assert records[0].error and "cut" in records[0].error and records[0].text.startswith("## Obs")
    assert records[1].text == "## Observation\n\nagain\n"


async def test_claude_529_exhausted_then_rediagnose(
    tmp_path, fake, store, api: MessagesAPIServer, wait_event
) -> None:
    claude = claude_for(api)
    rt = make_runtime(tmp_path, fake, store, claude, agent_max_retries=2)
    api.enqueue(Reply.error(529), Reply.error(529), Reply.error(529))
    sub = rt.bus.subscribe()
    fake.kill(1)
    await rt.tick_once()
    async with Running(rt):
        failed = await wait_event(sub, "diagnosis.failed")
        tid = failed.data["ticket_id"]
        assert failed.data["attempts"] == 3 and "529" in failed.data["error"]
        ticket = await rt.get_ticket(tid)
        assert ticket is not None and ticket.status is TicketStatus.OPEN and ticket.diagnosis_failed
        await asyncio.sleep(0.05)
        assert len(api.requests) == 3  # not retried forever
        api.enqueue(Reply.message("ok", tool_input=valid_tool()))
        await rt.rediagnose(tid)
        await wait_event(sub, "diagnosis.finished", ticket_id=tid)
    await claude.aclose()
    assert [e.kind for e in await rt.ticket_events(tid)].count("diagnosis.retry") == 2
    assert (await rt.get_ticket(tid)).status is TicketStatus.DIAGNOSED  # type: ignore[union-attr]


async def test_rediagnose_resolved_ticket(
    runtime: OperatorRuntime, fake: FakeSubject, wait_event
) -> None:
    sub = runtime.bus.subscribe()
    fake.kill(2)
    await runtime.tick_once()
    fake.start(2)
    await runtime.tick_once()
    [ticket] = await runtime.list_tickets()
    assert ticket.status is TicketStatus.RESOLVED
    async with Running(runtime):
        await runtime.rediagnose(ticket.id)
        await wait_event(sub, "diagnosis.finished", ticket_id=ticket.id)
    assert (await runtime.get_ticket(ticket.id)).status is TicketStatus.RESOLVED  # type: ignore[union-attr]
    with pytest.raises(SubjectError):
        await runtime.rediagnose(999)


async def diagnosed(rt: OperatorRuntime, fake: FakeSubject, wait_event) -> int:
    sub = rt.bus.subscribe()
    fake.kill(1)
    await rt.tick_once()
    async with Running(rt):
        done = await wait_event(sub, "diagnosis.finished")
        await wait_event(sub, "action.done" if rt.actions_mode == "auto" else "action.proposed")
    sub.close()
    return int(done.data["ticket_id"])


async def test_observe_mode_refuses_and_records(
    runtime: OperatorRuntime, fake: FakeSubject, wait_event
) -> None:
    tid = await diagnosed(runtime, fake, wait_event)
    sub = runtime.bus.subscribe()
    result = await runtime.approve(tid)
    assert result.refused and not result.ok and "observe mode" in result.message
    refused = await wait_event(sub, "action.refused")
    assert (
        refused.data["action"] == "set_replica_schedule_limit" and refused.data["ticket_id"] == tid
    )
    assert fake.executed == []
    assert "action.refused" in [e.kind for e in await runtime.ticket_events(tid)]
    missing = await runtime.approve(tid, action_index=5)
    assert missing.refused and "no recommended action" in missing.message
    assert (await runtime.approve(12345)).refused


async def test_approve_mode_executes_after_approval(tmp_path, fake, store, wait_event) -> None:
    rt = make_runtime(tmp_path, fake, store, actions_mode="approve")
    tid = await diagnosed(rt, fake, wait_event)
    assert fake.executed == []
    result = await rt.approve(tid)
    assert result.ok and fake.executed == [("set_replica_schedule_limit", {"n": 128})]
    assert "action.done" in [e.kind for e in await rt.ticket_events(tid)]


async def test_auto_mode_executes_after_diagnosis(tmp_path, fake, store, wait_event) -> None:
    rt = make_runtime(tmp_path, fake, store, actions_mode="auto")
    sub = rt.bus.subscribe()
    await diagnosed(rt, fake, wait_event)
    done = await wait_event(sub, "action.done", within=1)
    assert done.data["ok"] and done.data["approved"] is False
    assert fake.executed == [("set_replica_schedule_limit", {"n": 128})]


async def test_chaos_commands(
    runtime: OperatorRuntime, fake: FakeSubject, tmp_path, store, wait_event
) -> None:
    sub = runtime.bus.subscribe()
    assert "killed" in await runtime.kill_store(2)
    ev = await wait_event(sub, "chaos")
    assert ev.data == {"action": "kill", "store_id": 2, "message": "killed store 2"}
    assert fake.metrics[2].reachable is False
    await runtime.start_store(2)
    with pytest.raises(SubjectError, match="no store 9"):
        await runtime.kill_store(9)
    bare = OperatorRuntime(options(), fake, store, offline_diagnoser())
    with pytest.raises(SubjectError, match="no chaos"):
        await bare.kill_store(1)


async def test_interval_floor_for_front_ends(runtime: OperatorRuntime, wait_event) -> None:
    sub = runtime.bus.subscribe()
    assert runtime.interval_s == 0.2
    assert runtime.set_interval(0.3) == 1.0 and runtime.interval_s == 1.0
    assert runtime.set_interval(5) == 5.0
    runtime.pause()
    assert runtime.paused
    await wait_event(sub, "monitor.paused")
    runtime.resume()
    await wait_event(sub, "monitor.resumed")


class Scripted:
    """A diagnoser that returns a fixed diagnosis (to test what the runtime does with its actions)."""

    backend = "scripted"
    model = "fixed"

    def __init__(self, actions: list[dict[str, Any]]) -> None:
        self.actions = actions

    async def diagnose(self, context: DiagnosisContext, on_text: TextSink) -> DiagnosisOutcome:
        from operator_tui.core.diagnosis.schema import Diagnosis

        await on_text("## Observation\n")
        d = Diagnosis.model_validate(
            {**valid_tool(context.ticket.store_id or 1), "recommended_actions": self.actions}
        )
        return DiagnosisOutcome(diagnosis=d, text="## Observation\n")


async def test_auto_mode_leaves_high_risk_for_approval(tmp_path, fake, store, wait_event) -> None:
    actions = [
        {"action": "drain_store", "args": {"store_id": 1}, "rationale": "r", "risk": "high"},
        {"action": "split_region", "args": {"region_id": 11}, "rationale": "r", "risk": "low"},
    ]
    rt = make_runtime(tmp_path, fake, store, Scripted(actions), actions_mode="auto")
    sub = rt.bus.subscribe()
    fake.kill(1)
    await rt.tick_once()
    async with Running(rt):
        proposed = await wait_event(sub, "action.proposed")
        done = await wait_event(sub, "action.done")
    assert (proposed.data["action"], proposed.data["index"]) == ("drain_store", 0)
    assert done.data["action"] == "split_region" and done.data["ok"]
    assert fake.executed == [("split_region", {"region_id": 11})]
    result = await rt.approve(proposed.data["ticket_id"], 0)
    assert result.ok and fake.executed[-1] == ("drain_store", {"store_id": 1})


async def test_failing_action_is_recorded_not_raised(
    tmp_path, fake, store, wait_event, monkeypatch
) -> None:
    rt = make_runtime(tmp_path, fake, store, actions_mode="approve")
    tid = await diagnosed(rt, fake, wait_event)

    async def broken(action, args):
        raise RuntimeError("PD said no")

    monkeypatch.setattr(fake, "execute", broken)
    result = await rt.approve(tid)
    assert not result.ok and "PD said no" in result.message
    events = await rt.ticket_events(tid)
    assert events[-1].kind == "action.done" and events[-1].detail["ok"] is False


async def test_rediagnose_while_running_is_kept_for_after(
    tmp_path, fake, store, wait_event
) -> None:
    gate = Gate()
    rt = make_runtime(tmp_path, fake, store, gate)
    sub = rt.bus.subscribe()
    fake.kill(1)
    await rt.tick_once()
    async with Running(rt):
        started = await wait_event(sub, "diagnosis.started")
        tid = started.data["ticket_id"]
        await rt.rediagnose(tid)
        await asyncio.sleep(0.05)
        gate.release.set()
        await wait_event(sub, "diagnosis.finished", ticket_id=tid)
        again = await wait_event(sub, "diagnosis.started", ticket_id=tid)
        assert again.data["diagnosis_id"] != started.data["diagnosis_id"]
        await wait_event(sub, "diagnosis.finished", ticket_id=tid)
    assert gate.seen == [tid, tid]


async def test_monitor_start_moves_start_up_objects_out_of_the_collector(
    runtime: OperatorRuntime,
) -> None:
    """Full collections during ticks then walk only what ticks create (see tick_cost.py)."""
    gc.unfreeze()
    thresholds = gc.get_threshold()
    task = asyncio.create_task(runtime.run_monitor())
    try:
        for _ in range(100):
            if gc.get_freeze_count() > 0:
                break
            await asyncio.sleep(0.01)
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] >= 20_000
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        gc.unfreeze()
        gc.set_threshold(*thresholds)


async def test_commands_read_the_monitors_history(
    runtime: OperatorRuntime, fake: FakeSubject
) -> None:
    fake.log(2, "became_leader", "region 9 became leader")
    await runtime.tick_once()
    await runtime.tick_once()
    assert runtime.metric_history(2) == runtime.monitor.history.metric_history(2)
    assert len(runtime.metric_history(2)) == 2
    assert [e.kind for e in runtime.recent_log_events(store_id=2)] == ["became_leader"]
    assert runtime.recent_log_events(store_id=1) == []
    assert runtime.agent.history is runtime.monitor.history
