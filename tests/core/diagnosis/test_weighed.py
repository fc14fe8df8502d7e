"""A rule's weighed causes and its actions' current values reach the diagnosis and the narrative."""

from __future__ import annotations

from dataclasses import replace

from operator_tui.core.diagnosis.context import build_context
from operator_tui.core.diagnosis.findings import Finding, declared_action, option
from operator_tui.core.diagnosis.prompt import tool_schema
from operator_tui.core.diagnosis.rules import RuleDiagnoser
from operator_tui.core.diagnosis.schema import CauseConsidered, Diagnosis
from operator_tui.core.types import Severity, Violation
from operator_tui.testing.fake_subject import FakeSubject
from operator_tui.testing.samples import diagnosis_input


def _weighing(ctx) -> Finding:
    sid = ctx.ticket.store_id
    action = declared_action(ctx, "drain_store", "Rest.", "high", current={"sid": 1}, sid=sid)
    return Finding(
        cause="asleep",
        target=sid,
        root_cause="asleep",
        options=[option("Wake it", "it wakes by itself")],
        actions=[action] if action else [],
        weighed=[
            CauseConsidered(cause="asleep", target=sid, evidence_for=["snores"], chosen=True),
            CauseConsidered(
                cause="hungry", target=1, evidence_for=["store 1 ate"], evidence_against=["full"]
            ),
        ],
    )


async def test_weighed_causes_and_current_values_reach_the_narrative(
    fake: FakeSubject, make_ticket, monkeypatch
) -> None:
    config = replace(fake.describe(), root_cause_classes=("asleep", "hungry"))
    monkeypatch.setattr(fake, "describe", lambda: config)
    snap = await fake.observe()
    ctx = build_context(
        make_ticket(Violation("nap", Severity.WARNING, "zzz", 2), snap.taken_at), fake, snap
    )
    out = await RuleDiagnoser(_weighing).diagnose(ctx, _noop)
    d = out.diagnosis
    assert [c.cause for c in d.causes_considered] == ["asleep", "hungry"]
    [a] = d.recommended_actions
    # Renamed to the declared argument name, the current value with it.
    assert (a.args, a.current, a.changes()) == (
        {"store_id": 2},
        {"store_id": 1},
        [("store_id", 1, 2)],
    )
    assert "**hungry** on store 1: not chosen." in out.text
    assert "  - against: full" in out.text and "store_id 1 -> 2" in out.text
    schema = tool_schema(ctx)["input_schema"]["properties"]
    assert "causes_considered" in schema and "current" in str(schema["recommended_actions"])


def test_a_stored_diagnosis_without_the_new_fields_still_reads() -> None:
    d = Diagnosis.model_validate(diagnosis_input())
    assert d.causes_considered == [] and all(a.current == {} for a in d.recommended_actions)


async def _noop(text: str) -> None:
    return None
