"""How findings name stores, ratios and lists of store ids in their messages."""

from __future__ import annotations

from collections.abc import Iterable

from operator_tikv.records import TikvStore


def label(store: TikvStore) -> str:
    return f"store {store.id} ({store.address})" if store.address else f"store {store.id}"


def pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def ids(store_ids: Iterable[int]) -> str:
    ordered = sorted(store_ids)
    shown = ", ".join(str(i) for i in ordered[:8])
    return shown + (f" and {len(ordered) - 8} more" if len(ordered) > 8 else "")
