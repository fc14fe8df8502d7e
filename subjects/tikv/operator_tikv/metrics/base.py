"""What a metrics source gives the subject each tick."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from operator_tikv.records import TikvStore, TikvStoreMetrics

# Stores whose process is gone for good: never scraped.


@dataclass(slots=True)
class MetricsResult:
    """Figures by store; ``fresh`` holds the stores measured this tick (empty: all of them).

    ``fresh_exact`` says ``fresh`` is the whole list even when empty: a tick in which no
    store was measured again keeps every store's previous figures and adds no history point.
    """

    by_store: dict[int, TikvStoreMetrics] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    source: str = ""
    fresh: set[int] = field(default_factory=set)
    fresh_exact: bool = False

    def is_fresh(self, store_id: int) -> bool:
        if self.fresh or self.fresh_exact:
            return store_id in self.fresh
        return store_id in self.by_store


class MetricsSource(Protocol):
    name: str

    async def collect(self, stores: list[TikvStore]) -> MetricsResult: ...


def status_url(status_address: str) -> str:
    address = status_address.strip().rstrip("/")
    return address if "://" in address else "http://" + address
