"""TiKV's unified log format -> ``LogEvent``.

A line is ``[time] [LEVEL] [file.rs:line] [message] [key=value] ...``; the
message, keys and values are JSON-quoted when they hold a space, ``"``, ``=``,
``[`` or ``]`` (tikv_util/src/logger/formatter.rs). TiKV's JSON log format
(``log.format = "json"``) is read too. ``parse_line`` never raises: a line it
cannot read returns ``None`` and is counted in ``stats``.

``kind`` says what happened, from the message strings of TiKV's and raft-rs's source:
the table and the source file of every message are in ``operator_tikv.log_kinds``.
RocksDB's own log (``rocksdb.info``, TiKV's ``RocksFormat``: ``[time][thread][LEVEL]
[file:line] message``) is read too, for its write-stall lines.

Renamed from the first version: "connecting to PD endpoint" is ``pd_reconnect`` (was
``pd_connection_lost``); "scheduling store_heartbeat timeout" is ``slow_operation`` (the
store was too busy to send it); "became pre-candidate"/"became candidate" are
``election_campaign``, vote lines ``vote``, MsgTimeoutNow ``leader_transfer`` (all were
``other``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from operator_tikv import log_kinds as K
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
# TiKV's own layout, read without strptime (the slowest step otherwise); anything else falls back.
_TIME = re.compile(
    r"\s*(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? ([+-])(\d\d):(\d\d)\s*$"
)
_ZONES: dict[str, timezone] = {}
# One ``[...]`` item: a JSON-quoted or raw text, then optionally ``=`` and a quoted or raw value.
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_ITEM = re.compile(
    rf'[ \t]*\[(?:({_QUOTED})|(?!")([^=\]]*))(?:=(?:({_QUOTED})|(?!")([^\]]*)))?\]', re.S
)
_BLANK = re.compile(r"[ \t]*")
_ROCKS_LINE = re.compile(r"\[([^\]]+)\]\[(\d+)\]\[([A-Z]+)\] (.*)$", re.S)
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


def _unquote(token: str) -> str:
    try:
        value = json.loads(token)
    except ValueError:
        raise _Malformed from None
    if not isinstance(value, str):
        raise _Malformed
    return value


def _read_items(line: str) -> list[tuple[str | None, str]]:
    """Every ``[...]`` item of the line: ``(None, text)`` or ``(key, value)``."""
    items: list[tuple[str | None, str]] = []
    pos = 0
    n = len(line)
    while True:
        match = _ITEM.match(line, pos)
        if match is None:
            if _BLANK.match(line, pos).end() == n:  # type: ignore[union-attr]
                return items
            raise _Malformed
        quoted_key, raw_key, quoted_value, raw_value = match.groups()
        first = raw_key if quoted_key is None else _unquote(quoted_key)
        if quoted_value is not None:
            items.append((first, _unquote(quoted_value)))
        elif raw_value is not None:
            items.append((first, raw_value))
        else:
            items.append((None, first))
        pos = match.end()


def _parse_time(text: str) -> datetime:
    match = _TIME.match(text)
    if match is not None:
        y, mo, d, h, mi, sec, frac, sign, tzh, tzm = match.groups()
        tz = _ZONES.get(sign + tzh + tzm)
        if tz is None:
            offset = timedelta(hours=int(tzh), minutes=int(tzm))
            tz = _ZONES.setdefault(sign + tzh + tzm, timezone(-offset if sign == "-" else offset))
        micro = int(frac.ljust(6, "0")) if frac else 0
        try:
            return datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec), micro, tz)
        except ValueError:
            pass
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
    """The kind of one message: exact text, then fixed prefix, then fixed infix."""
    kind = K.EXACT.get(message)
    if kind is None:
        if message.startswith(K.PREFIX_TEXTS):
            for prefix, prefix_kind in K.PREFIXES:
                if message.startswith(prefix):
                    kind = prefix_kind
                    break
        else:
            match = K.INFIX_RE.search(message)
            if match is not None:
                kind = K.INFIX_KIND[match.lastindex - 1]  # type: ignore[operator]
    if kind is not None:
        if kind == "snapshot_sent" and fields.get("status") == "Failure":
            return "snapshot_failed"
        return kind
    if level in ("WARN", "ERROR", "FATAL") and "takes" in fields:
        return "slow_operation"
    if message[:5].lower() == "slow ":
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


def _parse_rocks(line: str) -> TikvLogEvent:
    """``[time][thread][LEVEL] [file:line] message`` (tikv_util logger ``RocksFormat``)."""
    match = _ROCKS_LINE.match(line)
    if match is None:
        raise _Malformed
    level = LEVELS.get(match.group(3))
    if level is None:
        raise _Malformed
    rest = match.group(4)
    source = ""
    if rest.startswith("["):
        close = rest.find("] ")
        if close > 0:
            source, rest = rest[1:close], rest[close + 2 :]
    fields = {"thread_id": match.group(2)}
    return _event(line, _parse_time(match.group(1)), level, source, rest, fields)


def parse_line(line: str) -> TikvLogEvent | None:
    """One TiKV log line -> ``LogEvent`` (aware ``time``), or ``None`` when it is not one."""
    try:
        text = line.rstrip("\r\n")
        stripped = text.lstrip()
        if stripped.startswith("{"):
            event = _parse_json(stripped)
        elif stripped.startswith("["):
            close = stripped.find("]")
            if stripped[close + 1 : close + 2] == "[":
                event = _parse_rocks(stripped)
            else:
                event = _parse_unified(stripped)
        else:
            raise _Malformed
    except Exception:
        stats.unparsed += 1
        return None
    stats.parsed += 1
    return event
