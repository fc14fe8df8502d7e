"""The event pump: a batch of bus events becomes few typed messages, in order."""

from __future__ import annotations

from datetime import UTC, datetime

from operator_tui.core.events import Event, EventBus
from operator_tui.tui.messages import (
    DiagnosisChunk,
    DiagnosisEnded,
    DiagnosisStarted,
    EventsArrived,
    MonitorChanged,
    Note,
    TicketsChanged,
    TickObserved,
)
from operator_tui.tui.pump import EventPump

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def pump() -> EventPump:
    return EventPump(None, EventBus().subscribe(), lambda: NOW)  # type: ignore[arg-type]


def ev(kind: str, **data) -> Event:
    return Event(ts=NOW, event=kind, data=data)


def messages(p: EventPump, batch: list[Event]) -> list:
    return [make() for make in p.translate(batch, NOW)]


def test_a_batch_of_ticks_redraws_once_with_the_last() -> None:
    p = pump()
    out = messages(
        p,
        [
            ev("tick", reachable=True),
            ev("monitor.paused"),
            ev("tick", reachable=False, error="PD did not answer"),
        ],
    )
    assert [type(m) for m in out] == [EventsArrived, TickObserved]
    assert len(out[0].events) == 3
    assert not out[1].reachable and out[1].error == "PD did not answer"
    assert p.last_tick_at == NOW and p.last_tick_error == "PD did not answer"
    assert [type(m) for m in messages(p, [ev("monitor.resumed")])] == [
        EventsArrived,
        MonitorChanged,
    ]


def test_diagnosis_streams_in_order_and_the_pump_holds_the_text_once() -> None:
    p = pump()
    out = messages(
        p,
        [
            ev("diagnosis.started", ticket_id=4),
            ev("diagnosis.chunk", ticket_id=4, text="Store 2 "),
            ev("diagnosis.chunk", ticket_id=4, text="is down."),
            ev("ticket.updated", ticket={"id": 4}),
        ],
    )
    kinds = [type(m) for m in out]
    assert kinds == [
        EventsArrived,
        DiagnosisStarted,
        DiagnosisChunk,
        DiagnosisChunk,
        TicketsChanged,
    ]
    assert [m.text for m in out if isinstance(m, DiagnosisChunk)] == ["Store 2 ", "is down."]
    assert out[-1].ticket_ids == frozenset({4})
    assert p.live_text(4) == "Store 2 is down."
    ended = messages(p, [ev("diagnosis.failed", ticket_id=4, error="timeout")])
    assert isinstance(ended[1], DiagnosisEnded) and ended[1].failed
    assert p.live_text(4) is None


def test_a_bad_event_becomes_a_note_and_the_rest_goes_on() -> None:
    p = pump()
    out = messages(
        p,
        [ev("diagnosis.started", ticket_id=["not", "hashable"]), ev("action.done", ticket_id=3)],
    )
    assert [type(m) for m in out] == [EventsArrived, Note, TicketsChanged]
    assert out[1].text.startswith("display error on diagnosis.started")
    assert [e.event for e in out[0].events] == ["action.done"]
    assert out[2].ticket_ids == frozenset({3})


def test_tool_calls_are_held_while_the_diagnosis_runs() -> None:
    from operator_tui.tui.messages import DiagnosisStep

    p = pump()
    step = {"tool": "get_store", "ok": True}
    out = messages(
        p, [ev("diagnosis.started", ticket_id=4), ev("diagnosis.step", ticket_id=4, step=step)]
    )
    kinds = [type(m) for m in out]
    assert kinds.index(DiagnosisStarted) < kinds.index(DiagnosisStep)
    placed = {**step, "at": 0}  # a step without its place in the text is put where it came
    assert next(m for m in out if isinstance(m, DiagnosisStep)).step == placed
    assert p.live_steps(4) == [placed] and p.live_steps(5) is None
    messages(p, [ev("diagnosis.step", ticket_id=4, step="not a step")])
    assert p.live_steps(4) == [placed]
    messages(p, [ev("diagnosis.chunk", ticket_id=4, text="abc")])
    messages(p, [ev("diagnosis.step", ticket_id=4, step=step)])
    messages(p, [ev("diagnosis.step", ticket_id=4, step={**step, "at": 1})])
    assert [s["at"] for s in p.live_steps(4) or []] == [0, 3, 1]
    messages(p, [ev("diagnosis.finished", ticket_id=4)])
    assert p.live_steps(4) is None
