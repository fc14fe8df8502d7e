"""TiKV's grouping rules, ticket by ticket: a causal chain joins, another store's fault does not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from operator_tikv import incidents as rules
from operator_tikv.incidents import RULES, cause
from operator_tikv.invariants import names

from operator_tui.core.incident import Incident, IncidentStatus, IncidentView, place
from operator_tui.core.monitor import UNREACHABLE
from operator_tui.core.ticket import Ticket, TicketStatus
from operator_tui.core.types import Severity, violation_target

NOW = datetime(2026, 1, 1, tzinfo=UTC)
_ids = iter(range(1, 10_000))


def ticket(invariant: str, store_id: int | None = None, *, resolved: bool = False) -> Ticket:
    target = violation_target(store_id)
    return Ticket(
        id=next(_ids),
        violation_key=f"{invariant}:{target}",
        invariant=invariant,
        subject="tikv",
        target=target,
        store_id=store_id,
        severity=Severity.CRITICAL,
        status=TicketStatus.RESOLVED if resolved else TicketStatus.OPEN,
        message=invariant,
        first_seen=NOW,
        last_seen=NOW,
    )


def incident(*tickets: Ticket, incident_id: int = 1) -> IncidentView:
    lead = tickets[0]
    return IncidentView(
        Incident(
            id=incident_id,
            subject="tikv",
            target=lead.target,
            store_id=lead.store_id,
            cause=cause(lead),
            title=lead.message,
            severity=lead.severity,
            status=IncidentStatus.OPEN,
            opened_at=NOW,
            updated_at=NOW,
            lead_ticket_id=lead.id,
        ),
        tickets,
    )


@pytest.mark.parametrize(
    ("first", "then"),
    [
        (names.HIGH_WRITE_LATENCY, names.WRITE_STALL),
        (names.WRITE_STALL, names.SLOW_STORE),
        (names.SLOW_STORE, names.HIGH_WRITE_LATENCY),
        (names.SLOW_STORE, names.RAFT_LOG_LAG),
    ],
)
def test_write_path_on_one_store_is_one_chain(first: str, then: str) -> None:
    open_ = incident(ticket(first, 2))
    assert RULES.explains(ticket(then, 2), open_) == "write_path_chain"
    assert RULES.explains(ticket(then, 3), open_) is None


def test_a_partition_that_pd_marks_down_stays_one_loss() -> None:
    cut = incident(ticket(names.STORE_DISCONNECTED, 1, resolved=True))
    assert RULES.explains(ticket(names.STORE_DOWN, 1), cut) == "same_store_lost"
    assert RULES.explains(ticket(names.STORE_DOWN, 2), cut) is None


def test_a_crash_after_critical_errors_is_the_same_incident() -> None:
    errors = incident(ticket(names.CRITICAL_ERROR, 4))
    assert RULES.explains(ticket(names.STORE_DOWN, 4), errors) == "crash_after_critical_error"
    assert RULES.explains(ticket(names.STORE_DOWN, 5), errors) is None


def test_pd_failover_symptoms_are_one_incident() -> None:
    failover = incident(ticket(UNREACHABLE, resolved=True))
    for symptom in (names.PD_LEADER_CHANGED, names.PD_MEMBER_UNHEALTHY):
        assert RULES.explains(ticket(symptom), failover) == "pd_failover"
    assert RULES.explains(ticket(names.UNDER_REPLICATED), failover) is None
    assert RULES.explains(ticket(names.STORE_DOWN, 1), failover) is None


def test_missing_replicas_and_uneven_leaders_follow_a_store_loss() -> None:
    loss = incident(ticket(names.STORE_DOWN, 3))
    assert RULES.explains(ticket(names.UNDER_REPLICATED), loss) == "store_loss_effects"
    assert RULES.explains(ticket(names.LEADER_IMBALANCE), loss) == "store_loss_effects"
    slow = incident(ticket(names.SLOW_STORE, 2))
    assert RULES.explains(ticket(names.LEADER_IMBALANCE), slow) == "slow_store_leader_eviction"
    assert RULES.explains(ticket(names.UNDER_REPLICATED), slow) is None


def test_another_stores_fault_never_takes_a_stores_own_symptom() -> None:
    """Store 1 down and store 3 slow: none of store 3's symptoms joins store 1's loss."""
    loss = incident(ticket(names.STORE_DOWN, 1), ticket(names.STORE_DISCONNECTED, 1))
    for symptom in (*rules.WRITE_PATH, names.LOW_DISK, names.HOT_WRITE_REGION, names.STORE_DOWN):
        assert place(ticket(symptom, 3), [loss], RULES) is None, symptom
    stall = incident(ticket(names.WRITE_STALL, 3), incident_id=2)
    found = place(ticket(names.SLOW_STORE, 3), [loss, stall], RULES)
    assert found is not None and found[0].incident.id == 2


def test_causes_and_settling_time() -> None:
    assert cause(ticket(names.SLOW_STORE, 1)) == cause(ticket(names.WRITE_STALL, 1)) == "write_path"
    assert cause(ticket(names.STORE_DOWN, 1)) == cause(ticket(names.STORE_DISCONNECTED, 1))
    assert cause(ticket("something_new", 1)) == "something_new"
    assert RULES.settle_s > 0
    for rule in RULES.rules:
        assert rule.__doc__ and len(rule.__doc__.split()) > 10, rule.__name__
