"""TiKV's unified log format -> ``LogEvent``.

A line is ``[time] [LEVEL] [file.rs:line] [message] [key=value] ...``; the
message, keys and values are JSON-quoted when they hold a space, ``"``, ``=``,
``[`` or ``]`` (tikv_util/src/logger/formatter.rs). TiKV's JSON log format
(``log.format = "json"``) is read too. ``parse_line`` never raises: a line it
cannot read returns ``None`` and is counted in ``stats``.

``kind`` groups lines by what happened:

=====================  =====================================================
kind                   messages
=====================  =====================================================
election_started       starting a new election (once per election; the
                       pre-candidate / candidate / MsgTimeoutNow lines
                       around it are ``other``)
became_leader          became leader at term N
became_follower        became follower at term N
snapshot_sent          start sending snapshot; sent snapshot; send snapshot
snapshot_received      saving snapshot file; saving all snapshot files;
                       receive(d) snapshot
snapshot_applied       begin to apply snapshot; begin apply snap data;
                       apply new data; apply snapshot
region_split           on split; try to batch split region; split region;
                       notify pd with split
slow_operation         slow-query; "... too slow"; any WARN/ERROR with takes=
pd_connection_lost     PD failed to respond; connecting to PD endpoint;
                       failed to connect to PD; failed to send heartbeat;
                       TSO stream is closed; validate PD endpoints failed;
                       store_heartbeat timeout
disk_space             disk usage ...; disk full; space holder; no space left
other                  everything else
=====================  =====================================================
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from operator_tikv.records import TikvLogEvent

LEVELS = {
    "FATAL": "FATAL",
    "CRITICAL": "FATAL",
    "ERROR": "ERROR",
    "WARN": "WARN",
    "WARNING": "WARN",
    "INFO": "INFO",
    "DEBUG": "DEBUG",
    "TRACE": "TRACE",
}


@dataclass(slots=True)
class ParseStats:
    """Lines seen by ``parse_line`` since start (or ``reset``)."""

    parsed: int = 0
    unparsed: int = 0

    def reset(self) -> None:
        self.parsed = 0
        self.unparsed = 0


stats = ParseStats()


class _Malformed(Exception):
    pass


_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S.%f %z", "%Y/%m/%d %H:%M:%S %z")
_TERM_IN_MESSAGE = re.compile(r"\bterm (\d+)\b")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ns|us|µs|μs|ms|s|m|h)?\s*$")
_DURATION_MS = {
    None: 1.0,
    "ns": 1e-6,
    "us": 1e-3,
    "µs": 1e-3,
    "μs": 1e-3,
    "ms": 1.0,
    "s": 1000.0,
    "m": 60_000.0,
    "h": 3_600_000.0,
}

_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("election_started", ("starting a new election",)),
    ("became_leader", ("became leader at term",)),
    ("became_follower", ("became follower at term",)),
    ("snapshot_sent", ("start sending snapshot", "sent snapshot", "send snapshot")),
    (
        "snapshot_received",
        (
            "saving snapshot file",
            "saving all snapshot files",
            "received snapshot",
            "receive snapshot",
        ),
    ),
    (
        "snapshot_applied",
        ("begin to apply snapshot", "begin apply snap data", "apply new data", "apply snapshot"),
    ),
    (
        "region_split",
        ("on split", "try to batch split region", "split region", "notify pd with split"),
    ),
    (
        "pd_connection_lost",
        (
            "pd failed to respond",
            "connecting to pd endpoint",
            "failed to connect to pd",
            "failed to send heartbeat",
            "tso stream is closed",
            "validate pd endpoints failed",
            "store_heartbeat timeout",
            "reconnect to pd",
        ),
    ),
    ("disk_space", ("disk usage", "disk full", "space holder", "no space left", "disk is full")),
)


def _read_quoted(line: str, pos: int) -> tuple[str, int]:
    """A JSON string starting at ``line[pos] == '"'``; returns (value, position after it)."""
    end = pos + 1
    n = len(line)
    while end < n:
        ch = line[end]
        if ch == "\\":
            end += 2
            continue
        if ch == '"':
            try:
                value = json.loads(line[pos : end + 1])
            except ValueError:
                raise _Malformed from None
            if not isinstance(value, str):
                raise _Malformed
            return value, end + 1
        end += 1
    raise _Malformed


def _read_raw(line: str, pos: int, stops: str) -> tuple[str, int]:
    end = pos
    n = len(line)
    while end < n and line[end] not in stops:
        end += 1
    return line[pos:end], end


def _read_items(line: str) -> list[tuple[str | None, str]]:
    """Every ``[...]`` item of the line: ``(None, text)`` or ``(key, value)``."""
    items: list[tuple[str | None, str]] = []
    pos = 0
    n = len(line)
    while pos < n:
        while pos < n and line[pos] in " \t":
            pos += 1
        if pos >= n:
            break
        if line[pos] != "[":
            raise _Malformed
        pos += 1
        if pos < n and line[pos] == '"':
            first, pos = _read_quoted(line, pos)
        else:
            first, pos = _read_raw(line, pos, "=]")
        if pos < n and line[pos] == "=":
            pos += 1
            if pos < n and line[pos] == '"':
                value, pos = _read_quoted(line, pos)
            else:
                value, pos = _read_raw(line, pos, "]")
            if pos >= n or line[pos] != "]":
                raise _Malformed
            items.append((first, value))
        else:
            if pos >= n or line[pos] != "]":
                raise _Malformed
            items.append((None, first))
        pos += 1
    return items


def _parse_time(text: str) -> datetime:
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    raise _Malformed


def _to_int(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    if not value.isascii() or not value.lstrip("-").isdigit():
        return None
    try:
        return int(value)
    except ValueError:
        return None


def duration_ms(value: str | None) -> float | None:
    """``"7669"`` (slow_log ms), ``"987.08ms"``, ``"1.41s"`` -> milliseconds."""
    if value is None:
        return None
    match = _DURATION.match(value)
    if match is None:
        return None
    try:
        return float(match.group(1)) * _DURATION_MS[match.group(2)]
    except (ValueError, OverflowError):
        return None


def classify(level: str, message: str, fields: dict[str, str]) -> str:
    lowered = message.lower()
    for kind, needles in _KINDS:
        if any(n in lowered for n in needles):
            return kind
    if lowered == "slow-query" or "too slow" in lowered or lowered.startswith("slow "):
        return "slow_operation"
    if level in ("WARN", "ERROR", "FATAL") and "takes" in fields:
        return "slow_operation"
    return "other"


def _event(
    raw: str, time: datetime, level: str, source: str, message: str, fields: dict[str, str]
) -> TikvLogEvent:
    term = _to_int(fields.get("term"))
    if term is None:
        match = _TERM_IN_MESSAGE.search(message)
        term = int(match.group(1)) if match else None
    takes = duration_ms(fields.get("takes"))
    if takes is None:
        takes = duration_ms(fields.get("time_takes"))
    return TikvLogEvent(
        time=time,
        level=level,
        source=source,
        message=message,
        fields=fields,
        region_id=_to_int(fields.get("region_id")),
        term=term,
        takes_ms=takes,
        kind=classify(level, message, fields),
        raw=raw,
    )


def _parse_unified(line: str) -> TikvLogEvent:
    items = _read_items(line)
    if len(items) < 4 or any(k is not None for k, _ in items[:3]):
        raise _Malformed
    time = _parse_time(items[0][1])
    level = LEVELS.get(items[1][1].strip().upper())
    if level is None:
        raise _Malformed
    source = items[2][1]
    rest = items[3:]
    if rest[0][0] is None:
        message = rest[0][1]
        rest = rest[1:]
    else:
        message = ""
    fields: dict[str, str] = {}
    for key, value in rest:
        if key is None:
            raise _Malformed
        fields[key] = value
    return _event(line, time, level, source, message, fields)


def _parse_json(line: str) -> TikvLogEvent:
    try:
        body = json.loads(line)
    except ValueError:
        raise _Malformed from None
    if not isinstance(body, dict):
        raise _Malformed
    time_text, level_text = body.get("time"), body.get("level")
    if not isinstance(time_text, str) or not isinstance(level_text, str):
        raise _Malformed
    level = LEVELS.get(level_text.upper())
    if level is None:
        raise _Malformed
    source = body.get("caller", "")
    message = body.get("message", "")
    fields = {
        str(k): v if isinstance(v, str) else json.dumps(v)
        for k, v in body.items()
        if k not in ("time", "level", "caller", "message")
    }
    return _event(
        line,
        _parse_time(time_text),
        level,
        source if isinstance(source, str) else str(source),
        message if isinstance(message, str) else str(message),
        fields,
    )


def parse_line(line: str) -> TikvLogEvent | None:
    """One TiKV log line -> ``LogEvent`` (aware ``time``), or ``None`` when it is not one."""
    try:
        text = line.rstrip("\r\n")
        stripped = text.lstrip()
        if stripped.startswith("{"):
            event = _parse_json(stripped)
        elif stripped.startswith("["):
            event = _parse_unified(stripped)
        else:
            raise _Malformed
    except Exception:
        stats.unparsed += 1
        return None
    stats.parsed += 1
    return event
