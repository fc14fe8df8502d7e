"""Core's diagnosis shell knows no subject: causes, compared figures and rules are the subject's."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from pydantic import ValidationError

from operator_tui.core.diagnosis.context import build_context, correlate
from operator_tui.core.diagnosis.findings import Finding, declared_action, option
from operator_tui.core.diagnosis.prompt import tool_schema
from operator_tui.core.diagnosis.rules import RuleDiagnoser
from operator_tui.core.diagnosis.schema import ROOT_CAUSE_CLASSES, Diagnosis
from operator_tui.core.subject import ComparedMetric, SubjectConfig
from operator_tui.core.types import Severity, StoreMetrics, Violation
from operator_tui.testing.fake_subject import FakeSubject
from operator_tui.testing.samples import diagnosis_input


async def _noop(text: str) -> None:
    return None


def test_unknown_is_always_a_declared_class() -> None:
    assert SubjectConfig("s").root_cause_classes == ("unknown",)
    assert SubjectConfig("s", root_cause_classes=("gremlins",)).root_cause_classes == (
        "gremlins",
        "unknown",
    )
    both = ("gremlins", "unknown")
    assert SubjectConfig("s", root_cause_classes=both).root_cause_classes == both


def test_the_class_is_checked_against_the_declared_ones() -> None:
    data = diagnosis_input(root_cause_class="gremlins")
    ok = Diagnosis.model_validate(data, context={ROOT_CAUSE_CLASSES: ("gremlins", "unknown")})
    assert ok.root_cause_class == "gremlins"
    with pytest.raises(ValidationError, match="'gremlins' is not one of store_down, unknown"):
        Diagnosis.model_validate(data, context={ROOT_CAUSE_CLASSES: ("store_down", "unknown")})
    # Read back from the database: it was checked when it was made.
    assert Diagnosis.model_validate(data).root_cause_class == "gremlins"


def _sleepy(ctx) -> Finding:
    """A subject's rule that is not TiKV's: the ticket's store is asleep."""
    sid = ctx.ticket.store_id
    return Finding(
        cause="asleep",
        target=sid if sid is not None else "cluster",
        root_cause=f"Store {sid} is asleep.",
        evidence=["It snores."],
        options=[option("Wake it", "it wakes by itself"), option("Wait", "already chosen")],
        actions=[
            a
            for a in (
                declared_action(ctx, "drain_store", "Let it rest.", "high", sid=sid),
                declared_action(ctx, "sing_lullaby", "Not declared.", "low"),
            )
            if a is not None
        ],
        confidence=0.6,
    )


async def test_rule_diagnoser_runs_any_subjects_rules(
    fake: FakeSubject, make_ticket, monkeypatch
) -> None:
    config = replace(fake.describe(), root_cause_classes=("asleep",))
    monkeypatch.setattr(fake, "describe", lambda: config)
    snap = await fake.observe()
    ticket = make_ticket(Violation("nap", Severity.WARNING, "zzz", 2), snap.taken_at)
    ctx = build_context(ticket, fake, snap)
    chunks: list[str] = []

    async def sink(text: str) -> None:
        chunks.append(text)

    out = await RuleDiagnoser(_sleepy).diagnose(ctx, sink)
    d = out.diagnosis
    assert (d.root_cause_class, d.target, d.severity) == ("asleep", 2, "warning")
    # Undeclared actions are dropped; arguments take the declared names.
    assert [(a.action, a.args) for a in d.recommended_actions] == [("drain_store", {"store_id": 2})]
    assert out.text == "".join(chunks) and chunks[0].startswith("## Observation")
    assert "**asleep** on store 2: Store 2 is asleep." in out.text and "- It snores." in out.text
    assert tool_schema(ctx)["input_schema"]["properties"]["root_cause_class"]["enum"] == [
        "asleep",
        "unknown",
    ]


async def test_rules_naming_an_undeclared_cause_fail(fake: FakeSubject, make_ticket) -> None:
    snap = await fake.observe()
    ticket = make_ticket(Violation("nap", Severity.WARNING, "zzz", 2), snap.taken_at)
    with pytest.raises(ValidationError, match="asleep"):
        await RuleDiagnoser(_sleepy).diagnose(build_context(ticket, fake, snap), _noop)


def test_correlate_compares_only_the_declared_figures(fake: FakeSubject) -> None:
    t0 = fake.clock()
    before = [
        (t0 - timedelta(seconds=10 - i), StoreMetrics(1, qps=100.0, cpu_ratio=0.2))
        for i in range(3)
    ]
    now = {1: StoreMetrics(1, qps=400.0, cpu_ratio=0.9)}
    shifts = correlate({1: before}, now, t0, 1, {"qps": 50.0})
    assert [(s.metric, s.value, s.baseline) for s in shifts] == [("qps", 400.0, 100.0)]
    assert correlate({1: before}, now, t0, 1, {"qps": 500.0}) == []
    assert correlate({1: before}, now, t0, 1, {}) == []


async def test_context_carries_what_the_subject_declares(
    fake: FakeSubject, make_ticket, monkeypatch
) -> None:
    config = replace(
        fake.describe(),
        compared_metrics=(ComparedMetric("cpu_ratio", 0.1),),
        diagnosis_guide="Be kind.",
    )
    monkeypatch.setattr(fake, "describe", lambda: config)
    snap = await fake.observe()
    ctx = build_context(make_ticket(Violation("x", Severity.INFO, "?"), snap.taken_at), fake, snap)
    assert ctx.compared == {"cpu_ratio": 0.1} and ctx.guide == "Be kind."
    assert ctx.root_cause_classes == config.root_cause_classes
