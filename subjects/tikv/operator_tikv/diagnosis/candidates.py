"""A candidate cause with its evidence for and against, and the choice between candidates.

Every candidate weighed is kept, with its evidence, in the diagnosis
(``Diagnosis.causes_considered``), chosen or not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from operator_tui.core.diagnosis.findings import Finding, Target
from operator_tui.core.diagnosis.schema import CauseConsidered


@dataclass(slots=True)
class Candidate:
    cause: str
    target: Target
    strength: float
    build: Callable[[], Finding]
    evidence_for: list[str] = field(default_factory=list)
    evidence_against: list[str] = field(default_factory=list)

    def considered(self, chosen: bool) -> CauseConsidered:
        return CauseConsidered(
            cause=self.cause,
            target=self.target,
            evidence_for=self.evidence_for,
            evidence_against=self.evidence_against,
            chosen=chosen,
        )


def decide(candidates: list[Candidate], fallback: Callable[[], Finding]) -> Finding:
    """The strongest supported candidate's finding (the first on a tie), else ``fallback``'s;
    every candidate goes into ``weighed``."""
    best: Candidate | None = None
    for c in candidates:
        if c.strength > 0 and (best is None or c.strength > best.strength):
            best = c
    finding = best.build() if best is not None else fallback()
    weighed = [c.considered(c is best) for c in candidates]
    if best is None:
        weighed.insert(
            0,
            CauseConsidered(
                cause=finding.cause,
                target=finding.target,
                evidence_for=list(finding.evidence[:3]),
                chosen=True,
            ),
        )
    finding.weighed = weighed
    return finding


def chosen_only(finding: Finding) -> Finding:
    """A finding from a rule with a single cause: it is the one weighed, on its own evidence."""
    finding.weighed = [
        CauseConsidered(
            cause=finding.cause,
            target=finding.target,
            evidence_for=list(finding.evidence[:4]),
            chosen=True,
        )
    ]
    return finding
