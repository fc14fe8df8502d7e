"""The snapshot kept with a ticket, read back: what the cluster looked like when the ticket opened.

The inverse of ``monitor.snapshot_dict`` (a compact JSON copy). A diagnosis is
built from it, not from whatever the cluster looks like by the time the agent
gets to the ticket. Fields a newer or older version wrote and this one does not
know are skipped, so an old database still reads.
"""

from __future__ import annotations

import functools
import typing
from dataclasses import fields
from datetime import datetime
from typing import Any

from operator_tui.core.types import (
    PLAIN_RECORDS,
    ClusterMetrics,
    Health,
    HotRegion,
    LogEvent,
    RecordTypes,
    Snapshot,
    Store,
    StoreHealth,
    StoreMetrics,
)


class StoredSnapshotError(ValueError):
    """The stored copy cannot be read back (a hand-edited or damaged database)."""


@functools.cache
def _names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls))


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = _names(cls)
    return {k: v for k, v in data.items() if k in names}


def _time(value: Any) -> datetime | None:
    return None if value in (None, "") else datetime.fromisoformat(str(value))


def _store(cls: type[Store], data: dict[str, Any]) -> Store:
    values = _known(cls, data)
    health = values.pop("health", None)
    for name in ("start_time", "last_heartbeat"):
        if name in values:
            values[name] = _time(values[name])
    store = cls(**values)
    if isinstance(health, dict):
        store.health = StoreHealth(
            Health(health["level"]), str(health.get("label", "")), str(health.get("reason", ""))
        )
    return store


@functools.cache
def key_types(cls: type) -> dict[str, type]:
    """The key type of each field the class annotates as a dict (or an optional one): JSON
    keeps every key as text, and a record read back gets them as its class declares."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:
        return {}
    found: dict[str, type] = {}
    for f in fields(cls):
        hint = hints.get(f.name)
        for option in typing.get_args(hint) or (hint,):
            args = typing.get_args(option)
            if typing.get_origin(option) is dict and args and isinstance(args[0], type):
                found[f.name] = args[0]
                break
    return found


def _metrics(cls: type[StoreMetrics], data: dict[str, Any]) -> StoreMetrics:
    """JSON keeps a dict's keys as strings; a figure by key gets them back as its field
    declares them (a store id per peer is an int, a subject's reason name a text; an
    undeclared dict's keys are store ids)."""
    values = _known(cls, data)
    keys = key_types(cls)
    for name, value in values.items():
        if isinstance(value, dict):
            key = keys.get(name, int)
            values[name] = {key(k): float(v) for k, v in value.items()}
    return cls(**values)


def _hot(cls: type[HotRegion], data: dict[str, Any]) -> HotRegion:
    renamed = {cls.STORED_ALIASES.get(k, k): v for k, v in data.items()}
    return cls(**_known(cls, renamed))


def _cluster(data: dict[str, Any]) -> ClusterMetrics:
    """A copy written before the subject's figures moved into ``figures`` kept them beside
    the neutral ones; those read back as figures."""
    values = _known(ClusterMetrics, data)
    flat = {k: v for k, v in data.items() if k not in values}
    values["figures"] = {**flat, **dict(values.get("figures") or {})}
    return ClusterMetrics(**values)


def _log_event(cls: type[LogEvent], data: dict[str, Any]) -> LogEvent:
    values = _known(cls, data)
    values["time"] = _time(values["time"])
    return cls(**values)


def snapshot_from_dict(
    data: dict[str, Any], records: RecordTypes = PLAIN_RECORDS
) -> Snapshot | None:
    """The stored snapshot, built with the subject's ``records``, or ``None`` when the ticket
    holds no observation: a ticket from before snapshots were kept, or one opened because
    nothing answered (the monitor keeps only the time and the error then, and the last
    observation is the evidence)."""
    if "taken_at" not in data or "stores" not in data:
        return None
    try:
        return Snapshot(
            taken_at=datetime.fromisoformat(str(data["taken_at"])),
            stores=[_store(records.store, s) for s in data.get("stores", [])],
            hot_write_regions=[_hot(records.hot, h) for h in data.get("hot_write_regions", [])],
            store_metrics={
                int(k): _metrics(records.metrics, m)
                for k, m in data.get("store_metrics", {}).items()
            },
            cluster=_cluster(data.get("cluster", {})),
            log_events=[_log_event(records.log_event, e) for e in data.get("log_events", [])],
            source=str(data.get("source", "")),
            errors=[str(e) for e in data.get("errors", [])],
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StoredSnapshotError(f"{type(exc).__name__}: {exc}") from None
