"""The structured result every diagnoser returns; validated at the edge where the model's output arrives."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RootCauseClass = Literal[
    "store_down",
    "network_partition",
    "slow_disk",
    "disk_full",
    "hot_region",
    "pd_leader_lost",
    "write_stall",
    "overload",
    "unknown",
]
ROOT_CAUSE_CLASSES: tuple[str, ...] = RootCauseClass.__args__  # type: ignore[attr-defined]


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


class RecommendedAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str
    args: dict[str, Any] = Field(default_factory=dict)
    rationale: str
    risk: Literal["low", "medium", "high"] = "low"


class Diagnosis(BaseModel):
    """What happened, why, what was weighed, and what to do."""

    model_config = ConfigDict(extra="forbid")
    observation: str
    root_cause: str
    root_cause_class: RootCauseClass
    target: int | Literal["cluster"] = Field(description="store id, or 'cluster'")
    correlated_metrics: list[CorrelatedMetric] = Field(default_factory=list)
    options_considered: list[OptionConsidered] = Field(default_factory=list)
    recommended_actions: list[RecommendedAction] = Field(default_factory=list)
    confidence: float = Field(ge=0.0, le=1.0)
    severity: Literal["info", "warning", "critical"]

    def undeclared_actions(self, declared: set[str]) -> list[str]:
        return [a.action for a in self.recommended_actions if a.action not in declared]
