"""What a rule-based diagnoser concludes, before it becomes a ``Diagnosis``.

A subject's offline rules return a ``Finding``; core's ``RuleDiagnoser`` turns it
into the validated result and the narrative. ``declared_action`` keeps the rules
to the actions the subject declares, so a rulebook cannot recommend what the
subject would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from operator_tui.core.diagnosis.context import DiagnosisContext
from operator_tui.core.diagnosis.schema import CauseConsidered, OptionConsidered, RecommendedAction

Target = int | Literal["cluster"]


@dataclass(slots=True)
class Finding:
    cause: str
    target: Target
    root_cause: str
    evidence: list[str] = field(default_factory=list)
    options: list[OptionConsidered] = field(default_factory=list)
    actions: list[RecommendedAction] = field(default_factory=list)
    confidence: float = 0.5
    weighed: list[CauseConsidered] = field(default_factory=list)


def option(option: str, because: str) -> OptionConsidered:
    return OptionConsidered(option=option, rejected_because=because)


def declared_action(
    ctx: DiagnosisContext,
    name: str,
    rationale: str,
    risk: str,
    *,
    current: dict[str, Any] | None = None,
    **args: Any,
) -> RecommendedAction | None:
    """A recommendation only if the subject declares the action; args renamed to its declared names.

    ``current``: what the action changes as it is now, under the same argument names."""
    declared = next((a for a in ctx.actions if a.name == name), None)
    if declared is None:
        return None
    names = [a.name for a in declared.args]
    if names and set(args) - set(names):
        renamed = dict(zip(args, names, strict=False))
        args = {renamed[k]: v for k, v in args.items()}
        current = {renamed.get(k, k): v for k, v in (current or {}).items()}
    return RecommendedAction(
        action=name,
        args=args,
        rationale=rationale,
        risk=risk,  # type: ignore[arg-type]
        current=dict(current or {}),
    )


def declared_actions(*actions: RecommendedAction | None) -> list[RecommendedAction]:
    return [a for a in actions if a is not None]
