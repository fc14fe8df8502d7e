"""Region boundary keys: integer positions rendered as TiDB-style memcomparable keys in upper hex.

A position ``p`` in ``[0, KEYSPACE]`` stands for the record key ``t{table}_r{handle}`` with
``table = TABLE_BASE + (p >> 32)`` and ``handle = p & 0xFFFFFFFF`` (handle 0 is the table
prefix alone). Position 0 and ``KEYSPACE`` are the empty key (-inf / +inf). Keeping positions
as integers makes a million regions cheap to store and splits a plain midpoint.
"""

from __future__ import annotations

KEYSPACE = 1 << 48
TABLE_BASE = 100
_SIGN = 1 << 63


def _int_bytes(value: int) -> bytes:
    return (value ^ _SIGN).to_bytes(8, "big")


def memcomparable(raw: bytes) -> bytes:
    """TiDB ``codec.EncodeBytes``: 8-byte groups each followed by ``0xFF - padding``."""
    out = bytearray()
    for i in range(0, len(raw) + 1, 8):
        group = raw[i : i + 8]
        pad = 8 - len(group)
        out += group + b"\x00" * pad + bytes([0xFF - pad])
        if pad:
            break
    return bytes(out)


def raw_key(pos: int) -> bytes:
    table, handle = TABLE_BASE + (pos >> 32), pos & 0xFFFFFFFF
    raw = b"t" + _int_bytes(table)
    if handle:
        raw += b"_r" + _int_bytes(handle)
    return raw


def key_hex(pos: int) -> str:
    if pos <= 0 or pos >= KEYSPACE:
        return ""
    return memcomparable(raw_key(pos)).hex().upper()


def decode_hex(text: str) -> int | None:
    """Inverse of ``key_hex`` for keys this module produced; ``None`` for other keys."""
    if text == "":
        return 0
    try:
        data = bytes.fromhex(text)
    except ValueError:
        return None
    raw = bytearray()
    for i in range(0, len(data), 9):
        group = data[i : i + 9]
        if len(group) != 9:
            return None
        pad = 0xFF - group[8]
        raw += group[: 8 - pad]
        if pad:
            break
    if len(raw) < 9 or raw[0:1] != b"t":
        return None
    table = int.from_bytes(raw[1:9], "big") ^ _SIGN
    handle = 0
    if len(raw) >= 19 and raw[9:11] == b"_r":
        handle = int.from_bytes(raw[11:19], "big") ^ _SIGN
    pos = ((table - TABLE_BASE) << 32) | handle
    return pos if 0 <= pos <= KEYSPACE else None
