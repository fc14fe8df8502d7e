"""Recommendations carry PD's current value, go the way their rationale says, and are not repeated."""

from __future__ import annotations

import pytest
from operator_tikv.actions import ACTIONS
from operator_tikv.diagnosis import offline_diagnoser

from operator_tui.core.diagnosis.context import build_context
from operator_tui.core.diagnosis.schema import Diagnosis
from operator_tui.core.types import Violation
from operator_tui.testing.fake_subject import FakeSubject
from tests.subjects.tikv.diagnosis.test_rules import FAULTS


async def _noop(text: str) -> None:
    return None


async def diagnosed(fake: FakeSubject, make_ticket, invariant: str, tikv_actions: bool = False):
    snap = await fake.observe()
    v: Violation = next(v for v in fake.evaluate(snap) if v.invariant == invariant)
    ctx = build_context(make_ticket(v, snap.taken_at), fake, snap, history=fake.history)
    if tikv_actions:
        ctx.actions = list(ACTIONS)
    return (await offline_diagnoser().diagnose(ctx, _noop)).diagnosis


def limits(d: Diagnosis):
    return [a for a in d.recommended_actions if a.action.endswith("_schedule_limit")]


async def test_a_killed_store_raises_the_replica_limit_from_pds_value(
    fake: FakeSubject, make_ticket
) -> None:
    await fake.observe()
    fake.kill(2)
    d = await diagnosed(fake, make_ticket, "store_down")
    [a] = limits(d)
    assert (a.current, a.args) == ({"n": 64}, {"n": 128})
    assert a.changes() == [("n", 64, 128)]


@pytest.mark.parametrize("pd_value", [128, 256])
async def test_never_proposed_against_its_rationale(
    fake: FakeSubject, make_ticket, pd_value: int
) -> None:
    fake.cluster.figures["replica_schedule_limit"] = pd_value
    await fake.observe()
    fake.kill(2)
    d = await diagnosed(fake, make_ticket, "store_down")
    assert limits(d) == []
    assert any(f"already runs it at {pd_value}" in o.rejected_because for o in d.options_considered)


async def test_an_unread_limit_is_not_proposed(fake: FakeSubject, make_ticket) -> None:
    del fake.cluster.figures["replica_schedule_limit"]
    await fake.observe()
    fake.kill(2)
    d = await diagnosed(fake, make_ticket, "store_down")
    assert limits(d) == []
    assert any("not read" in o.rejected_because for o in d.options_considered)


@pytest.mark.parametrize(
    ("name", "inject", "invariant", "cause", "target"), FAULTS, ids=[f[0] for f in FAULTS]
)
async def test_every_action_carries_its_current_value_and_direction(
    fake: FakeSubject, make_ticket, name, inject, invariant, cause, target
) -> None:
    for _ in range(3):
        await fake.observe()
    inject(fake)
    d = await diagnosed(fake, make_ticket, invariant, tikv_actions=True)
    for a in d.recommended_actions:
        assert a.current, f"{a.action} has no current value"
        if "n" in a.current:
            assert a.args["n"] > a.current["n"], f"{a.action} lowers a limit: {a}"


async def test_a_slow_store_gets_its_leaders_evicted(fake: FakeSubject, make_ticket) -> None:
    await fake.observe()
    fake.slow_disk(3)
    d = await diagnosed(fake, make_ticket, "slow_store", tikv_actions=True)
    first = d.recommended_actions[0]
    assert (first.action, first.args) == ("evict_leader", {"store_id": 3})
    assert first.current == {"leaders": 34}
    # With PD's schedulers read: not evicting yet; once PD evicts it, not offered again.
    fake.cluster.figures["evict_leader_stores"] = []
    d = await diagnosed(fake, make_ticket, "slow_store", tikv_actions=True)
    assert d.recommended_actions[0].current == {"leaders": 34, "evicting": False}
    fake.cluster.figures["evict_leader_stores"] = [3]
    d = await diagnosed(fake, make_ticket, "slow_store", tikv_actions=True)
    assert "evict_leader" not in [a.action for a in d.recommended_actions]
    # Once its leaders are gone, eviction is not offered again.
    fake.stores[3].leader_count = 0
    d = await diagnosed(fake, make_ticket, "slow_store", tikv_actions=True)
    assert "evict_leader" not in [a.action for a in d.recommended_actions]


async def test_transfer_targets_hold_a_voter(fake: FakeSubject, make_ticket) -> None:
    await fake.observe()
    fake.hot_region(2, region_id=4242)
    fake.hot[-1].peer_store_ids = [2, 3]
    d = await diagnosed(fake, make_ticket, "hot_write_region")
    moves = [a for a in d.recommended_actions if a.action == "transfer_leader"]
    assert moves and all(a.args["to_store_id"] == 3 for a in moves)
    assert moves[0].current == {"to_store_id": 2}


async def test_a_slow_store_that_leads_nothing_gets_no_leader_move(
    fake: FakeSubject, make_ticket
) -> None:
    await fake.observe()
    fake.slow_disk(3)
    fake.stores[3].leader_count = 0
    fake.hot = [h for h in fake.hot if h.store_id != 3]
    d = await diagnosed(fake, make_ticket, "slow_store", tikv_actions=True)
    assert d.recommended_actions == []
    assert any("leads none now" in o.rejected_because for o in d.options_considered)
