"""A store's ``/metrics`` page: its registry and its derived families, cached per instant.

Families kept step by step and families derived at scrape time (``derived``) are merged
into one exposition in name order; a page is rendered once per simulated instant and
fault change, so the operator and a Prometheus reading the same store share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from operator_tikv.sim.derived import Derive, family
from operator_tikv.sim.engine_families import engine_families
from operator_tikv.sim.metrics import Registry
from operator_tikv.sim.raftstore_families import raftstore_families
from operator_tikv.sim.server_families import server_families

if TYPE_CHECKING:
    from operator_tikv.sim.store import Store


def render_page(store: Store, now_ns: int, extra: Mapping[str, str] | None = None) -> str:
    """The store's registry and its derived families as one exposition page, names in order."""
    d = Derive(store, now_ns)
    raftstore_families(d)
    engine_families(d)
    server_families(d)
    reg = store.registry
    names = set(d.values) | set(d.hists)
    families = dict(reg.families)
    for name in names:
        families.setdefault(name, family(name))
    merged = Registry(families)
    merged.values = dict(reg.values)
    merged.hists = dict(reg.hists)
    for name, series in d.values.items():
        merged.values[name] = {**reg.values.get(name, {}), **series}
    for name, hseries in d.hists.items():
        merged.hists[name] = {**reg.hists.get(name, {}), **hseries}
    return merged.render(extra=extra)


def page(
    store: Store, instant: tuple[int, int, int], extra: Mapping[str, str] | None = None
) -> str:
    """The rendered page, once per simulated ``instant`` (time, faults added, faults open):
    scrapes in between (Prometheus and the operator both reading a store) share it."""
    key = (*instant, bool(extra))
    cached = store.page_cache
    if cached is not None and cached[0] == key:
        return cached[1]
    text = render_page(store, instant[0], extra)
    store.page_cache = (key, text)
    return text
