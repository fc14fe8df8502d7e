"""Go and Rust value encodings PD and TiKV put on the wire, reproduced byte for byte.

PD is Go: sizes come from go-units ``BytesSize``, durations from
``time.Duration.String``, times from ``time.Time.MarshalJSON`` (RFC 3339 with
trimmed nanoseconds), JSON from ``encoding/json`` (indented) or easyjson
(compact), Prometheus values from ``expfmt`` (``%g``-like). TiKV is Rust: its
Prometheus values use ``Display`` for f64 (shortest round-trip, no exponent).
"""

from __future__ import annotations

import json
import math
import time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from operator_tikv.encoding import format_bytes
from operator_tikv.encoding import parse_go_duration as _parse_seconds

NS = 1_000_000_000


@lru_cache(maxsize=8192)
def bytes_size(n: float) -> str:
    """go-units ``BytesSize``: ``"311.7GiB"``, ``"0B"``, ``"1.745TiB"`` (``%.4g``, no space)."""
    return format_bytes(n)


def _frac(value: int, digits: int) -> str:
    whole, rest = divmod(value, 10**digits)
    tail = f"{rest:0{digits}d}".rstrip("0")
    return f"{whole}.{tail}" if tail else str(whole)


@lru_cache(maxsize=8192)
def go_duration(ns: int) -> str:
    """Go ``time.Duration.String``: ``"30m0s"``, ``"36m20.480549971s"``, ``"10ms"``, ``"0s"``."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(int(ns))
    if u < NS:
        if u < 1_000:
            return f"{sign}{u}ns"
        if u < 1_000_000:
            return f"{sign}{_frac(u, 3)}µs"
        return f"{sign}{_frac(u, 6)}ms"
    sec, frac = divmod(u, NS)
    s_part = _frac(sec % 60 * NS + frac, 9) + "s"
    mins = sec // 60
    if mins == 0:
        return sign + s_part
    m_part = f"{mins % 60}m"
    hours = mins // 60
    if hours == 0:
        return sign + m_part + s_part
    return f"{sign}{hours}h{m_part}{s_part}"


def parse_go_duration(text: str) -> int:
    """Go ``time.ParseDuration`` (``"1h30m"``, ``"60s"``) to nanoseconds; ``ValueError`` in Go's words."""
    try:
        seconds = _parse_seconds(text)
    except ValueError:
        raise ValueError(f'time: invalid duration "{text}"') from None
    return round(seconds * NS)


@lru_cache(maxsize=8192)
def rfc3339(ns: int) -> str:
    """Go ``time.Time`` JSON in UTC: ``"2024-12-25T03:41:23.480549971Z"`` (trailing zeros trimmed)."""
    sec, frac = divmod(int(ns), NS)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    tail = f"{frac:09d}".rstrip("0")
    return f"{base}.{tail}Z" if tail else f"{base}Z"


def go_time_string(ns: int, mono_ns: int | None = None) -> str:
    """Go ``time.Time.String`` as PD prints operator times: ``2024-12-25 03:41:30.1235 +0000 UTC m=+2187.000043212``."""
    if ns <= 0:
        return "0001-01-01 00:00:00 +0000 UTC"
    sec, frac = divmod(int(ns), NS)
    base = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(sec))
    tail = f"{frac:09d}".rstrip("0")
    text = f"{base}.{tail}" if tail else base
    text += " +0000 UTC"
    if mono_ns is not None:
        msec, mfrac = divmod(abs(mono_ns), NS)
        text += f" m={'-' if mono_ns < 0 else '+'}{msec}.{mfrac:09d}"
    return text


def log_time(ns: int) -> str:
    """TiKV log timestamp ``2024/12/25 03:41:23.480 +00:00`` (UTC, milliseconds)."""
    sec, frac = divmod(int(ns), NS)
    return time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(sec)) + f".{frac // 1_000_000:03d} +00:00"


