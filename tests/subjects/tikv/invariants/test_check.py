"""Declaring a check once: its spec, the names module, and what a Report adds to a finding."""

import dataclasses

from operator_tikv.figures import PdFigures, cluster_with
from operator_tikv.invariants import CHECKS, InvariantChecker, InvariantSettings, names, specs
from operator_tikv.invariants.check import Report
from operator_tikv.states import StoreState

from operator_tui.core.invariants import Findings
from operator_tui.core.types import Severity

GiB = 2**30


def test_names_hold_exactly_the_declared_checks():
    constants = {v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)} - {
        names.REGION_CHECKS,
        names.HOT_WRITE,
        names.PD_HEALTH,
        names.PD_MEMBERS,
    }
    assert constants == {c.name for c in CHECKS}
    assert len(CHECKS) == len(constants)


def test_every_grace_is_a_setting_and_reaches_the_spec():
    fields = {f.name for f in dataclasses.fields(InvariantSettings)}
    settings = InvariantSettings(grace_scale=2)
    for check, spec in zip(CHECKS, specs(settings), strict=True):
        assert check.grace is None or check.grace in fields
        expected = 2 * getattr(settings, check.grace) if check.grace else 0.0
        assert (spec.name, spec.severity, spec.grace_period_s) == (
            check.name,
            check.severity,
            expected,
        )


def test_descriptions_follow_the_thresholds():
    [latency] = [
        s
        for s in specs(InvariantSettings(high_write_latency_ms=250))
        if s.name == names.HIGH_WRITE_LATENCY
    ]
    assert latency.description.startswith("p99 async write latency above 250 ms")


def test_a_report_fills_in_name_severity_target_and_scaled_grace():
    [low_disk] = [c for c in CHECKS if c.name == names.LOW_DISK]
    found = Findings()
    report = Report(low_disk, found, InvariantSettings(low_disk_grace_s=10, grace_scale=3), 4)
    assert not report.fired
    report.fire("full", used_ratio=0.9)
    report.fire("fuller", severity=Severity.WARNING, store_id=None)
    report.unmeasured()
    report.unmeasured(None)
    assert report.fired
    [(first, grace), (second, _)] = found.held
    assert (first.invariant, first.severity, first.store_id, grace) == (
        "low_disk",
        Severity.CRITICAL,
        4,
        30.0,
    )
    assert first.details == {"used_ratio": 0.9}
    assert (second.severity, second.store_id) == (Severity.WARNING, None)
    assert found.unknown == {"low_disk:store-4", "low_disk:cluster"}


def test_a_down_store_is_only_down(store, metrics, snap, keys):
    stores = [store(1), store(2), store(3, state=StoreState.DOWN, available=1 * GiB)]
    m = {
        1: metrics(1),
        2: metrics(2),
        3: metrics(3, available_bytes=1 * GiB, slow_score=100.0, p99_write_latency_ms=900.0),
    }
    checker = InvariantChecker(InvariantSettings(grace_scale=0))
    assert keys(checker.evaluate(snap(stores=stores, m=m))) == ["store_down:store-3"]


def test_reset_forgets_what_a_check_remembers(snap, keys):
    checker = InvariantChecker()

    def leader(name):
        return cluster_with(PdFigures(pd_leader=name, pd_members_healthy=3, pd_members_total=3))

    checker.evaluate(snap(0, cluster=leader("pd1")))
    assert keys(checker.evaluate(snap(2, cluster=leader("pd2")))) == ["pd_leader_changed:cluster"]
    checker.reset()
    assert checker.evaluate(snap(4, cluster=leader("pd3"))) == []
    assert keys(checker.evaluate(snap(6, cluster=leader("pd1")))) == ["pd_leader_changed:cluster"]
