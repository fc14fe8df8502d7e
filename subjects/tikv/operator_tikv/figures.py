"""PD's cluster-wide figures, kept in ``ClusterMetrics.figures`` under the names below.

Core holds them as a plain mapping and shows the ones ``CLUSTER_FIGURES`` declares; TiKV's
own code (invariants, diagnosis, actions) reads and writes them through ``PdFigures`` so the
names live here only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from operator_tui.core.subject import Figure
from operator_tui.core.types import ClusterMetrics


@dataclass(frozen=True, slots=True)
class PdFigures:
    """A figure PD did not report this tick reads as its default."""

    pd_leader: str | None = None
    pd_members_healthy: int = 0
    pd_members_total: int = 0
    region_count: int = 0
    miss_peer_regions: int = 0
    down_peer_regions: int = 0
    pending_peer_regions: int = 0
    offline_peer_regions: int = 0
    leader_schedule_limit: int | None = None
    region_schedule_limit: int | None = None
    replica_schedule_limit: int | None = None
    evict_leader_stores: list[int] | None = None

    def as_figures(self) -> dict[str, Any]:
        return asdict(self)


_NAMES = frozenset(f.name for f in fields(PdFigures))


def pd_figures(cluster: ClusterMetrics) -> PdFigures:
    return PdFigures(**{k: v for k, v in cluster.figures.items() if k in _NAMES})


def cluster_with(figures: PdFigures, **neutral: Any) -> ClusterMetrics:
    """A ``ClusterMetrics`` holding PD's figures (all of them, defaults included)."""
    return ClusterMetrics(**neutral, figures=figures.as_figures())


CLUSTER_FIGURES = (
    Figure("pd_leader", "PD leader", lead=True),
    Figure("region_count", "regions", event="regions"),
)
