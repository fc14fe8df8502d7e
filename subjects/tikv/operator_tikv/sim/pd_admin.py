"""PD API calls that change the cluster: removing and reviving stores, schedule updates."""

from __future__ import annotations

import json
from typing import Any

from operator_tikv.sim.config import BOOL_STRING_KEYS, DURATION_KEYS, FLOAT_KEYS, STRING_KEYS
from operator_tikv.sim.encode import go_duration, parse_go_duration
from operator_tikv.sim.errors import SimError
from operator_tikv.sim.state import ClusterState
from operator_tikv.sim.store import (
    NODE_REMOVED,
    NODE_REMOVING,
    NODE_SERVING,
    STATE_OFFLINE,
    STATE_TOMBSTONE,
    STATE_UP,
    Store,
)


class PdAdmin(ClusterState):
    """Store state changes and schedule config updates requested over PD's API."""

    def _unburied(self, sid: int) -> Store:
        s = self.store_or_404(sid)
        if s.state == STATE_TOMBSTONE:
            raise SimError(410, f"[PD:core:ErrStoreRemoved]store {sid} has been removed")
        return s

    def remove_store(self, sid: int, force: bool) -> None:
        s = self._unburied(sid)
        if s.state == STATE_OFFLINE:
            return
        if not force:
            up = sum(1 for x in self.stores.values() if x.state == STATE_UP and x.id != sid)
            need = int(self.replication["max-replicas"])
            if up < need:
                raise SimError(
                    400,
                    f"[PD:core:ErrStoresNotEnough]can not remove store {sid} since the number of up stores would be {up} while need {need}",
                )
        s.state = STATE_OFFLINE
        s.node_state = NODE_REMOVING
        s.physically_destroyed = force

    def up_store(self, sid: int) -> None:
        s = self._unburied(sid)
        s.state = STATE_UP
        s.node_state = NODE_SERVING
        s.physically_destroyed = False

    def bury_drained(self) -> None:
        for s in self.stores.values():
            if s.state == STATE_OFFLINE and s.region_count == 0:
                s.state = STATE_TOMBSTONE
                s.node_state = NODE_REMOVED
                self.schedule["store-limit"].pop(str(s.id), None)

    def update_schedule(self, changes: dict[str, Any]) -> None:
        new = dict(self.schedule)
        for key, value in changes.items():
            if key not in new:
                continue
            if key in DURATION_KEYS:
                if not isinstance(value, str):
                    raise _unmarshal_error(key, value, "typeutil.Duration")
                try:
                    ns = parse_go_duration(value)
                except ValueError as exc:
                    raise SimError(400, str(exc)) from exc
                new[key] = go_duration(ns)
            elif key in BOOL_STRING_KEYS:
                if value not in ("true", "false"):
                    raise SimError(
                        400,
                        f"json: invalid use of ,string struct tag, trying to unmarshal {json.dumps(value)} into bool",
                    )
                new[key] = value
            elif key in FLOAT_KEYS:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise _unmarshal_error(key, value, "float64")
                new[key] = float(value)
            elif key in STRING_KEYS:
                if not isinstance(value, str):
                    raise _unmarshal_error(key, value, "string")
                new[key] = value
            elif key in ("store-limit", "schedulers-v2"):
                raise SimError(400, f"config item {key} is not updatable here")
            else:
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise _unmarshal_error(key, value, "uint64")
                new[key] = value
        low, high = float(new["low-space-ratio"]), float(new["high-space-ratio"])
        if not (0 <= high <= 1 and 0 <= low <= 1) or low <= high:
            raise SimError(400, "low-space-ratio should be larger than high-space-ratio")
        if new["leader-schedule-policy"] not in ("count", "size"):
            raise SimError(
                400, f"leader-schedule-policy {new['leader-schedule-policy']} is invalid"
            )
        self.schedule = new


def _unmarshal_error(key: str, value: Any, go_type: str) -> SimError:
    """The error encoding/json gives PD for a JSON value of the wrong type."""
    return SimError(
        400,
        f"json: cannot unmarshal {_json_kind(value)} into Go struct field ScheduleConfig.{key} of type {go_type}",
    )


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"
