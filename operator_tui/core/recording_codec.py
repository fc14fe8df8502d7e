"""A snapshot and its tick as the flight recorder stores them: full JSON, zstd-compressed.

``monitor.snapshot_dict`` keeps a capped copy with a ticket; a recording keeps every
store, every busy key range and every log event of a tick (with its raw line), plus what
the operator concluded from it (the violations) or why it could not observe. Reading
back goes through ``diagnosis.stored.snapshot_from_dict`` with the subject's record
classes, so a recording rebuilds the subject's own records without core knowing them.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
import typing
from dataclasses import asdict, fields
from datetime import datetime
from enum import Enum
from typing import Any

import zstandard

from operator_tui.core.diagnosis.stored import snapshot_from_dict
from operator_tui.core.types import (
    PLAIN_RECORDS,
    RecordTypes,
    Severity,
    Snapshot,
    Violation,
)

LEVEL = 6


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def snapshot_doc(snapshot: Snapshot) -> dict[str, Any]:
    """Everything a tick observed, JSON-ready."""
    return {
        "taken_at": snapshot.taken_at.isoformat(),
        "source": snapshot.source,
        "stores": [asdict(s) for s in snapshot.stores],
        "store_metrics": {str(k): asdict(m) for k, m in snapshot.store_metrics.items()},
        "cluster": asdict(snapshot.cluster),
        "hot_write_regions": [asdict(h) for h in snapshot.hot_write_regions],
        "log_events": [asdict(e) for e in snapshot.log_events],
        "errors": list(snapshot.errors),
        "extra": snapshot.extra,
        "measured": None if snapshot.measured is None else sorted(snapshot.measured),
    }


def violation_doc(v: Violation) -> dict[str, Any]:
    return {
        "invariant": v.invariant,
        "severity": v.severity.value,
        "message": v.message,
        "store_id": v.store_id,
        "details": v.details,
    }


def tick_doc(
    now: datetime,
    snapshot: Snapshot | None,
    violations: list[Violation] | None,
    error: str | None,
) -> dict[str, Any]:
    """One monitor tick: the clock it ran at, what it saw (or the error), what it concluded."""
    return {
        "now": now.isoformat(),
        "snapshot": None if snapshot is None else snapshot_doc(snapshot),
        "violations": None if violations is None else [violation_doc(v) for v in violations],
        "error": error,
    }


class Codec:
    """zstd compressors are not thread-safe: one pair per thread."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _pair(self) -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
        pair = getattr(self._local, "pair", None)
        if pair is None:
            pair = self._local.pair = (
                zstandard.ZstdCompressor(level=LEVEL),
                zstandard.ZstdDecompressor(),
            )
        return pair

    def pack(self, doc: dict[str, Any]) -> bytes:
        raw = json.dumps(doc, default=_default, separators=(",", ":")).encode()
        return self._pair()[0].compress(raw)

    def unpack(self, blob: bytes) -> dict[str, Any]:
        return json.loads(self._pair()[1].decompress(blob))

    def compress(self, raw: bytes) -> bytes:
        return self._pair()[0].compress(raw)

    def decompress(self, blob: bytes) -> bytes:
        return self._pair()[1].decompress(blob)


@functools.cache
def _enum_fields(cls: type) -> tuple[tuple[str, type[Enum]], ...]:
    """The fields a record class types as an enum (or an optional one): JSON keeps their
    values as strings, the subject's code reads them as members."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:
        return ()
    found = []
    for f in fields(cls):
        hint = hints.get(f.name)
        options = typing.get_args(hint) if typing.get_args(hint) else (hint,)
        for option in options:
            if isinstance(option, type) and issubclass(option, Enum):
                found.append((f.name, option))
                break
    return tuple(found)


def members(record: Any) -> None:
    """A record's enum fields as members again (JSON keeps their values)."""
    for name, enum in _enum_fields(type(record)):
        value = getattr(record, name)
        if value is not None and not isinstance(value, enum):
            with contextlib.suppress(ValueError):
                setattr(record, name, enum(value))


def snapshot_from_doc(doc: dict[str, Any], records: RecordTypes = PLAIN_RECORDS) -> Snapshot:
    snapshot = snapshot_from_dict(doc, records)
    if snapshot is None:
        raise ValueError("a recorded tick holds no snapshot")
    for record in (
        *snapshot.stores,
        *snapshot.store_metrics.values(),
        *snapshot.hot_write_regions,
        *snapshot.log_events,
    ):
        members(record)
    snapshot.extra = dict(doc.get("extra") or {})
    measured = doc.get("measured")
    snapshot.measured = None if measured is None else frozenset(int(i) for i in measured)
    return snapshot


def violations_from_doc(docs: list[dict[str, Any]]) -> list[Violation]:
    return [
        Violation(
            invariant=str(d["invariant"]),
            severity=Severity(d["severity"]),
            message=str(d.get("message", "")),
            store_id=d.get("store_id"),
            details=dict(d.get("details") or {}),
        )
        for d in docs
    ]
