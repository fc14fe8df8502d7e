"""The structured result every diagnoser returns; validated at the edge where the model's output arrives.

``root_cause_class`` is one of the classes the subject declares
(``SubjectConfig.root_cause_classes``). Core cannot list them, so the check runs
when the caller passes them as validation context::

    Diagnosis.model_validate(data, context={ROOT_CAUSE_CLASSES: classes})

Without that context (a diagnosis read back from the database) any string passes:
it was checked when it was made.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

UNKNOWN_CAUSE = "unknown"
ROOT_CAUSE_CLASSES = "root_cause_classes"


class CorrelatedMetric(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metric: str
    store_id: int | None = None
    value: float | None = None
    baseline: float | None = None


class OptionConsidered(BaseModel):
    model_config = ConfigDict(extra="forbid")
    option: str
    rejected_because: str


class CauseConsidered(BaseModel):
    """A candidate cause the diagnosis weighed: what speaks for it, what against, and whether it won."""

    model_config = ConfigDict(extra="forbid")
    cause: str = Field(description="one of the subject's declared root-cause classes")
    target: int | Literal["cluster"]
    evidence_for: list[str] = Field(default_factory=list)
    evidence_against: list[str] = Field(default_factory=list)
    chosen: bool = False


class RecommendedAction(BaseModel):
    """``current``: the values the action changes as they are now, under the names of its
    arguments (``{"n": 64}`` beside ``args={"n": 128}``), so a person sees current -> proposed."""

    model_config = ConfigDict(extra="forbid")
    action: str
    args: dict[str, Any] = Field(default_factory=dict)
    rationale: str
    risk: Literal["low", "medium", "high"] = "low"
    current: dict[str, Any] = Field(default_factory=dict)

    def changes(self) -> list[tuple[str, Any, Any]]:
        """(name, current, proposed) for each argument whose current value is known."""
        return [(k, self.current[k], v) for k, v in self.args.items() if k in self.current]


class Diagnosis(BaseModel):
    """What happened, why, what was weighed, and what to do."""

    model_config = ConfigDict(extra="forbid")
    observation: str
    root_cause: str
    root_cause_class: str = Field(description="one of the subject's declared root-cause classes")
    target: int | Literal["cluster"] = Field(description="store id, or 'cluster'")
    correlated_metrics: list[CorrelatedMetric] = Field(default_factory=list)
    options_considered: list[OptionConsidered] = Field(default_factory=list)
    causes_considered: list[CauseConsidered] = Field(
        default_factory=list, description="candidate causes weighed, with evidence for and against"
    )
    recommended_actions: list[RecommendedAction] = Field(default_factory=list)
    confidence: float = Field(ge=0.0, le=1.0)
    severity: Literal["info", "warning", "critical"]

    @field_validator("root_cause_class")
    @classmethod
    def _declared_class(cls, value: str, info: ValidationInfo) -> str:
        classes = (info.context or {}).get(ROOT_CAUSE_CLASSES)
        if classes is not None and value not in classes:
            raise ValueError(f"{value!r} is not one of {', '.join(classes)}")
        return value

    def undeclared_actions(self, declared: set[str]) -> list[str]:
        return [a.action for a in self.recommended_actions if a.action not in declared]
