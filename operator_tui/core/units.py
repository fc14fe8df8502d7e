"""Figures in a unit that keeps them short (``850µs``, ``5.74s``, ``1.50MiB/s``, ``12.3k``) and
in words (``queue wait p99: 1.80s, usually 0``).

Neutral: the words and units come from the subject's ``Measure`` declarations, so core's
narrative and every front end write a figure the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from operator_tui.core.subject import Measure
from operator_tui.core.text import plain


def count(value: float | None, digits: int = 0) -> str:
    """A count with ``k``/``M``/``G``/``T`` past 9999: ``9999``, ``12.3k``, ``123k``, ``1.23M``.

    At most 6 characters (7 with a sign) whatever the value; ``digits`` decimals below 10 000.
    """
    if value is None:
        return "-"
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    sign = "-" if value < 0 else ""
    size = abs(value)
    if size < 10_000:
        text = f"{size:.{digits}f}"
        if len(text) <= 6:
            return sign + text
        return sign + f"{size:.0f}"
    for suffix in ("k", "M", "G", "T", "P"):
        size /= 1000
        if size < 999.5:
            return sign + _three_figures(size) + suffix
    return sign + f"{abs(value):.0e}".replace("+", "")


def num(value: float | None, digits: int = 0) -> str:
    """A figure without a unit (kept for callers): ``count``."""
    return count(value, digits)


def _three_figures(size: float) -> str:
    """``1.23``, ``12.3``, ``123``: three significant figures, never more than 4 characters."""
    if size < 9.995:
        return f"{size:.2f}"
    if size < 99.95:
        return f"{size:.1f}"
    return f"{size:.0f}"


def duration_s(seconds: float | None) -> str:
    """A duration in the unit that keeps it short: ``850µs``, ``5.70ms``, ``57.4ms``,
    ``5.74s``, ``2m03s``, ``3h05m``, ``4d02h``; at most 6 characters."""
    if seconds is None or math.isnan(seconds):
        return "-"
    if math.isinf(seconds):
        return "∞"
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if s == 0:
        return "0"
    if s < 1e-6:
        return sign + "<1µs"
    if s < 1e-3:
        return (
            sign + f"{s * 1e6:.0f}µs" if s * 1e6 >= 99.5 else sign + _three_figures(s * 1e6) + "µs"
        )
    if s < 0.9995:
        return sign + _three_figures(s * 1e3) + "ms"
    if s < 59.95:
        return sign + _three_figures(s) + "s"
    whole = round(s)
    if whole < 3600:
        return sign + f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86400:
        return sign + f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    days = whole // 86400
    if days < 100:
        return sign + f"{days}d{whole % 86400 // 3600:02d}h"
    return sign + f"{count(days)}d"


def ms(value: float | None) -> str:
    """Milliseconds shown in their own unit: ``850µs``, ``5.70ms``, ``5.74s``, ``2m03s``."""
    return "-" if value is None else duration_s(value / 1000)


def pct(ratio: float | None) -> str:
    """A ratio as a percentage: ``0%``, ``<1%``, ``95%``, ``100%``; at most 5 characters (past
    9999% a count)."""
    if ratio is None or math.isnan(ratio):
        return "-"
    value = ratio * 100
    if 0 < value < 0.5:
        return "<1%"
    if value < 10_000:
        return f"{value:.0f}%"
    return count(value) + "%"


BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def size(value: float | None) -> str:
    """Bytes with a binary unit: ``512B``, ``1.50KiB``, ``15.0MiB``, ``123GiB``; at most 7 characters."""
    if value is None or math.isnan(value):
        return "-"
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if amount < 1024:
        return sign + f"{amount:.0f}B"
    for unit in BINARY_UNITS[1:]:
        amount /= 1024
        if amount < 1023.5:
            return sign + (f"{amount:.0f}" if amount >= 99.95 else _three_figures(amount)) + unit
    return sign + f"{abs(value):.0e}".replace("+", "") + "B"


def rate_bytes(value: float | None) -> str:
    """Bytes per second with a binary unit: ``1.50MiB/s``."""
    return "-" if value is None else size(value) + "/s"


def per_s(value: float | None) -> str:
    """Events per second: ``0.25/s``, ``12.3k/s``."""
    if value is None:
        return "-"
    if value != 0 and abs(value) < 10:
        return f"{value:.2f}/s"
    return count(value) + "/s"


UNITS = ("", "count", "ms", "us", "s", "ratio", "bytes", "bytes/s", "/s")
"""The units a subject declares for its figures (``core.subject.Measure.unit``)."""


def scaled(value: float | None, unit: str = "", digits: int = 0) -> str:
    """A figure in its unit scaled to stay short; an unknown unit is written after a count."""
    if value is None:
        return "-"
    if unit == "ms":
        return ms(value)
    if unit == "us":
        return duration_s(value / 1e6)
    if unit == "s":
        return duration_s(value)
    if unit == "ratio":
        return pct(value)
    if unit == "bytes":
        return size(value)
    if unit == "bytes/s":
        return rate_bytes(value)
    if unit == "/s":
        return per_s(value)
    if unit in ("", "count"):
        return count(value, digits)
    return f"{count(value, digits)} {plain(unit, limit=12)}"


CORE_MEASURES: tuple[Measure, ...] = (
    Measure("reachable", "reachable (its figures could be read)", "ratio"),
    Measure("qps", "requests", "/s"),
    Measure("p99_latency_ms", "p99 latency", "ms"),
    Measure("p99_write_latency_ms", "p99 write latency", "ms"),
    Measure("cpu_ratio", "CPU", "ratio"),
    Measure("used_ratio", "disk used", "ratio"),
)
"""Words for core's own per-store figures (``StoreMetrics``, the ``reachable`` move the
diagnosis context records), used when the subject declares nothing for them."""


def in_words(
    name: str, value: float | None, baseline: float | None, measures: Sequence[Measure]
) -> str:
    """``queue wait p99: 1.80s, usually 0``: a figure named and scaled as the subject
    declares it, else as core words its own figures, else its name and a count."""
    measure = next((m for m in (*measures, *CORE_MEASURES) if m.name == name), None)
    words = measure.words if measure is not None else name
    unit = measure.unit if measure is not None else ""
    text = f"{words}: {scaled(value, unit, 2 if unit in ('', 'count') else 0)}"
    if baseline is not None:
        text += f", usually {scaled(baseline, unit, 2 if unit in ('', 'count') else 0)}"
    return text
