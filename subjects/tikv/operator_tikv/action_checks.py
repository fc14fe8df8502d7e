"""Checks around an action: before it runs (is PD still as the diagnosis saw it?) and after.

Before: the store exists and is in a state the action fits (PD moves leaders only off a
store that is Up and heartbeating; a drained store is Offline or Tombstone already), the
region still has the leader the diagnosis saw and the target holds a voter (PD refuses
"region has no voter in store N"), a schedule limit still has the value it was read at.
A change already in place is reported as done. After: PD's schedule config holds the new
value, PD lists the scheduler or an operator for the region (or the leader has moved), a
drained store is no longer Up.
"""

from __future__ import annotations

from typing import Any

from operator_tikv.actions import EVICT_LEADER
from operator_tikv.pd import PDClient
from operator_tikv.pd.client import PDError
from operator_tikv.states import GONE, StoreState
from operator_tui.core.subject import ActionCheck

LIMIT_KEYS = {
    "set_leader_schedule_limit": "leader_schedule_limit",
    "set_region_schedule_limit": "region_schedule_limit",
    "set_replica_schedule_limit": "replica_schedule_limit",
}
DRAINED = frozenset({StoreState.OFFLINE, *GONE})


async def _store_state(pd: PDClient, store_id: int) -> StoreState | None:
    try:
        return (await pd.store(store_id)).to_store().state  # type: ignore[return-value]
    except PDError as exc:
        if exc.status == 404 or "not found" in str(exc).lower():
            return None
        raise


async def _evicting(pd: PDClient, store_id: int) -> bool | None:
    """Whether PD's evict-leader scheduler holds the store (None: PD does not say)."""
    stores = await pd.evict_leader_stores()
    if stores is not None:
        return store_id in stores
    names = await pd.schedulers()
    if f"{EVICT_LEADER}-{store_id}" in names:
        return True
    return None if EVICT_LEADER in names else False


async def precheck(
    pd: PDClient, action: str, args: dict[str, Any], current: dict[str, Any]
) -> ActionCheck:
    if action in LIMIT_KEYS:
        now = getattr(await pd.schedule_config(), LIMIT_KEYS[action])
        if now == args["n"]:
            return ActionCheck(True, f"PD already runs it at {now}", done=True)
        seen = current.get("n")
        if seen is not None and seen != now:
            return ActionCheck(
                False,
                f"PD's value moved from {seen} to {now} since the diagnosis; re-run the diagnosis",
            )
        return ActionCheck(True, f"PD runs it at {now}")
    if action in ("transfer_leader", "split_region"):
        region = await pd.region(args["region_id"])
        if region is None:
            return ActionCheck(False, f"region {args['region_id']} no longer exists")
        if action == "split_region":
            return ActionCheck(True, f"region {region.id} exists")
        leader, to = region.leader.store_id, args["to_store_id"]
        if leader == to:
            return ActionCheck(True, f"region {region.id}'s leader is on store {to}", done=True)
        seen = current.get("to_store_id")
        if seen is not None and seen != leader:
            return ActionCheck(
                False,
                f"region {region.id}'s leader moved from store {seen} to store {leader} "
                "since the diagnosis",
            )
        voters = {p.store_id for p in region.peers if p.to_peer().role == "Voter"}
        if to not in voters:
            return ActionCheck(False, f"region {region.id} has no voter in store {to}")
        return ActionCheck(True, f"region {region.id}'s leader is on store {leader}")
    if action in ("evict_leader", "remove_evict_leader", "drain_store"):
        sid = args["store_id"]
        state = await _store_state(pd, sid)
        if state is None:
            return ActionCheck(False, f"store {sid} does not exist")
        if action == "drain_store":
            if state in DRAINED:
                return ActionCheck(True, f"store {sid} is already {state}", done=True)
            return ActionCheck(True, f"store {sid} is {state}")
        evicting = await _evicting(pd, sid)
        if action == "remove_evict_leader":
            if evicting is False:
                return ActionCheck(True, f"PD does not evict store {sid}'s leaders", done=True)
            return ActionCheck(True, f"store {sid} is {state}")
        if evicting:
            return ActionCheck(True, f"PD already evicts store {sid}'s leaders", done=True)
        if state != StoreState.UP:
            return ActionCheck(
                False, f"store {sid} is {state}: PD moves leaders only off a store that is Up"
            )
        return ActionCheck(True, f"store {sid} is Up")
    return ActionCheck(True)


async def verify(pd: PDClient, action: str, args: dict[str, Any]) -> ActionCheck:
    if action in LIMIT_KEYS:
        now = getattr(await pd.schedule_config(), LIMIT_KEYS[action])
        return ActionCheck(now == args["n"], f"PD's config now reads {now}")
    if action == "set_low_space_threshold":
        ratio = (await pd.schedule_config()).low_space_ratio
        return ActionCheck(
            abs(ratio * 100 - args["percent"]) < 1e-6, f"PD's low-space-ratio now reads {ratio:g}"
        )
    if action in ("transfer_leader", "split_region"):
        region = await pd.region(args["region_id"])
        if action == "transfer_leader" and region is not None:
            if region.leader.store_id == args["to_store_id"]:
                return ActionCheck(True, f"the leader is on store {args['to_store_id']}")
        try:
            await pd.get(f"/operators/{args['region_id']}", dict[str, Any])
        except PDError:
            return ActionCheck(False, f"PD shows no operator for region {args['region_id']}")
        return ActionCheck(True, f"PD runs an operator for region {args['region_id']}")
    if action in ("evict_leader", "remove_evict_leader"):
        evicting = await _evicting(pd, args["store_id"])
        want = action == "evict_leader"
        if evicting is None:
            return ActionCheck(False, "PD does not say which stores it evicts")
        return ActionCheck(
            evicting is want,
            f"PD {'evicts' if evicting else 'does not evict'} store {args['store_id']}'s leaders",
        )
    if action == "drain_store":
        state = await _store_state(pd, args["store_id"])
        return ActionCheck(
            state in DRAINED, f"store {args['store_id']} is {state or 'gone from PD'}"
        )
    return ActionCheck(True)
