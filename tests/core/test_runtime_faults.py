"""The runtime passes faults, endpoints and raw records through to what the subject offers,
publishes each fault on the bus, and refuses with one line when nothing offers them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from operator_tikv.diagnosis import offline_diagnoser

from operator_tui.core.deploy import Endpoint
from operator_tui.core.faults import ActiveFault, FaultControl, FaultKind, FaultParam
from operator_tui.core.runtime import OperatorRuntime, RuntimeOptions
from operator_tui.core.subject import SubjectError
from operator_tui.core.tickets import TicketStore
from operator_tui.testing.fake_subject import FakeChaos, FakeSubject


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[TicketStore]:
    tickets = await TicketStore.open(tmp_path / "t.db", subject="fake")
    yield tickets
    await tickets.aclose()


KINDS = (FaultKind("slow", "slow", params=(FaultParam("ms", "float", 10.0, "ms"),)),)


class Breakable(FakeChaos):
    def __init__(self, subject: FakeSubject) -> None:
        super().__init__(subject)
        self.active: dict[str, ActiveFault] = {}

    def fault_kinds(self) -> tuple[FaultKind, ...]:
        return KINDS

    async def inject_fault(
        self, kind: str, store_id: int | None, params: Mapping[str, Any]
    ) -> ActiveFault:
        if kind != "slow":
            raise SubjectError(f"unknown fault kind {kind!r}")
        fault = ActiveFault(f"f{len(self.active) + 1}", kind, store_id, dict(params))
        self.active[fault.id] = fault
        return fault

    async def active_faults(self) -> list[ActiveFault]:
        return list(self.active.values())

    async def clear_fault(self, fault_id: str) -> ActiveFault:
        return self.active.pop(fault_id)

    async def endpoints(self) -> list[Endpoint]:
        return [Endpoint("control", "http://127.0.0.1:1/control")]


def test_param_parse() -> None:
    p = FaultParam("ms", "float", 10.0)
    assert p.parse(" 5 ") == 5.0 and p.parse("") is None
    with pytest.raises(ValueError, match="must be a number"):
        p.parse("fast")
    c = FaultParam("cause", "str", "a", choices=("a", "b"))
    with pytest.raises(ValueError, match="one of a, b"):
        c.parse("z")
    assert FaultParam("n", "int").parse("3") == 3


async def test_faults_pass_through_and_are_published(store, fake: FakeSubject) -> None:
    chaos = Breakable(fake)
    assert isinstance(chaos, FaultControl)
    rt = OperatorRuntime(RuntimeOptions(), fake, store, offline_diagnoser(), chaos=chaos)
    sub = rt.bus.subscribe()
    assert rt.fault_kinds() == KINDS
    fault = await rt.inject_fault("slow", 2, {"ms": 5.0})
    assert await rt.active_faults() == [fault]
    assert (await rt.clear_fault(fault.id)).id == fault.id
    with pytest.raises(SubjectError, match="unknown fault kind"):
        await rt.inject_fault("nope", None, {})
    assert [e.url for e in await rt.endpoints()] == ["http://127.0.0.1:1/control"]
    events = [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]
    messages = [e.data.get("message") for e in events if e.event == "chaos"]
    assert messages == [
        "fault f1 slow on store 2 (ms=5.0) injected",
        "fault f1 slow on store 2 (ms=5.0) cleared",
    ]


async def test_no_faults_without_a_simulator(store, fake: FakeSubject) -> None:
    rt = OperatorRuntime(RuntimeOptions(), fake, store, offline_diagnoser(), chaos=FakeChaos(fake))
    assert rt.fault_kinds() == ()
    assert await rt.endpoints() == []
    with pytest.raises(SubjectError, match="no fault injection here"):
        await rt.inject_fault("slow", 1, {})
    with pytest.raises(SubjectError, match="keeps no raw store records"):
        await rt.raw_record("store", 1)
