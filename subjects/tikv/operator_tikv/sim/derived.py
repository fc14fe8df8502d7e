"""The families a store's page derives from its ``Signals`` when scraped: metadata and builder.

Families kept step by step in the store's ``Registry`` cost every store every simulated
second; the ones here cost nothing until a scrape asks for them, and a page is rendered at
most once per simulated instant (``page``). Names, types, label names, HELP texts and
buckets come from ``metrics.TIKV_FAMILIES`` or else from TiKV's own registrations
(``data/metric_index.json``, read from the tikv/tikv v8.5 sources); the label values and
the numbers come from the modules named for what they hold (``raftstore_families``,
``engine_families``, ``server_families``); ``store_page`` puts the page together.
"""

from __future__ import annotations

import math
from functools import cache
from typing import TYPE_CHECKING

from operator_tikv.sim.background import buckets, metric_index
from operator_tikv.sim.metrics import TIKV_FAMILIES, Family, HistSeries, quantize
from operator_tikv.sim.signals import Signals

if TYPE_CHECKING:
    from operator_tikv.sim.store import Store

# Gauges TiKV registers as float ``Gauge`` rather than ``IntGauge``.
FLOAT_GAUGES = frozenset(
    {
        "tikv_thread_cpu_seconds_total",
        "tikv_engine_compression_ratio",
        "tikv_scheduler_discard_ratio",
        "tikv_storage_process_stat_cpu_usage",
        "tikv_scheduler_l0_avg",
    }
)


@cache
def family(name: str) -> Family:
    """The family as the simulator declares it, else as TiKV registers it."""
    known = TIKV_FAMILIES.get(name)
    if known is not None:
        return known
    spec = metric_index()[name]
    kind = spec["type"]
    return Family(
        name,
        kind,
        spec["help"],
        tuple(spec.get("labels") or ()),
        buckets(spec.get("buckets")) if kind == "histogram" else (),
        integer=kind != "histogram" and name not in FLOAT_GAUGES,
    )


class Derive:
    """One scrape's derived series: counters and gauges by label values, histograms lazily."""

    def __init__(self, store: Store, now_ns: int) -> None:
        self.store = store
        self.sig: Signals = store.signals
        self.now_ns = now_ns
        self.values: dict[str, dict[tuple[str, ...], float]] = {}
        self.hists: dict[str, dict[tuple[str, ...], HistSeries]] = {}

    def set(self, name: str, labels: tuple[str, ...], value: float) -> None:
        self.values.setdefault(name, {})[labels] = value

    def hist(
        self,
        name: str,
        labels: tuple[str, ...],
        signal: str,
        share: float = 1.0,
        factor: float = 1.0,
    ) -> None:
        """A histogram of ``share`` of a signal's events, each ``factor`` times its latency."""
        src = self.sig.hists.get(signal)
        out = HistSeries()
        if src is not None and share > 0:
            for (median, sigma), n in src.dists.items():
                key = (quantize(median * factor), sigma)
                out.dists[key] = out.dists.get(key, 0.0) + n * share
            out.total = src.total * share
            out.sum = src.sum * share * factor
        self.hists.setdefault(name, {})[labels] = out

    def hist_of(
        self, name: str, labels: tuple[str, ...], n: float, median: float, sigma: float = 0.6
    ) -> None:
        """A histogram of ``n`` observations of a quantity whose median does not drift."""
        out = HistSeries()
        if n > 0:
            key = (quantize(median), sigma)
            out.dists[key] = n
            out.total = n
            out.sum = n * key[0] * math.exp(sigma * sigma / 2.0)
        self.hists.setdefault(name, {})[labels] = out
