"""The TiKV families the simulator does not model, so that a store's page has a real one's size.

TiKV v8.5 registers about 450 metric families (``data/metric_index.json``, read from the
tikv/tikv sources); the simulator models about 60 of them. A scraper's cost is mostly the size
of the page, so with ``SimConfig.full_metrics_page`` each store also serves the others, with
their real names, HELP, types, label names and buckets, a few values per label and constant
values. The blocks are rendered once and shared by every store.
"""

from __future__ import annotations

import itertools
import json
import re
from functools import cache
from importlib import resources

from operator_tikv.sim.encode import exponential_buckets, rust_float
from operator_tikv.sim.metrics import TIKV_FAMILIES

# prometheus crate's DEFAULT_BUCKETS
_DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_KNOWN_VALUES = {
    "db": ("kv", "raft"),
    "cf": ("default", "lock", "write"),
    "level": ("0", "1", "2", "3", "4", "5", "6"),
    "priority": ("high", "low", "medium"),
    "result": ("err", "ok"),
    "success": ("false", "true"),
}
_MAX_SERIES = 12
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e-?\d+)?")


def _values(label: str) -> tuple[str, ...]:
    return _KNOWN_VALUES.get(label, (f"{label}_a", f"{label}_b", f"{label}_c"))


def buckets(spec: str | None) -> tuple[float, ...]:
    """Upper bounds from the Rust expression TiKV registers them with."""
    if not spec:
        return _DEFAULT_BUCKETS
    text = spec.replace("f64", "")
    product = re.search(r"(\d+(?:\.\d+)?)\s*\*\s*(\d+(?:\.\d+)?)", text)
    if product:
        text = text.replace(
            product.group(0), repr(float(product.group(1)) * float(product.group(2)))
        )
    numbers = [float(n) for n in _NUMBER.findall(text)]
    if text.startswith("exponential_buckets") and len(numbers) == 3:
        return tuple(exponential_buckets(numbers[0], numbers[1], int(numbers[2])))
    if text.startswith("linear_buckets") and len(numbers) == 3:
        start, width, count = numbers
        return tuple(start + width * i for i in range(int(count)))
    if text.startswith("vec!") and numbers:
        return tuple(sorted(numbers))
    return _DEFAULT_BUCKETS


def _render(name: str, spec: dict) -> str:
    kind = spec.get("type", "gauge")
    labels = sorted(spec.get("labels") or ())
    lines = [f"# HELP {name} {spec.get('help', name)}", f"# TYPE {name} {kind}"]
    combos = itertools.islice(itertools.product(*(_values(label) for label in labels)), _MAX_SERIES)
    bounds = buckets(spec.get("buckets")) if kind == "histogram" else ()
    for values in combos:
        inner = ",".join(f'{label}="{value}"' for label, value in zip(labels, values, strict=True))
        if kind != "histogram":
            lines.append(f"{name}{{{inner}}} 0" if inner else f"{name} 0")
            continue
        lead = inner + "," if inner else ""
        lines.extend(f'{name}_bucket{{{lead}le="{rust_float(b)}"}} 0' for b in bounds)
        lines.append(f'{name}_bucket{{{lead}le="+Inf"}} 0')
        tail = f"{{{inner}}}" if inner else ""
        lines.append(f"{name}_sum{tail} 0")
        lines.append(f"{name}_count{tail} 0")
    return "\n".join(lines)


@cache
def metric_index() -> dict[str, dict]:
    """TiKV's registered families (name -> type, help, labels, buckets), read from its source."""
    text = resources.files("operator_tikv.sim").joinpath("data/metric_index.json").read_text()
    return json.loads(text)


@cache
def unmodelled_blocks() -> dict[str, str]:
    """Family name -> its rendered lines (no trailing newline), for the families not modelled."""
    return {
        name: _render(name, spec)
        for name, spec in metric_index().items()
        if name not in TIKV_FAMILIES
    }
