"""TiKV unified-format log lines, kept per store in a bounded ring and optionally appended to a file.

Layout (tikv_util logger): ``[time] [LEVEL] [file.rs:LINE] [message] [k=v] ... [thread_id=N]``;
the message and values are JSON-quoted only when they hold a byte <= 0x20, ``"``, ``=``, ``[`` or ``]``.
Callers give the fields already in output order (the call's fields reversed, then the
logger context such as ``raft_id``/``peer_id``/``region_id``).
"""

from __future__ import annotations

import bisect
import json
from collections import deque
from pathlib import Path

from operator_tikv.sim.encode import log_time

_NEEDS_QUOTE = set('"=[]')


def quote(text: str) -> str:
    if any(ord(c) <= 0x20 or c in _NEEDS_QUOTE for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


def format_line(
    ts_ns: int,
    level: str,
    source: str,
    message: str,
    fields: list[tuple[str, object]],
    thread_id: int | None = None,
) -> str:
    parts = [f"[{log_time(ts_ns)}]", f"[{level}]", f"[{source}]", f"[{quote(message)}]"]
    for key, value in fields:
        if isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        parts.append(f"[{quote(key)}={quote(text)}]")
    if thread_id is not None:
        parts.append(f"[thread_id={thread_id}]")
    return " ".join(parts)


class StoreLog:
    """One store's recent log lines, time-ordered; ``since`` queries are a bisect."""

    def __init__(self, capacity: int, path: Path | None = None) -> None:
        self._times: deque[int] = deque(maxlen=capacity)
        self._lines: deque[str] = deque(maxlen=capacity)
        self._path = path
        self.total = 0

    def add(self, ts_ns: int, line: str) -> None:
        if self._times and ts_ns < self._times[-1]:
            ts_ns = self._times[-1]
        self._times.append(ts_ns)
        self._lines.append(line)
        self.total += 1
        if self._path is not None:
            with self._path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    def since(self, since_ns: int | None, limit: int) -> list[str]:
        times = list(self._times)
        start = 0 if since_ns is None else bisect.bisect_left(times, since_ns)
        lines = list(self._lines)[start:]
        if limit > 0 and len(lines) > limit:
            lines = lines[-limit:]
        return lines

    @property
    def last_ns(self) -> int:
        return self._times[-1] if self._times else 0

    def __len__(self) -> int:
        return len(self._lines)
