"""PD's store states and the one place they become a neutral ``Health``.

PD's store lifecycle (pd/server/core/store.go, ``GetState``/``IsDisconnected``): a store is
``Up`` while it heartbeats; ``Disconnected`` after 20 s without one (still holding its
replicas); ``Down`` once ``max-store-down-time`` (30 min by default) has passed, when PD
starts re-creating its replicas elsewhere; ``Offline`` while being drained by ``store
delete`` (``Removing`` in the newer node-state spelling); ``Tombstone``/``Removed`` once
empty. PD keeps a killed store ``Up`` for those 20 s; the store's own status port does
not answer at once, so the operator knows sooner, and says so.
"""

from __future__ import annotations

from enum import StrEnum

from operator_tikv.records import TikvStore, TikvStoreMetrics
from operator_tui.core.types import Health, StoreHealth


class StoreState(StrEnum):
    """PD's ``state_name`` values, spelled as PD spells them."""

    UP = "Up"
    DISCONNECTED = "Disconnected"
    DOWN = "Down"
    OFFLINE = "Offline"
    TOMBSTONE = "Tombstone"
    PREPARING = "Preparing"
    SERVING = "Serving"
    REMOVING = "Removing"
    REMOVED = "Removed"
    UNKNOWN = "Unknown"


RUNNING = frozenset({StoreState.UP, StoreState.SERVING})
GONE = frozenset({StoreState.TOMBSTONE, StoreState.REMOVED})
DOWN_OR_GONE = GONE | {StoreState.DISCONNECTED, StoreState.DOWN}
"""Stores whose status port nobody expects to answer: not watched between ticks."""
_LEVEL = {
    StoreState.UP: Health.SERVING,
    StoreState.SERVING: Health.SERVING,
    StoreState.DISCONNECTED: Health.UNREACHABLE,
    StoreState.DOWN: Health.DOWN,
    StoreState.OFFLINE: Health.DEGRADED,
    StoreState.REMOVING: Health.DEGRADED,
    StoreState.PREPARING: Health.DEGRADED,
    StoreState.TOMBSTONE: Health.REMOVED,
    StoreState.REMOVED: Health.REMOVED,
}
_REASON = {
    StoreState.DISCONNECTED: "PD has had no heartbeat for 20 s or more",
    StoreState.DOWN: "PD declared it Down (max-store-down-time passed) and repairs around it",
    StoreState.OFFLINE: "being drained: PD moves its replicas away",
    StoreState.REMOVING: "being drained: PD moves its replicas away",
    StoreState.PREPARING: "joining: PD moves replicas onto it",
    StoreState.TOMBSTONE: "removed from the cluster",
    StoreState.REMOVED: "removed from the cluster",
    StoreState.UNKNOWN: "PD reports a state this operator does not know",
}
UNREACHABLE_LABEL = "Unreachable"


_BY_STATE = {
    state: StoreHealth(_LEVEL.get(state, Health.DEGRADED), str(state), _REASON.get(state, ""))
    for state in StoreState
}


def is_tiflash(store: TikvStore) -> bool:
    """A TiFlash store (PD labels it ``engine=tiflash``) holds learners only, so balance checks skip it."""
    return store.labels.get("engine") == "tiflash"


def state_health(state: StoreState) -> StoreHealth:
    """PD's word alone (one shared object per state: ``to_store`` runs for every store)."""
    return _BY_STATE.get(state) or StoreHealth(
        Health.DEGRADED, str(state), _REASON[StoreState.UNKNOWN]
    )


def store_health(store: TikvStore, metrics: TikvStoreMetrics | None = None) -> StoreHealth:
    """PD's state, overruled only when the store's status port has stopped answering.

    A store PD still calls Up (or Offline) whose metrics read failed this tick is
    ``unreachable``: PD will say Disconnected 20 s later. Down and removed stores keep
    PD's word whatever their port does.
    """
    health = state_health(store.state)  # type: ignore[arg-type]
    if metrics is not None and not metrics.reachable and health.level.answering:
        why = metrics.error or "its status port does not answer"
        return StoreHealth(
            Health.UNREACHABLE, UNREACHABLE_LABEL, f"{why}; PD still says {store.state}"
        )
    return health


def stamp(stores: list[TikvStore], metrics: dict[int, TikvStoreMetrics]) -> None:
    for store in stores:
        store.health = store_health(store, metrics.get(store.id))
