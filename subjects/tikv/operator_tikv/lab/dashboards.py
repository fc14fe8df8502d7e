"""TiKV's and PD's official Grafana dashboards in the lab, fetched at ``up`` time.

TiKV users know ``TiKV-Details`` and ``PD`` from their own Grafana, so the lab shows those next to
the project's dashboard. They are not shipped (they are TiKV's files, hundreds of kilobytes):
``deploy local up`` downloads them from the release tag that matches the lab's ``pingcap/tikv``
and ``pingcap/pd`` images into ``grafana/official`` of the lab's state directory, once per tag.
They are exported with a ``${DS_TEST-CLUSTER}`` datasource input, which file provisioning does
not fill in, so that input is replaced by the lab's Prometheus datasource. When a download fails
(offline, a tag without the file) the lab still comes up with the project's own dashboard and
``up`` prints one line saying so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from operator_tikv.lab.compose_file import ComposeLab

DATASOURCE_NAME = "Prometheus (operator-tikv)"
"""The name in ``grafana/provisioning/datasources/prometheus.yaml``."""
EXPORT_INPUT = "${DS_TEST-CLUSTER}"
RAW_URL = "https://raw.githubusercontent.com/{repo}/{tag}/{path}"
OFFICIAL_DIR = Path("grafana") / "official"
TAG_FILE = ".tag"
TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class Official:
    image: str
    repo: str
    path: str
    file: str


OFFICIAL = (
    Official("pingcap/tikv", "tikv/tikv", "metrics/grafana/tikv_details.json", "tikv_details.json"),
    Official("pingcap/pd", "tikv/pd", "metrics/grafana/pd.json", "pd.json"),
)


class DashboardError(Exception):
    pass


def image_tags(compose_file: Path) -> dict[str, str]:
    """``{"pingcap/tikv": "v8.5.4", ...}``: the tag of each image the compose file names."""
    doc = yaml.safe_load(compose_file.read_text(encoding="utf-8")) or {}
    tags: dict[str, str] = {}
    for spec in (doc.get("services") or {}).values():
        image = str((spec or {}).get("image") or "")
        name, sep, tag = image.rpartition(":")
        if sep and "/" not in tag:
            tags.setdefault(name, tag)
    return tags


def adapt(text: str) -> dict[str, Any]:
    """An exported official dashboard made ready for file provisioning on the lab's datasource."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise DashboardError(f"not JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("panels"), list):
        raise DashboardError("not a Grafana dashboard (no panels)")
    doc.pop("__inputs", None)
    doc["id"] = None
    return _replace_input(doc)


def _replace_input(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _replace_input(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_input(v) for v in value]
    if isinstance(value, str) and EXPORT_INPUT in value:
        return value.replace(EXPORT_INPUT, DATASOURCE_NAME)
    return value


def sources(lab: ComposeLab) -> list[tuple[Official, str, str]]:
    """Each official dashboard with its pinned tag and URL (from the lab's image tags)."""
    tags = image_tags(lab.path)
    out = []
    for official in OFFICIAL:
        tag = tags.get(official.image)
        if tag is None:
            raise DashboardError(f"{lab.path.name} names no {official.image} image to pin a tag")
        out.append((official, tag, RAW_URL.format(repo=official.repo, tag=tag, path=official.path)))
    return out


async def provision_official(
    http: httpx.AsyncClient, directory: Path, lab: ComposeLab
) -> str | None:
    """Download the official dashboards into ``directory/grafana/official`` unless the pinned
    tags are there already; ``None`` when they are in place, else the one-line notice."""
    target = directory / OFFICIAL_DIR
    try:
        wanted = sources(lab)
        pins = " ".join(f"{o.repo}@{tag}" for o, tag, _ in wanted)
        if _pinned(target) == pins and all((target / o.file).is_file() for o, _, _ in wanted):
            return None
        fetched = {}
        for official, _tag, url in wanted:
            try:
                resp = await http.get(url, timeout=TIMEOUT_S, follow_redirects=True)
                resp.raise_for_status()
            except httpx.HTTPError as exc:
                raise DashboardError(f"{url}: {type(exc).__name__} {exc}".strip()) from None
            try:
                fetched[official.file] = adapt(resp.text)
            except DashboardError as exc:
                raise DashboardError(f"{url}: {exc}") from None
        target.mkdir(parents=True, exist_ok=True)
        for name, doc in fetched.items():
            (target / name).write_text(json.dumps(doc, indent=1), encoding="utf-8")
        (target / TAG_FILE).write_text(pins + "\n", encoding="utf-8")
    except (DashboardError, OSError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"official TiKV/PD dashboards not downloaded ({first}); Grafana shows the project's dashboard"
    return None


def _pinned(target: Path) -> str:
    try:
        return (target / TAG_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return ""
