"""PD checks: member health and quorum, a leader change held for a while."""

from operator_tikv.figures import PdFigures, cluster_with
from operator_tikv.invariants import PD_HEALTH, InvariantChecker, InvariantSettings

from operator_tui.core.types import Severity


def test_pd_member_unhealthy_and_quorum(snap, keys):
    checker = InvariantChecker()
    c = cluster_with(PdFigures(pd_leader="pd1", pd_members_healthy=2, pd_members_total=3))
    out = checker.evaluate(snap(0, cluster=c, extra={"pd_unhealthy_members": ["pd3"]}))
    assert keys(out) == ["pd_member_unhealthy:cluster"] and out[0].severity is Severity.WARNING
    assert "pd3" in out[0].message
    c = cluster_with(PdFigures(pd_leader="pd1", pd_members_healthy=1, pd_members_total=3))
    assert checker.evaluate(snap(1, cluster=c))[0].severity is Severity.CRITICAL
    stale = checker.evaluate(snap(2, cluster=c, unmeasured=[PD_HEALTH]))
    assert keys(stale) == ["pd_member_unhealthy:cluster"] and stale[0].details["stale"]


def test_pd_leader_changed_is_reported_for_a_while(snap, keys):
    checker = InvariantChecker(InvariantSettings(pd_leader_changed_hold_s=60))

    def leader(name):
        return cluster_with(PdFigures(pd_leader=name, pd_members_healthy=3, pd_members_total=3))

    assert checker.evaluate(snap(0, cluster=leader("pd1"))) == []
    out = checker.evaluate(snap(2, cluster=leader("pd2")))
    assert keys(out) == ["pd_leader_changed:cluster"]
    assert out[0].message == "PD leader changed from pd1 to pd2"
    assert keys(checker.evaluate(snap(30, cluster=leader("pd2")))) == ["pd_leader_changed:cluster"]
    assert checker.evaluate(snap(62, cluster=leader("pd2"))) == []


def test_a_second_leader_change_inside_the_hold_is_a_new_episode(snap):
    from operator_tui.core.monitor import EPISODE

    checker = InvariantChecker(InvariantSettings(pd_leader_changed_hold_s=60))

    def leader(name):
        return cluster_with(PdFigures(pd_leader=name, pd_members_healthy=3, pd_members_total=3))

    checker.evaluate(snap(0, cluster=leader("pd1")))
    [first] = checker.evaluate(snap(2, cluster=leader("pd2")))
    [held] = checker.evaluate(snap(10, cluster=leader("pd2")))
    [second] = checker.evaluate(snap(20, cluster=leader("pd3")))
    assert first.details[EPISODE] == held.details[EPISODE] != second.details[EPISODE]
    assert second.message == "PD leader changed from pd2 to pd3" and first.key == second.key
