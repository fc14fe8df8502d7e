"""Go encodings PD writes into its JSON: go-units byte sizes and ``time.Duration`` strings."""

from __future__ import annotations

import math
import re
from functools import lru_cache

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)*)\s?([kKmMgGtTpPeEzZyY])?[iI]?[bB]?\s*$")
_SIZE_POWERS = {None: 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6, "z": 7, "y": 8}

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
# What Go's Duration.String() writes: "1h0m58.155720243s", "36m20.48s", "10ms".
_DURATION_HMS = re.compile(r"(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?")
_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_byte_size(value: str | int | float) -> int:
    """``"311.7GiB"`` -> bytes, as go-units ``RAMInBytes`` reads it (base 1024, unit optional)."""
    if isinstance(value, bool):
        raise ValueError(f"not a byte size: {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"not a byte size: {value!r}")
        return int(value)
    if not isinstance(value, str):
        raise ValueError(f"not a byte size: {value!r}")
    return parse_size_text(value)


@lru_cache(maxsize=4096)
def parse_size_text(value: str) -> int:
    """Sizes repeat across stores and ticks (three per store per tick): cached."""
    match = _SIZE.match(value)
    if match is None:
        raise ValueError(f"not a byte size: {value!r}")
    number = float(match.group(1)) if match.group(1).count(".") <= 1 else None
    if number is None:
        raise ValueError(f"not a byte size: {value!r}")
    unit = match.group(2).lower() if match.group(2) else None
    size = number * 1024 ** _SIZE_POWERS[unit]
    if not math.isfinite(size):
        raise ValueError(f"byte size out of range: {value!r}")
    return int(size)


def parse_go_duration(value: str | int | float) -> float:
    """``"36m20.48s"`` / ``"1h0m0s"`` / ``"10ms"`` -> seconds, as ``time.ParseDuration`` reads it."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        try:
            return float(value) / 1e9
        except OverflowError:
            raise ValueError(f"duration out of range: {value!r}") from None
    if not isinstance(value, str):
        raise ValueError(f"not a duration: {value!r}")
    common = _DURATION_HMS.fullmatch(value)
    if common is not None and value:
        hours, minutes, seconds = common.groups()
        return (
            (int(hours) * 3600.0 if hours else 0.0)
            + (int(minutes) * 60.0 if minutes else 0.0)
            + (float(seconds) if seconds else 0.0)
        )
    text = value.strip()
    sign = 1.0
    if text[:1] in "+-" and text:
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text == "0":
        return 0.0
    if not text:
        raise ValueError(f"not a duration: {value!r}")
    pos = 0
    total = 0.0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if match is None:
            raise ValueError(f"not a duration: {value!r}")
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    return sign * total


def format_bytes(n: float) -> str:
    """Bytes for people: ``1.5GiB``; the inverse of :func:`parse_byte_size` to four digits."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(size) < 1024 or unit == "PiB":
            return f"{size:.4g}{unit}"
        size /= 1024
    return f"{size:.4g}PiB"
