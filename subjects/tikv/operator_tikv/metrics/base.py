"""What a metrics source gives the subject each tick."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from operator_tui.core.types import Store, StoreMetrics

# Stores whose process is gone for good: never scraped.
SKIPPED_STATES = frozenset({"Tombstone", "Removed"})


@dataclass(slots=True)
class MetricsResult:
    """Figures by store; ``fresh`` holds the stores measured this tick (None: all of them)."""

    by_store: dict[int, StoreMetrics] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    source: str = ""
    fresh: set[int] = field(default_factory=set)

    def is_fresh(self, store_id: int) -> bool:
        return store_id in self.fresh if self.fresh else store_id in self.by_store


class MetricsSource(Protocol):
    name: str

    async def collect(self, stores: list[Store]) -> MetricsResult: ...


def status_url(status_address: str) -> str:
    address = status_address.strip().rstrip("/")
    return address if "://" in address else "http://" + address
