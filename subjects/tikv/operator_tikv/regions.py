"""A region and its peers as PD describes them (``/region/id/{id}``, ``/regions``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Peer:
    id: int
    store_id: int
    role: str = "Voter"


@dataclass(slots=True)
class Region:
    """A key range and its replicas; hot-region entries carry flow figures."""

    id: int
    start_key: str = ""
    end_key: str = ""
    peers: list[Peer] = field(default_factory=list)
    leader_store_id: int | None = None
    conf_ver: int = 0
    version: int = 0
    approximate_size_mb: int = 0
    approximate_keys: int = 0
    written_bytes: int = 0
    read_bytes: int = 0
