"""What a store did, integrated over simulated time, from which its derived metric families are read.

A step records a handful of figures per store (requests of each kind, the latency they
saw, CPU seconds); the hundreds of families a scrape shows are computed from them only when
the page is asked for (``derived``). Counts only grow, so every counter read from them is
monotonic; latencies keep the same lazy (median, spread) histories as ``metrics.HistSeries``
so a slow disk an hour ago still shows in the buckets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from operator_tikv.sim.metrics import HistSeries, quantize


@dataclass(slots=True)
class Signals:
    """Cumulative counts, current rates and latency histories of one store's activity."""

    counts: dict[str, float] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)
    medians: dict[str, float] = field(default_factory=dict)
    hists: dict[str, HistSeries] = field(default_factory=dict)

    def add(self, name: str, n: float, dt: float, median: float = 0.0, sigma: float = 0.6) -> None:
        """``n`` events in ``dt`` seconds; with ``median`` (seconds) their latency is kept too."""
        self.counts[name] = self.counts.get(name, 0.0) + n
        self.rates[name] = n / dt if dt > 0 else 0.0
        if median <= 0:
            return
        self.medians[name] = median
        if n <= 0:
            return
        series = self.hists.get(name)
        if series is None:
            series = self.hists[name] = HistSeries()
        key = (quantize(median), sigma)
        series.dists[key] = series.dists.get(key, 0.0) + n
        series.total += n
        series.sum += n * key[0] * math.exp(sigma * sigma / 2.0)

    def count(self, name: str) -> float:
        return self.counts.get(name, 0.0)

    def rate(self, name: str) -> float:
        return self.rates.get(name, 0.0)

    def median(self, name: str, default: float = 0.0) -> float:
        return self.medians.get(name, default)
