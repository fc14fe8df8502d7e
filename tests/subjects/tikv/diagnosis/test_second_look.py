"""What the tools answer now changes the offline conclusion where an operator would change
their mind: a store PD sees back, no region needing a replica, a slow store's own log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from operator_tikv.diagnosis import causes, offline_diagnoser
from operator_tikv.diagnosis.availability import WAIT
from operator_tikv.diagnosis.second_look import REPAIR, disk_in_logs
from operator_tikv.invariants import names

from operator_tui.core.diagnosis.context import DiagnosisContext, build_context
from operator_tui.core.diagnosis.findings import Finding
from operator_tui.core.diagnosis.schema import Diagnosis
from operator_tui.core.tools import Tool, ToolBox
from operator_tui.core.types import Severity, Violation
from operator_tui.testing.fake_subject import FakeSubject
from operator_tui.testing.tickets import ticket_for

Answers = dict[str, Callable[[dict[str, Any]], Any]]
ANY_ARGS = {"type": "object"}


def _box(answers: Answers) -> ToolBox:
    def tool(name: str, answer: Callable[[dict[str, Any]], Any]) -> Tool:
        async def run(_env: Any, a: dict[str, Any]) -> Any:
            return answer(a)

        return Tool(name, name, ANY_ARGS, run)

    return ToolBox([tool(n, f) for n, f in answers.items()])


async def _silent(_text: str) -> None:
    return None


async def _context(fake: FakeSubject, invariant: str) -> DiagnosisContext:
    snap = await fake.observe()
    violation = next(v for v in fake.evaluate(snap) if v.invariant == invariant)
    ticket = ticket_for(violation, snap.taken_at)
    return build_context(ticket, fake, snap, history=fake.history)


async def _diagnose(fake: FakeSubject, invariant: str, answers: Answers | None) -> Diagnosis:
    ctx = await _context(fake, invariant)
    if answers is not None:
        ctx.tools = _box(answers)
    return (await offline_diagnoser().diagnose(ctx, _silent)).diagnosis


def _pd_store(sid: int, state: str, beat: datetime, started: datetime) -> dict[str, Any]:
    """PD's ``/store/{id}`` answer (pd server/api/store.go ``StoreInfo``)."""
    return {
        "store": {"id": sid, "address": f"tikv-{sid}:20160", "state_name": state},
        "status": {
            "leader_count": 0,
            "region_count": 40,
            "start_ts": started.isoformat(),
            "last_heartbeat_ts": beat.isoformat(),
        },
    }


def _actions(d: Diagnosis) -> list[str]:
    return [a.action for a in d.recommended_actions]


async def test_a_store_pd_sees_back_is_a_restart_to_watch(fake: FakeSubject) -> None:
    fake.kill(2)
    before = await _diagnose(fake, names.STORE_DOWN, None)
    assert before.root_cause_class == causes.STORE_DOWN and REPAIR in _actions(before)
    moment = (await fake.observe()).taken_at
    later = moment + timedelta(seconds=30)

    back = await _diagnose(
        fake, names.STORE_DOWN, {"get_store": lambda a: _pd_store(2, "Up", later, later)}
    )
    assert back.root_cause_class == causes.STORE_DOWN and back.target == 2
    assert "is back" in back.root_cause and "a restart, not a loss" in back.root_cause
    assert REPAIR not in _actions(back)
    assert WAIT not in [o.option for o in back.options_considered]
    assert any("replica-schedule-limit" in o.option for o in back.options_considered)

    resumed = await _diagnose(
        fake,
        names.STORE_DOWN,
        {"get_store": lambda a: _pd_store(2, "Up", later, moment - timedelta(hours=1))},
    )
    assert "resumed" in resumed.root_cause and REPAIR not in _actions(resumed)

    # PD still says Up 20 s into a loss, but its last heartbeat is older than the ticket.
    stale = await _diagnose(
        fake,
        names.STORE_DOWN,
        {"get_store": lambda a: _pd_store(2, "Up", moment - timedelta(seconds=5), moment)},
    )
    assert stale.root_cause == before.root_cause and REPAIR in _actions(stale)


async def test_no_region_needing_a_replica_withholds_the_repair(fake: FakeSubject) -> None:
    fake.kill(2)
    none = await _diagnose(
        fake, names.STORE_DOWN, {"region_check": lambda a: {"count": 0, "regions": []}}
    )
    assert none.root_cause_class == causes.STORE_DOWN and REPAIR not in _actions(none)
    assert any("no replica repair" in o.rejected_because for o in none.options_considered)
    some = await _diagnose(
        fake,
        names.STORE_DOWN,
        {"region_check": lambda a: {"count": 3, "regions": [{"id": i} for i in range(3)]}},
    )
    assert REPAIR in _actions(some)


def _log(kind: str, message: str, sid: int = 1) -> dict[str, Any]:
    return {
        "time": "2026-03-01T09:00:00+00:00",
        "level": "WARN",
        "kind": kind,
        "store_id": sid,
        "message": message,
    }


DISK_LINE = (
    "[store 1] async write too slow, write_kv: 1.204s, write_raft: 1.083s, send: 0.000s, "
    "callback: 0.000s thread: store-writer-0"
)


async def test_a_slow_store_s_own_log_decides_how_sure_the_disk_is(fake: FakeSubject) -> None:
    fake.slow_disk(1)
    before = await _diagnose(fake, names.SLOW_STORE, None)
    assert before.root_cause_class == causes.SLOW_DISK

    def logs(events: list[dict[str, Any]]) -> Answers:
        return {"search_logs": lambda a: {"matched": len(events), "events": events}}

    named = await _diagnose(fake, names.SLOW_STORE, logs([_log("slow_operation", DISK_LINE)]))
    assert named.confidence == before.confidence
    silent = await _diagnose(fake, names.SLOW_STORE, logs([_log("slow_operation", "slow-query")]))
    assert silent.root_cause_class == causes.SLOW_DISK
    assert silent.confidence < before.confidence


async def test_latency_read_as_load_becomes_the_disk_its_log_names(fake: FakeSubject) -> None:
    snap = await fake.observe()
    ticket = ticket_for(
        Violation(names.HIGH_WRITE_LATENCY, Severity.WARNING, "p99 high", store_id=1),
        snap.taken_at,
    )
    ctx = build_context(ticket, fake, snap, history=fake.history)
    load = Finding(cause=causes.OVERLOAD, target=1, root_cause="load", confidence=0.6)
    ctx.tools = _box(
        {"search_logs": lambda a: {"matched": 1, "events": [_log("slow_operation", DISK_LINE)]}}
    )
    answers = [await ctx.tools.call("search_logs", {"store_id": 1})]
    disk = disk_in_logs(ctx, load, answers)
    assert disk.cause == causes.SLOW_DISK and disk.target == 1
    assert any("async write too slow" in e for e in disk.evidence)
    assert [w.cause for w in disk.weighed if w.chosen] == [causes.SLOW_DISK]
    quiet = [
        await _box({"search_logs": lambda a: {"matched": 0, "events": []}}).call(
            "search_logs", {"store_id": 1}
        )
    ]
    assert disk_in_logs(ctx, Finding(causes.OVERLOAD, 1, "load"), quiet).cause == causes.OVERLOAD
