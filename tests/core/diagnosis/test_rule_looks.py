"""The rule shell asks the tools a subject's ``Looks`` plans, through the context's ToolBox,
skips the tools the box does not offer (a replay's), and adds the answers' lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from operator_tui.core.diagnosis.context import DiagnosisContext, build_context
from operator_tui.core.diagnosis.findings import Finding
from operator_tui.core.diagnosis.rules import Looks, RuleDiagnoser
from operator_tui.core.tools import Checks, Tool, ToolAnswer, ToolBox, schema
from operator_tui.core.types import Severity, Violation
from operator_tui.testing.fake_subject import FakeSubject
from operator_tui.testing.tickets import ticket_for


async def _noop(_text: str) -> None:
    return None


async def _held(_env: Any, a: dict[str, Any]) -> Any:
    return {"rows": [a["n"]] * 3}


async def _live(_env: Any, _a: dict[str, Any]) -> Any:
    raise AssertionError("a tool the box does not offer was run")


def _plan(_ctx: DiagnosisContext) -> Checks:
    return Checks().add("held", n=7).add("live_only")


def _read(_ctx: DiagnosisContext, _f: Finding, answers: Sequence[ToolAnswer]) -> list[str]:
    return [f"{a.step.tool}: {a.step.summary}" for a in answers]


def _rules(_ctx: DiagnosisContext) -> Finding:
    return Finding(cause="unknown", target="cluster", root_cause="no idea", confidence=0.3)


async def test_looks_run_through_the_box_and_read_as_evidence(fake: FakeSubject) -> None:
    snap = await fake.observe()
    ticket = ticket_for(Violation("x", Severity.WARNING, "x", None), snap.taken_at)
    ctx = build_context(ticket, fake, snap)
    held = Tool("held", "held rows", schema({"n": {"type": "integer"}}, ["n"]), _held)
    ctx.tools = ToolBox([held])  # "live_only" is not offered, as in a replay
    outcome = await RuleDiagnoser(_rules, Looks(_plan, _read)).diagnose(ctx, _noop)
    assert [(s["tool"], s["input"], s["ok"]) for s in outcome.investigation] == [
        ("held", {"n": 7}, True)
    ]
    assert "- held: 3 rows" in outcome.text
    bare = build_context(ticket, fake, snap)
    plain = await RuleDiagnoser(_rules, Looks(_plan, _read)).diagnose(bare, _noop)
    assert plain.investigation == [] and plain.diagnosis == outcome.diagnosis
