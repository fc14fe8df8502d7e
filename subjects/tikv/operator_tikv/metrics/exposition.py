"""Prometheus text exposition: parsing (prometheus_client's parser) and the PromQL maths we redo.

``histogram_quantile`` follows Prometheus' ``bucketQuantile`` (promql/quantile.go):
buckets sorted by ``le``, cumulative counts made monotonic, the rank found by
linear interpolation inside its bucket, the lowest bucket starting at 0, and a
rank that falls in the ``+Inf`` bucket answered with the highest finite bound.
Counter increases handle resets the way ``rate()`` does: a drop means the
counter restarted, and the new value is the increase.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

Labels = tuple[tuple[str, str], ...]
LabelFilter = Callable[[dict[str, str]], bool]


@dataclass(slots=True)
class Scrape:
    """Samples of one ``/metrics`` read, by sample name (``x_bucket``, ``x_total``, ...)."""

    at: float
    samples: dict[str, dict[Labels, float]] = field(default_factory=dict)

    def series(self, name: str) -> dict[Labels, float]:
        return self.samples.get(name, {})

    def select(self, name: str, where: LabelFilter | None = None) -> dict[Labels, float]:
        out = self.series(name)
        if where is None:
            return out
        return {k: v for k, v in out.items() if where(dict(k))}

    def total(self, name: str, where: LabelFilter | None = None) -> float | None:
        values = self.select(name, where)
        return sum(values.values()) if values else None

    def max(self, name: str, where: LabelFilter | None = None) -> float | None:
        values = self.select(name, where)
        return max(values.values()) if values else None


LinePredicate = Callable[[str], bool]


def _wanted_lines(text: str, families: Mapping[str, LinePredicate | None]) -> str:
    """Keep only the samples we read: the parser is pure Python and a TiKV page has thousands."""
    prefixes = tuple(families)
    kept = []
    for line in text.splitlines():
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE") and parts[2].startswith(prefixes):
                kept.append(line)
        elif line.startswith(prefixes):
            for prefix, keep in families.items():
                if line.startswith(prefix):
                    if keep is None or keep(line):
                        kept.append(line)
                    break
    kept.append("")
    return "\n".join(kept)


def parse_exposition(
    text: str,
    at: float,
    families: Iterable[str] | Mapping[str, LinePredicate | None] | None = None,
) -> Scrape:
    """Parse a text exposition, optionally only some families (and lines of them).

    Raises ``ValueError`` on text that is not an exposition.
    """
    if families is not None:
        if not isinstance(families, Mapping):
            families = dict.fromkeys(families)
        text = _wanted_lines(text, families)
    scrape = Scrape(at=at)
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                key = tuple(sorted(sample.labels.items()))
                scrape.samples.setdefault(sample.name, {})[key] = float(sample.value)
    except Exception as exc:
        raise ValueError(f"not a Prometheus text exposition: {exc}") from None
    return scrape


def counter_increase(previous: float | None, current: float) -> float:
    """Increase of one counter series between two reads, a drop meaning a restart."""
    if previous is None:
        return 0.0
    return current if current < previous else current - previous


def increase(
    prev: Scrape, cur: Scrape, name: str, where: LabelFilter | None = None
) -> dict[Labels, float] | None:
    """Per-series increase between two scrapes; ``None`` when the name is absent from both."""
    now = cur.select(name, where)
    if not now:
        return None
    before = prev.select(name, where)
    return {k: counter_increase(before.get(k, 0.0), v) for k, v in now.items()}


def rate(prev: Scrape, cur: Scrape, name: str, where: LabelFilter | None = None) -> float | None:
    """``sum(rate(name{where}))`` over the interval between two scrapes."""
    dt = cur.at - prev.at
    if dt <= 0:
        return None
    inc = increase(prev, cur, name, where)
    if inc is None:
        return None
    return sum(inc.values()) / dt


def _parse_le(value: str) -> float:
    return math.inf if value in ("+Inf", "Inf", "inf") else float(value)


def bucket_counts(series: dict[Labels, float]) -> dict[float, float]:
    """``sum(...) by (le)`` of ``_bucket`` series."""
    out: dict[float, float] = {}
    for labels, value in series.items():
        le = dict(labels).get("le")
        if le is None:
            continue
        bound = _parse_le(le)
        out[bound] = out.get(bound, 0.0) + value
    return out


def histogram_quantile(q: float, buckets: dict[float, float]) -> float | None:
    """Prometheus ``histogram_quantile`` over ``{upper bound: cumulative count}``; None for NaN."""
    if math.isnan(q):
        return None
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    if not buckets or math.inf not in buckets:
        return None
    bounds = sorted(buckets)
    counts = [buckets[b] for b in bounds]
    for i in range(1, len(counts)):
        if counts[i] < counts[i - 1]:
            counts[i] = counts[i - 1]
    if len(bounds) < 2:
        return None
    observations = counts[-1]
    if observations == 0 or math.isnan(observations):
        return None
    rank = q * observations
    b = next(i for i, c in enumerate(counts) if c >= rank)
    if b == len(bounds) - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    bucket_start = 0.0
    bucket_end = bounds[b]
    count = counts[b]
    if b > 0:
        bucket_start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    if count == 0:
        return bucket_start
    return bucket_start + (bucket_end - bucket_start) * (rank / count)


def quantile_between(
    prev: Scrape, cur: Scrape, name: str, q: float, where: LabelFilter | None = None
) -> float | None:
    """``histogram_quantile(q, sum(rate(name_bucket{where})) by (le))`` between two scrapes."""
    inc = increase(prev, cur, name + "_bucket", where)
    if inc is None:
        return None
    return histogram_quantile(q, bucket_counts(inc))
