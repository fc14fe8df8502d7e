"""Incidents over the ticket store: placing, settling, recurrences, severities, crash leftovers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from operator_tui.core.incident import (
    DEFAULT_RULES,
    IncidentStatus,
    IncidentView,
    RuleSet,
    same_key,
)
from operator_tui.core.incident_store import IncidentStore
from operator_tui.core.ticket import Ticket
from operator_tui.core.tickets import TicketStore
from operator_tui.core.types import Severity, Violation

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def same_target(ticket: Ticket, incident: IncidentView) -> bool:
    return incident.incident.target == ticket.target


GROUP_BY_TARGET = RuleSet(cause_of=lambda t: "target", rules=(same_target,), settle_s=5.0)


@pytest.fixture
async def stores(tmp_path: Path):
    tickets = await TicketStore.open(tmp_path / "t.db", subject="fake")
    yield tickets, IncidentStore(tickets)
    await tickets.aclose()


def v(invariant: str, store_id: int | None = 1, sev: Severity = Severity.WARNING) -> Violation:
    return Violation(invariant, sev, f"{invariant} on {store_id}", store_id)


async def tick(stores, violations, seconds, rules=GROUP_BY_TARGET):
    tickets, incidents = stores
    await tickets.upsert_violations(violations, {}, at(seconds))
    return await incidents.record(rules, at(seconds))


async def test_a_ticket_the_rules_explain_joins_the_open_incident(stores) -> None:
    _, incidents = stores
    [(kind, first)] = await tick(stores, [v("a")], 0)
    assert kind == "opened" and first.ticket_ids == [1] and first.cause == "target"
    [(kind, joined)] = await tick(stores, [v("a"), v("b", sev=Severity.CRITICAL)], 1)
    assert kind == "updated" and joined.id == first.id
    assert joined.ticket_ids == [1, 2] and joined.open_tickets == 2
    assert joined.severity == Severity.CRITICAL and joined.lead_ticket_id == 1
    kinds = [(e.kind, e.detail.get("rule")) for e in await incidents.events(first.id)]
    assert kinds == [("opened", None), ("joined", "same_target"), ("severity_changed", None)]
    # another target is another incident
    [(kind, other)] = await tick(stores, [v("a"), v("b"), v("a", 2)], 2)
    assert kind == "opened" and other.id != first.id and other.target == "store-2"
    assert (await incidents.incident_of(3)).id == other.id


async def test_resolves_only_after_its_tickets_stayed_resolved_for_settle_s(stores) -> None:
    _, incidents = stores
    await tick(stores, [v("a")], 0)
    assert await tick(stores, [], 1) == []  # ticket resolved, incident settling
    assert (await incidents.get_incident(1)).status == IncidentStatus.OPEN
    # a symptom of the same fault while it settles joins it: no flap
    [(kind, inc)] = await tick(stores, [v("b")], 3)
    assert kind == "updated" and inc.id == 1 and inc.open_tickets == 1
    assert await tick(stores, [], 4) == []
    assert await tick(stores, [], 8) == []
    [(kind, inc)] = await tick(stores, [], 9)
    assert kind == "resolved" and inc.status == IncidentStatus.RESOLVED
    assert inc.resolved_at == at(9)
    assert await tick(stores, [], 10) == []


async def test_a_recurrence_is_a_new_incident_linked_to_the_last(stores) -> None:
    _, incidents = stores
    await tick(stores, [v("a")], 0, DEFAULT_RULES)
    [(kind, _)] = await tick(stores, [], 1, DEFAULT_RULES)  # settle_s 0: at once
    assert kind == "resolved"
    [(kind, again)] = await tick(stores, [v("a")], 2, DEFAULT_RULES)
    assert kind == "opened" and again.id == 2 and again.previous_incident_id == 1
    [opened] = [e for e in await incidents.events(2) if e.kind == "opened"]
    assert opened.detail["previous_incident_id"] == 1


async def test_default_rules_keep_different_symptoms_apart(stores) -> None:
    changes = await tick(stores, [v("a"), v("b")], 0, DEFAULT_RULES)
    assert [(k, i.cause) for k, i in changes] == [("opened", "a"), ("opened", "b")]


async def test_tickets_left_unplaced_by_a_crash_are_placed_next_tick(stores) -> None:
    tickets, incidents = stores
    await tickets.upsert_violations([v("a"), v("b")], {}, at(0))  # no record(): the crash
    [(kind, inc)] = await incidents.record(GROUP_BY_TARGET, at(1))
    assert kind == "opened" and inc.ticket_ids == [1, 2]
    assert [t.id for t in await incidents.incident_tickets(inc.id)] == [1, 2]


async def test_own_target_is_asked_first(stores) -> None:
    """With a rule that would accept any incident, the ticket's own target still wins."""

    def anything(ticket: Ticket, incident: IncidentView) -> bool:
        return True

    rules = RuleSet(cause_of=lambda t: t.invariant, rules=(anything,))
    tickets, incidents = stores
    await tickets.upsert_violations([v("a", 1)], {}, at(0))
    await incidents.record(DEFAULT_RULES, at(0))
    await tickets.upsert_violations([v("a", 1), v("a", 2)], {}, at(1))
    await incidents.record(DEFAULT_RULES, at(1))
    await tickets.upsert_violations([v("a", 1), v("a", 2), v("b", 2)], {}, at(2))
    [(_, inc)] = await incidents.record(rules, at(2))
    assert inc.target == "store-2" and inc.ticket_ids == [2, 3]


async def test_listing_and_status(stores) -> None:
    _, incidents = stores
    await tick(stores, [v("a", 1)], 0, DEFAULT_RULES)
    await tick(stores, [v("a", 2)], 1, DEFAULT_RULES)  # incident 1 resolves, 2 opens
    listed = await incidents.list_incidents()
    assert [(i.id, i.status) for i in listed] == [
        (2, IncidentStatus.OPEN),
        (1, IncidentStatus.RESOLVED),
    ]
    assert [i.id for i in await incidents.list_incidents(include_resolved=False)] == [2]
    done = await incidents.set_status(2, IncidentStatus.DIAGNOSED, at(2), diagnosis_id=7)
    assert done.status == IncidentStatus.DIAGNOSED
    assert (await incidents.events(2))[-1].detail == {"diagnosis_id": 7}
    # a resolved incident stays resolved
    assert (await incidents.set_status(1, IncidentStatus.DIAGNOSING, at(3))).status == (
        IncidentStatus.RESOLVED
    )
    assert await incidents.get_incident(99) is None and await incidents.incident_of(99) is None
    assert same_key.__doc__


async def test_interrupted_diagnoses_go_back_to_open(stores) -> None:
    _, incidents = stores
    await tick(stores, [v("a")], 0)
    await incidents.set_status(1, IncidentStatus.DIAGNOSING, at(1))
    assert await incidents.requeue_interrupted(at(2)) == [1]
    assert (await incidents.get_incident(1)).status == IncidentStatus.OPEN
    assert await incidents.requeue_interrupted(at(3)) == []
