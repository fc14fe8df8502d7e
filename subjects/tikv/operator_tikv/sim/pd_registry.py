"""A PD member's metric registry: client_golang's text format, histograms whose first bound may be 0."""

from __future__ import annotations

from collections.abc import Callable

from operator_tikv.sim.metrics import Family, HistSeries, Registry, _cdf


class PdRegistry(Registry):
    """``Registry`` for Go processes; ``LinearBuckets(0, w, n)`` (PD's interval histograms) start at 0."""

    def merge(self, other: Registry) -> None:
        """Copy ``other``'s series in (counters and histograms a process keeps between scrapes)."""
        for name, series in other.values.items():
            self.values.setdefault(name, {}).update(series)
        for name, hist in other.hists.items():
            self.hists.setdefault(name, {}).update(hist)

    @staticmethod
    def _render_hist(
        out: list[str], fam: Family, inner: str, s: HistSeries, fmt: Callable[[float], str]
    ) -> None:
        positive = tuple(b for b in fam.buckets if b > 0)
        skipped = len(fam.buckets) - len(positive)
        acc = [0.0] * len(fam.buckets)
        for (median, sigma), n in s.dists.items():
            for k, c in enumerate(_cdf(positive, median, sigma) if positive else ()):
                acc[skipped + k] += n * c
        total = int(s.total)
        prev = 0
        lead = inner + "," if inner else ""
        for bound, value in zip(fam.buckets, acc, strict=True):
            count = min(max(int(value), prev), total)
            prev = count
            out.append(f'{fam.name}_bucket{{{lead}le="{fmt(bound)}"}} {count}')
        out.append(f'{fam.name}_bucket{{{lead}le="+Inf"}} {total}')
        tail = f"{{{inner}}}" if inner else ""
        out.append(f"{fam.name}_sum{tail} {fmt(s.sum)}")
        out.append(f"{fam.name}_count{tail} {total}")
