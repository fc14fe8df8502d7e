"""The Markdown narrative of a rule-based diagnosis, in the sections the model is asked for.

It reads log events only by kind and counts, never their text, so nothing inside
telemetry can steer what the narrative says. Figures are written in the words and units the
subject declares (``Measure``), as the front ends write them.
"""

from __future__ import annotations

from collections import Counter

from operator_tui.core.diagnosis.context import DiagnosisContext
from operator_tui.core.diagnosis.findings import Finding
from operator_tui.core.diagnosis.schema import Diagnosis
from operator_tui.core.units import in_words


def render_markdown(ctx: DiagnosisContext, finding: Finding, diagnosis: Diagnosis) -> list[str]:
    """The narrative, as the chunks it is streamed in."""
    t = ctx.ticket
    chunks = [f"## Observation\n\n{diagnosis.observation}\n\n"]
    lines = [f"- {e}" for e in finding.evidence]
    lines += [
        f"- {_where(m.store_id)}: {in_words(m.metric, m.value, m.baseline, ctx.measures)}"
        for m in diagnosis.correlated_metrics
        if m.value is not None and m.baseline is not None
    ]
    kinds = Counter(e.kind for e in ctx.log_events)
    if kinds:
        lines.append("- Log events: " + ", ".join(f"{k} x{n}" for k, n in kinds.most_common(6)))
    chunks.append("## Evidence\n\n" + ("\n".join(lines) if lines else "- (none)") + "\n\n")
    target = _where(diagnosis.target)
    chunks.append(
        f"## Root cause\n\n**{diagnosis.root_cause_class}** on {target}: {diagnosis.root_cause}\n\n"
    )
    weighed = [
        f"- **{c.cause}** on {_where(c.target)}: {'chosen' if c.chosen else 'not chosen'}."
        + "".join(f"\n  - for: {e}" for e in c.evidence_for)
        + "".join(f"\n  - against: {e}" for e in c.evidence_against)
        for c in diagnosis.causes_considered
    ]
    chunks.append(
        "## Options considered\n\n"
        + "".join(f"{w}\n" for w in weighed)
        + "\n".join(
            f"- **{o.option}**: not chosen because {o.rejected_because}."
            for o in diagnosis.options_considered
        )
        + "\n\n"
    )
    if diagnosis.recommended_actions:
        acts = "\n".join(
            f"- `{a.action}({', '.join(f'{k}={v}' for k, v in a.args.items())})`"
            + "".join(f", {k} {now} -> {new}" for k, now, new in a.changes())
            + f", risk {a.risk}: {a.rationale}"
            for a in diagnosis.recommended_actions
        )
    else:
        acts = "- No declared action helps here; watch the ticket."
    chunks.append(f"## Recommended action\n\n{acts}\n\n")
    chunks.append(
        f"Confidence {diagnosis.confidence:.0%}, severity {diagnosis.severity} (ticket #{t.id}).\n"
    )
    return chunks


def _where(target: int | str | None) -> str:
    return "the cluster" if target in ("cluster", None) else f"store {target}"
