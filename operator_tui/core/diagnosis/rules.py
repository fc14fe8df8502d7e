"""The offline diagnoser's shell: a subject's rules in, a validated, narrated diagnosis out.

Deterministic, local, instant; the default when no API key is set. The rules
(``DiagnosisContext -> Finding``) belong to the subject, which offers a ready
diagnoser through ``SubjectPlugin.offline_diagnoser()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from operator_tui.core.diagnosis.base import DiagnosisOutcome, TextSink
from operator_tui.core.diagnosis.context import DiagnosisContext
from operator_tui.core.diagnosis.findings import Finding
from operator_tui.core.diagnosis.narrative import render_markdown
from operator_tui.core.diagnosis.schema import ROOT_CAUSE_CLASSES, CorrelatedMetric, Diagnosis

Rules = Callable[[DiagnosisContext], Finding]


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

    def __init__(self, rules: Rules) -> None:
        self.rules = rules

    async def diagnose(self, context: DiagnosisContext, on_text: TextSink) -> DiagnosisOutcome:
        finding = self.rules(context)
        diagnosis = diagnosis_of(context, finding)
        text = []
        for chunk in render_markdown(context, finding, diagnosis):
            text.append(chunk)
            await on_text(chunk)
            await asyncio.sleep(0)
        return DiagnosisOutcome(diagnosis=diagnosis, text="".join(text))
