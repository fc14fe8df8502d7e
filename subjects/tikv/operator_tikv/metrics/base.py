"""What a metrics source gives the subject each tick."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from operator_tui.core.types import Store, StoreMetrics

# Stores whose process is gone for good: never scraped.
SKIPPED_STATES = frozenset({"Tombstone", "Removed"})


@dataclass(slots=True)
class MetricsResult:
    by_store: dict[int, StoreMetrics] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    source: str = ""


class MetricsSource(Protocol):
    name: str

    async def collect(self, stores: list[Store]) -> MetricsResult: ...


def status_url(status_address: str) -> str:
    address = status_address.strip().rstrip("/")
    return address if "://" in address else "http://" + address
