"""Deterministic noise keyed by names and times: variation without draws from the seeded RNG."""

from __future__ import annotations

import hashlib


def stable_int(*parts: object) -> int:
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def jitter(*parts: object) -> float:
    """A deterministic factor in [0.85, 1.15) from the given parts (no RNG state consumed)."""
    return 0.85 + (stable_int(*parts) % 10_000) / 10_000 * 0.3
