"""A recording for other tools: its metrics as OpenMetrics text, its conclusions as JSON lines.

``metrics.om`` holds one gauge family per recorded figure (``operator_store_<field>``
by ``store``, ``operator_cluster_<field>``), every sample with its recorded timestamp,
each family's samples together as the format requires, ending in ``# EOF``: what
``promtool tsdb create-blocks-from openmetrics`` imports into a Prometheus TSDB (then
Grafana reads it). ``incidents.jsonl`` and ``diagnoses.jsonl`` are the recorded
``incident.*`` and ``diagnosis.finished``/``failed`` events, one JSON object a line with
``ts`` and ``event`` like the ``--no-ui`` output.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import IO, Any

from operator_tui.core.recording import RecordedEvent, Recording, at
from operator_tui.core.types import Snapshot

PREFIX = "operator"
UNSAFE = re.compile(r"[^a-zA-Z0-9_]")


def metric_name(*parts: str) -> str:
    name = "_".join(UNSAFE.sub("_", p) for p in (PREFIX, *parts) if p)
    return name if not name[0].isdigit() else f"_{name}"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _label(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def samples(snapshot: Snapshot) -> list[tuple[str, dict[str, str], float]]:
    """(family, labels, value) for every number the snapshot holds."""
    out: list[tuple[str, dict[str, str], float]] = []
    for store_id, m in sorted(snapshot.store_metrics.items()):
        for f in fields(m):
            if f.name == "store_id":
                continue
            value = getattr(m, f.name)
            if isinstance(value, dict):
                # A figure by key names its key's label in the field's metadata (a subject's
                # reason ``type``); undeclared keys are peers' store ids.
                label = f.metadata.get("label", "peer")
                for key, v in sorted(value.items(), key=lambda kv: str(kv[0])):
                    number = _number(v)
                    if number is not None:
                        out.append(
                            (
                                metric_name("store", f.name),
                                {"store": str(store_id), label: str(key)},
                                number,
                            )
                        )
                continue
            number = _number(value)
            if number is not None:
                out.append((metric_name("store", f.name), {"store": str(store_id)}, number))
    for store in snapshot.stores:
        labels = {"store": str(store.id)}
        out.append(
            (metric_name("store", "serving"), labels, 1.0 if store.health.level.answering else 0.0)
        )
    c = snapshot.cluster
    for name in ("stores_up", "stores_total", "qps", "p99_latency_ms"):
        number = _number(getattr(c, name))
        if number is not None:
            out.append((metric_name("cluster", name), {}, number))
    for name, value in sorted(c.figures.items()):
        number = _number(value)
        if number is not None:
            out.append((metric_name("cluster", name), {}, number))
    return out


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_label(v)}"' for k, v in labels.items()) + "}"


def write_openmetrics(recording: Recording, out: Path) -> int:
    """Every recorded tick's figures; returns the number of samples written."""
    count = 0
    with tempfile.TemporaryDirectory(prefix="operator-export-") as tmp:
        parts: dict[str, IO[str]] = {}
        try:
            for tick in recording.ticks():
                if tick.snapshot is None:
                    continue
                stamp = f"{tick.snapshot.taken_at.timestamp():.3f}"
                for family, labels, value in samples(tick.snapshot):
                    part = parts.get(family)
                    if part is None:
                        part = parts[family] = open(
                            Path(tmp) / f"{len(parts)}.om", "w", encoding="utf-8"
                        )
                    part.write(f"{family}{_labels(labels)} {value!r} {stamp}\n")
                    count += 1
        finally:
            for part in parts.values():
                part.close()
        with out.open("w", encoding="utf-8") as dest:
            for index, family in enumerate(parts):
                dest.write(f"# TYPE {family} gauge\n")
                with (Path(tmp) / f"{index}.om").open(encoding="utf-8") as src:
                    shutil.copyfileobj(src, dest)
            dest.write("# EOF\n")
    return count


def _line(event: RecordedEvent) -> str:
    ts = at(event.t).isoformat().replace("+00:00", "Z")
    return json.dumps({"ts": ts, "event": event.kind, **event.data}, default=str)


def write_jsonl(recording: Recording, out: Path, kinds: tuple[str, ...]) -> int:
    events = recording.events(kinds=kinds)
    with out.open("w", encoding="utf-8") as dest:
        for event in events:
            dest.write(_line(event) + "\n")
    return len(events)


def export_recording(recording: Recording, directory: Path) -> list[str]:
    """Write ``metrics.om``, ``incidents.jsonl`` and ``diagnoses.jsonl``; one line per file."""
    directory.mkdir(parents=True, exist_ok=True)
    metrics = write_openmetrics(recording, directory / "metrics.om")
    incidents = write_jsonl(recording, directory / "incidents.jsonl", ("incident.*",))
    diagnoses = write_jsonl(
        recording, directory / "diagnoses.jsonl", ("diagnosis.finished", "diagnosis.failed")
    )
    return [
        f"{directory / 'metrics.om'}: {metrics} samples",
        f"{directory / 'incidents.jsonl'}: {incidents} events",
        f"{directory / 'diagnoses.jsonl'}: {diagnoses} events",
    ]