def go_json_value(value: Any) -> Any:
    """Normalise floats the way Go prints them: integral floats lose their ``.0``."""
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e21:
            return int(value)
        return value
    if isinstance(value, dict):
        return {k: go_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [go_json_value(v) for v in value]
    return value


_encode_str = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _scalar(value: Any) -> str | None:
    t = type(value)
    if t is str:
        return _encode_str(value)
    if t is int:
        return int.__repr__(value)
    if t is bool:
        return "true" if value else "false"
    if t is float:
        if math.isfinite(value) and value == int(value) and abs(value) < 1e21:
            return int.__repr__(int(value))
        return float.__repr__(value)
    if value is None:
        return "null"
    return None


def _emit(value: Any, depth: int, out: list[str]) -> None:
    """Scalars are rendered inline in the loop: one call per container, not per value."""
    enc = _encode_str
    t = type(value)
    if t is dict:
        items: Any = ((f"{enc(k)}: ", v) for k, v in value.items())
        opening, closing = "{", "}"
    elif t is list or t is tuple:
        items = (("", v) for v in value)
        opening, closing = "[", "]"
    else:
        out.append(_scalar_or_json(value))
        return
    if not value:
        out.append(opening + closing)
        return
    pad = "\n" + "  " * (depth + 1)
    out.append(opening)
    for prefix, item in items:
        it = type(item)
        if it is str:
            out.append(f"{pad}{prefix}{enc(item)},")
        elif it is int:
            out.append(f"{pad}{prefix}{int.__repr__(item)},")
        elif it is dict or it is list or it is tuple:
            out.append(pad + prefix)
            _emit(item, depth + 1, out)
            out.append(",")
        else:
            out.append(f"{pad}{prefix}{_scalar_or_json(item)},")
    out[-1] = out[-1][:-1] + "\n" + "  " * depth + closing


def _scalar_or_json(value: Any) -> str:
    text = _scalar(value)
    if text is None:
        return json.dumps(go_json_value(value), ensure_ascii=False)
    return text


def indented(value: Any) -> bytes:
    """``encoding/json`` ``MarshalIndent(v, "", "  ")`` plus the newline unrolled/render appends.

    Same text as ``json.dumps(v, indent=2)`` after Go's float rules, written by a direct
    recursive emitter because the stdlib's indenting encoder is pure Python and slow.
    """
    out: list[str] = []
    _emit(value, 0, out)
    out.append("\n")
    return "".join(out).encode()


def compact(value: Any) -> bytes:
    """easyjson output: compact, no trailing newline."""
    return json.dumps(go_json_value(value), separators=(",", ":"), ensure_ascii=False).encode()


def rust_float(value: float) -> str:
    """Rust ``Display`` for f64 as the prometheus crate prints sample values and bucket bounds."""
    if value == math.inf:
        return "+Inf"
    if value == -math.inf:
        return "-Inf"
    if math.isnan(value):
        return "NaN"
    if value == int(value) and abs(value) < 1e17:
        return str(int(value))
    return format(Decimal(repr(float(value))), "f")


def go_float(value: float) -> str:
    """client_golang ``expfmt`` sample values: ``strconv.FormatFloat(v, 'g', -1, 64)`` (``1e+06``).

    Shortest round-trip digits (Python's ``repr`` gives the same digits), in plain notation
    for exponents -4..5 and ``d.ddde±XX`` otherwise.
    """
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    mag = abs(value)
    if 1e-4 <= mag < 1e6:
        return str(int(value)) if value == int(value) else repr(float(value))
    text = repr(float(mag))
    if "e" in text:
        mantissa, _, exp_text = text.partition("e")
        digits = mantissa.replace(".", "")
        exp = int(exp_text)
    else:
        whole, _, frac = text.partition(".")
        digits = whole + ("" if frac == "0" else frac)
        exp = len(whole) - 1
    digits = digits.rstrip("0") or "0"
    body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{'-' if value < 0 else ''}{body}e{'-' if exp < 0 else '+'}{abs(exp):02d}"


def exponential_buckets(start: float, factor: float, count: int) -> list[float]:
    """Same arithmetic as the prometheus crate's ``exponential_buckets`` (repeated multiply)."""
    out: list[float] = []
    nxt = start
    for _ in range(count):
        out.append(nxt)
        nxt *= factor
    return out
