"""Compact region table: one ``array`` per field, four peer slots per region.

A million regions cost about 150 MB here (arrays plus the id index), where a
Python object per region and per peer would cost several gigabytes.
"""

from __future__ import annotations

import bisect
from array import array

PEER_SLOTS = 4
ROLE_VOTER = 0
ROLE_LEARNER = 1

# Region statistics PD keeps (pkg/statistics/region_collection.go), as bits of ``flags``.
MISS_PEER = 1
EXTRA_PEER = 2
DOWN_PEER = 4
PENDING_PEER = 8
OFFLINE_PEER = 16
LEARNER_PEER = 32
EMPTY_REGION = 64
OVERSIZED = 128
UNDERSIZED = 256
CHECK_BITS = {
    "miss-peer": MISS_PEER,
    "extra-peer": EXTRA_PEER,
    "down-peer": DOWN_PEER,
    "pending-peer": PENDING_PEER,
    "offline-peer": OFFLINE_PEER,
    "learner-peer": LEARNER_PEER,
    "empty-region": EMPTY_REGION,
    "oversized-region": OVERSIZED,
    "undersized-region": UNDERSIZED,
}


class RegionTable:
    def __init__(self) -> None:
        self.ids = array("Q")
        self.start = array("Q")
        self.end = array("Q")
        self.conf_ver = array("I")
        self.version = array("I")
        self.size_kb = array("Q")
        self.keys = array("Q")
        self.weight = array("d")
        self.term = array("I")
        self.leader = array("b")
        self.flags = array("H")
        self.pstore = array("I")
        self.pid = array("Q")
        self.prole = array("B")
        self.by_id: dict[int, int] = {}
        # Key order: sorted start positions and the region index at each.
        self.kstart = array("Q")
        self.korder = array("I")

    def __len__(self) -> int:
        return len(self.ids)

    def append(
        self,
        rid: int,
        start: int,
        end: int,
        conf_ver: int,
        version: int,
        size_kb: int,
        keys: int,
        weight: float,
        term: int,
    ) -> int:
        i = len(self.ids)
        self.ids.append(rid)
        self.start.append(start)
        self.end.append(end)
        self.conf_ver.append(conf_ver)
        self.version.append(version)
        self.size_kb.append(size_kb)
        self.keys.append(keys)
        self.weight.append(weight)
        self.term.append(term)
        self.leader.append(-1)
        self.flags.append(0)
        self.pstore.extend((0, 0, 0, 0))
        self.pid.extend((0, 0, 0, 0))
        self.prole.extend((0, 0, 0, 0))
        self.by_id[rid] = i
        pos = bisect.bisect_left(self.kstart, start)
        self.kstart.insert(pos, start)
        self.korder.insert(pos, i)
        return i

    def slots(self, i: int) -> range:
        return range(i * PEER_SLOTS, i * PEER_SLOTS + PEER_SLOTS)

    def peer_stores(self, i: int) -> list[int]:
        base = i * PEER_SLOTS
        return [s for s in self.pstore[base : base + PEER_SLOTS] if s]

    def slot_of_store(self, i: int, store_id: int) -> int:
        base = i * PEER_SLOTS
        for k in range(PEER_SLOTS):
            if self.pstore[base + k] == store_id:
                return k
        return -1

    def free_slot(self, i: int) -> int:
        base = i * PEER_SLOTS
        for k in range(PEER_SLOTS):
            if self.pstore[base + k] == 0:
                return k
        return -1

    def leader_store(self, i: int) -> int:
        slot = self.leader[i]
        return 0 if slot < 0 else self.pstore[i * PEER_SLOTS + slot]

    def locate(self, pos: int) -> int:
        """Index of the region whose range holds ``pos``."""
        k = bisect.bisect_right(self.kstart, pos) - 1
        return self.korder[max(k, 0)]

    def key_rank(self, pos: int) -> int:
        return bisect.bisect_left(self.kstart, pos)
