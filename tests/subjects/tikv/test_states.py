"""PD's store states become one neutral health, overruled only by a silent status port."""

from __future__ import annotations

import pytest
from operator_tikv.records import TikvStore, TikvStoreMetrics
from operator_tikv.states import StoreState, stamp, state_health, store_health

from operator_tui.core.types import Health


def _store(state: StoreState) -> TikvStore:
    return TikvStore(id=1, address="tikv-1:20160", state=state)


@pytest.mark.parametrize(
    ("state", "level"),
    [
        (StoreState.UP, Health.SERVING),
        (StoreState.SERVING, Health.SERVING),
        (StoreState.DISCONNECTED, Health.UNREACHABLE),
        (StoreState.DOWN, Health.DOWN),
        (StoreState.OFFLINE, Health.DEGRADED),
        (StoreState.PREPARING, Health.DEGRADED),
        (StoreState.TOMBSTONE, Health.REMOVED),
        (StoreState.UNKNOWN, Health.DEGRADED),
    ],
)
def test_pd_state_alone(state: StoreState, level: Health) -> None:
    health = state_health(state)
    assert health.level is level
    assert health.label == state.value


def test_a_silent_port_is_unreachable_before_pd_says_so() -> None:
    dead = TikvStoreMetrics(store_id=1, reachable=False, error="connection refused")
    health = store_health(_store(StoreState.UP), dead)
    assert health.level is Health.UNREACHABLE
    assert health.label == "Unreachable"
    assert "connection refused" in health.reason and "PD still says Up" in health.reason
    assert store_health(_store(StoreState.UP), TikvStoreMetrics(store_id=1)).level is Health.SERVING
    assert store_health(_store(StoreState.UP), None).level is Health.SERVING


def test_pd_keeps_its_word_for_stores_it_gave_up_on() -> None:
    dead = TikvStoreMetrics(store_id=1, reachable=False)
    assert store_health(_store(StoreState.DOWN), dead).level is Health.DOWN
    assert store_health(_store(StoreState.DISCONNECTED), dead).label == "Disconnected"
    assert store_health(_store(StoreState.TOMBSTONE), dead).level is Health.REMOVED


def test_stamp_sets_every_store() -> None:
    stores = [_store(StoreState.UP), TikvStore(id=2, address="b", state=StoreState.UP)]
    stamp(stores, {2: TikvStoreMetrics(store_id=2, reachable=False)})
    assert [s.health.level for s in stores] == [Health.SERVING, Health.UNREACHABLE]
    assert [s.label for s in stores] == ["Up", "Unreachable"]
