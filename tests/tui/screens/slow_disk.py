"""A slow-disk incident with a finished diagnosis on the fake runtime, for the incident screen's
layout tests and snapshots (fixed clock, fixed figures)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from operator_tikv.invariants.measures import measures
from operator_tikv.invariants.settings import InvariantSettings
from operator_tikv.records import TikvLogEvent

from operator_tui.core.ticket import Ticket, TicketStatus
from operator_tui.core.types import Severity

from ..conftest import FakeRuntime, ManualClock, make_app

SLOW_DISK_TEXT = (
    "## Observation\n\nStore 2's slow score is 92 and its p99 write latency 5743 ms.\n\n"
    "## Root cause\n\n**slow_disk** on store 2: its disk is slow.\n"
)

SLOW_DISK_RESULT: dict[str, Any] = {
    "observation": "Store 2's slow score is 92 (healthy stores sit near 1); writes it leads are slow.",
    "root_cause": "Store 2's disk is slow: raft log appends and applies take long, so writes led by it are slow.",
    "root_cause_class": "slow_disk",
    "target": 2,
    "correlated_metrics": [
        {"metric": "p99_write_latency_ms", "store_id": 2, "value": 5743.0, "baseline": 3.2},
        {"metric": "write_stall", "store_id": 2, "value": 1.8e6, "baseline": 0.0},
        {"metric": "slow_score", "store_id": 2, "value": 92.0, "baseline": 1.0},
    ],
    "causes_considered": [
        {
            "cause": "slow_disk",
            "target": 2,
            "evidence_for": ["Store 2's slow score is 92.", "14 slow-operation log events."],
            "evidence_against": [],
            "chosen": True,
        },
        {
            "cause": "hot_region",
            "target": 2,
            "evidence_for": [],
            "evidence_against": ["No region leads more than 20% of the write flow."],
            "chosen": False,
        },
    ],
    "options_considered": [
        {
            "option": "Drain store 2",
            "rejected_because": "moves all its data onto the others; too heavy while the disk still works",
        }
    ],
    "recommended_actions": [
        {
            "action": "evict_leader",
            "args": {"store_id": 2},
            "current": {"store_id": None},
            "rationale": "Have PD move every leader off store 2 so writes are no longer led from the slow disk.",
            "risk": "medium",
        }
    ],
    "confidence": 0.85,
    "severity": "critical",
}


async def slow_disk_incident(runtime: FakeRuntime, ticks: int = 40) -> None:
    """Ticks of history, slow-operation log lines on store 2, its ``slow_store`` ticket (the
    fake makes each ticket its own incident) and the finished slow-disk diagnosis."""
    runtime.config = replace(runtime.config, measures=measures(InvariantSettings()))
    for _ in range(ticks):
        await runtime.tick_once()
        runtime.clock.advance(20)
    for i in range(60):
        sid = 2 if i % 3 else 1
        # The shape of raftstore's slow_log! line (shared fixtures' log_samples.txt, section 4).
        message = (
            f"[store {sid}] handle 1 pending peers include 1 ready, 1 entries, 1 messages "
            "and 0 snapshots"
        )
        runtime.logs.append(
            TikvLogEvent(
                time=runtime.clock() - timedelta(seconds=120 - 2 * i),
                level="WARN",
                source="store.rs:645",
                message=message,
                kind="slow_operation",
                store_id=sid,
                raw=f'[WARN] [store.rs:645] ["{message}"] [takes={4000 + 100 * i}]',
            )
        )
    now = runtime.clock()
    ticket = Ticket(
        id=1,
        violation_key="slow_store:store-2",
        invariant="slow_store",
        subject="tikv",
        target="store-2",
        store_id=2,
        severity=Severity.CRITICAL,
        status=TicketStatus.OPEN,
        message="store 2's slow score is 92 (PD calls a store slow at 80)",
        first_seen=now - timedelta(seconds=40),
        last_seen=now,
    )
    runtime.tickets[1] = ticket
    runtime.bus.publish("ticket.opened", ticket=ticket.summary())
    runtime.finish(1, SLOW_DISK_TEXT, SLOW_DISK_RESULT)
    await runtime.tick_once()


def slow_disk_app():
    runtime = FakeRuntime(clock=ManualClock())
    return runtime, make_app(runtime)
