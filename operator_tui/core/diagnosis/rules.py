"""The offline diagnoser's shell: a subject's rules in, a validated, narrated diagnosis out.

Deterministic, local, instant; the default when no API key is set. The rules
(``DiagnosisContext -> Finding``) belong to the subject, which offers a ready
diagnoser through ``SubjectPlugin.offline_diagnoser()``.

What the rules check beyond the context they ask for through the same tool layer
Claude uses (``DiagnosisContext.tools``): the subject's ``Looks`` names the calls for a
ticket, reads their answers into evidence lines and, where an answer contradicts the
context captured when the ticket opened, revises the finding (``revise``), so every
offline diagnosis carries the trace of what it looked at, the answers count, and the
tools run on every run without a key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from operator_tui.core.diagnosis.base import DiagnosisOutcome, TextSink
from operator_tui.core.diagnosis.context import DiagnosisContext
from operator_tui.core.diagnosis.findings import Finding
from operator_tui.core.diagnosis.narrative import render_markdown
from operator_tui.core.diagnosis.schema import ROOT_CAUSE_CLASSES, CorrelatedMetric, Diagnosis
from operator_tui.core.tools import Checks, ToolAnswer

Rules = Callable[[DiagnosisContext], Finding]


@dataclass(frozen=True, slots=True)
class Looks:
    """What a rulebook asks the tools: ``plan`` names the calls for a context (in order),
    ``read`` turns the answers into evidence lines for the finding, and ``revise`` changes
    the finding where the answers (the system as it is now) say otherwise than the context."""

    plan: Callable[[DiagnosisContext], Checks]
    read: Callable[[DiagnosisContext, Finding, Sequence[ToolAnswer]], list[str]]
    revise: Callable[[DiagnosisContext, Finding, Sequence[ToolAnswer]], Finding] | None = None


def diagnosis_of(ctx: DiagnosisContext, finding: Finding) -> Diagnosis:
    """The structured result of a finding, checked against the subject's root-cause classes."""
    t = ctx.ticket
    return Diagnosis.model_validate(
        {
            "observation": f"`{t.invariant}` fired on {t.target} ({t.severity.value}), seen "
            f"{t.occurrences} time(s) since {t.first_seen:%H:%M:%S} UTC.",
            "root_cause": finding.root_cause,
            "root_cause_class": finding.cause,
            "target": finding.target,
            "correlated_metrics": [
                CorrelatedMetric(
                    metric=s.metric, store_id=s.store_id, value=s.value, baseline=s.baseline
                )
                for s in ctx.correlated[:8]
            ],
            "options_considered": finding.options,
            "causes_considered": finding.weighed,
            "recommended_actions": finding.actions,
            "confidence": finding.confidence,
            "severity": t.severity.value,
        },
        context={ROOT_CAUSE_CLASSES: ctx.root_cause_classes},
    )


class RuleDiagnoser:
    """Streams the narrative of what ``rules`` found, chunk by chunk, like a model would."""

    backend = "offline"
    model: str | None = None

    def __init__(self, rules: Rules, looks: Looks | None = None) -> None:
        self.rules = rules
        self.looks = looks

    async def _look(self, context: DiagnosisContext) -> list[ToolAnswer]:
        box = context.tools
        if self.looks is None or box is None or not box:
            return []
        calls = [(n, a) for n, a in self.looks.plan(context).calls if n in box.tools]
        return [await box.call(name, args) for name, args in calls]

    async def diagnose(self, context: DiagnosisContext, on_text: TextSink) -> DiagnosisOutcome:
        answers = await self._look(context)
        finding = self.rules(context)
        if self.looks is not None and answers:
            if self.looks.revise is not None:
                finding = self.looks.revise(context, finding, answers)
            finding.evidence += self.looks.read(context, finding, answers)
        diagnosis = diagnosis_of(context, finding)
        text = []
        for chunk in render_markdown(context, finding, diagnosis):
            text.append(chunk)
            await on_text(chunk)
            await asyncio.sleep(0)
        investigation = context.tools.trace if context.tools is not None else []
        return DiagnosisOutcome(
            diagnosis=diagnosis, text="".join(text), investigation=investigation
        )
