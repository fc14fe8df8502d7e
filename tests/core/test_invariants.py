"""GraceTracker: grace on the snapshot clock, clearing, stale re-reports, ordering, reset."""

from datetime import UTC, datetime, timedelta

from operator_tui.core.invariants import Findings, GraceTracker
from operator_tui.core.types import Severity, Violation

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def tick(*held: tuple[Violation, float], unknown: tuple[tuple[str, int | None], ...] = ()):
    found = Findings()
    for violation, grace_s in held:
        found.hold(violation, grace_s)
    for name, target in unknown:
        found.unmeasured(name, target)
    return found


def slow(store_id: int | None = 1, severity: Severity = Severity.WARNING) -> Violation:
    return Violation("slow", severity, "slow", store_id, {"figure": 1})


def test_a_condition_fires_once_it_has_held_for_its_grace():
    grace = GraceTracker()
    assert grace.settle(tick((slow(), 10.0)), at(0)) == []
    assert grace.settle(tick((slow(), 10.0)), at(9.5)) == []
    out = grace.settle(tick((slow(), 10.0)), at(10))
    assert [v.key for v in out] == ["slow:store-1"]
    assert out[0].details == {"figure": 1, "since": T0.isoformat(), "held_s": 10.0}


def test_no_grace_fires_at_once_and_time_never_runs_backwards():
    grace = GraceTracker()
    assert len(grace.settle(tick((slow(), 0.0)), at(5))) == 1
    out = grace.settle(tick((slow(), 0.0)), at(3))
    assert out[0].details["held_s"] == 0.0


def test_a_false_condition_clears_its_timer():
    grace = GraceTracker()
    grace.settle(tick((slow(), 10.0)), at(0))
    assert grace.settle(tick(), at(5)) == []
    assert grace.settle(tick((slow(), 10.0)), at(10)) == []
    assert grace.settle(tick((slow(), 10.0)), at(19)) == []
    assert len(grace.settle(tick((slow(), 10.0)), at(20))) == 1


def test_an_unmeasured_key_keeps_its_timer():
    grace = GraceTracker()
    grace.settle(tick((slow(), 10.0)), at(0))
    assert grace.settle(tick(unknown=(("slow", 1),)), at(5)) == []
    out = grace.settle(tick((slow(), 10.0)), at(10))
    assert [v.key for v in out] == ["slow:store-1"] and out[0].details["held_s"] == 10.0


def test_a_firing_key_is_reported_stale_while_unmeasured_then_clears():
    grace = GraceTracker()
    first = grace.settle(tick((slow(), 0.0)), at(0))
    stale = grace.settle(tick(unknown=(("slow", 1),)), at(2))
    assert [v.key for v in stale] == ["slow:store-1"]
    assert stale[0].details == {**first[0].details, "stale": True}
    again = grace.settle(tick(unknown=(("slow", 1),)), at(4))
    assert again[0].details["stale"] is True
    assert grace.settle(tick(), at(6)) == []
    assert grace.settle(tick(unknown=(("slow", 1),)), at(8)) == []


def test_a_pending_key_is_not_reported_while_unmeasured():
    grace = GraceTracker()
    grace.settle(tick((slow(), 10.0)), at(0))
    assert grace.settle(tick(unknown=(("slow", 1),)), at(20)) == []


def test_the_first_finding_of_a_key_wins():
    grace = GraceTracker()
    out = grace.settle(
        tick((slow(severity=Severity.WARNING), 0.0), (slow(severity=Severity.CRITICAL), 0.0)),
        at(0),
    )
    assert len(out) == 1 and out[0].severity is Severity.WARNING


def test_most_severe_first_then_by_key():
    grace = GraceTracker()
    held = (
        (Violation("b", Severity.WARNING, "", 2), 0.0),
        (Violation("a", Severity.WARNING, "", None), 0.0),
        (Violation("z", Severity.CRITICAL, "", 1), 0.0),
        (Violation("a", Severity.INFO, "", 1), 0.0),
    )
    out = grace.settle(tick(*held), at(0))
    assert [v.key for v in out] == ["z:store-1", "a:cluster", "b:store-2", "a:store-1"]


def test_reset_forgets_timers_and_what_fired():
    grace = GraceTracker()
    grace.settle(tick((slow(2), 0.0), (slow(1), 10.0)), at(0))
    grace.reset()
    assert grace.settle(tick(unknown=(("slow", 2),)), at(1)) == []
    assert grace.settle(tick((slow(1), 10.0)), at(5)) == []


def test_unmeasured_keys_are_invariant_and_target():
    found = tick(unknown=(("slow", 3), ("quorum", None)))
    assert found.unknown == {"slow:store-3", "quorum:cluster"}
