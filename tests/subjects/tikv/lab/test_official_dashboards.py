"""The official dashboards: pinned to the lab's image tags, adapted for provisioning, and a
one-line fallback when the download fails. Every HTTP answer here is a MockTransport's."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import yaml
from operator_tikv.lab import dashboards, files
from operator_tikv.lab.compose_file import ComposeLab

LAB = files.lab_source()


def _exported(title: str) -> str:
    return json.dumps(
        {
            "__inputs": [{"name": "DS_TEST-CLUSTER", "type": "datasource"}],
            "id": 12,
            "title": title,
            "panels": [{"datasource": "${DS_TEST-CLUSTER}", "targets": [{"expr": "up"}]}],
            "templating": {"list": [{"datasource": "${DS_TEST-CLUSTER}", "name": "instance"}]},
        }
    )


def _json_files(folder: Path) -> list[Path]:
    return list(folder.rglob("*.json"))


def _lab() -> ComposeLab:
    return ComposeLab.load(LAB / "docker-compose.yml")


def test_tags_are_the_lab_images() -> None:
    tags = dashboards.image_tags(LAB / "docker-compose.yml")
    urls = {o.file: (tag, url) for o, tag, url in dashboards.sources(_lab())}
    tag, url = urls["tikv_details.json"]
    assert tag == tags["pingcap/tikv"]
    assert url.endswith(f"/tikv/tikv/{tag}/metrics/grafana/tikv_details.json")
    assert urls["pd.json"][0] == tags["pingcap/pd"]
    assert all(not tag.endswith("latest") for tag, _ in urls.values())


def test_datasource_name_is_the_provisioned_one() -> None:
    doc = yaml.safe_load((LAB / "grafana/provisioning/datasources/prometheus.yaml").read_text())
    assert dashboards.DATASOURCE_NAME in {d["name"] for d in doc["datasources"]}


def test_official_provider_reads_the_folder_compose_mounts() -> None:
    provider = yaml.safe_load((LAB / "grafana/provisioning/dashboards/official.yaml").read_text())
    path = provider["providers"][0]["options"]["path"]
    grafana = yaml.safe_load((LAB / "docker-compose.yml").read_text())["services"]["grafana"]
    assert f"./grafana/official:{path}:ro" in grafana["volumes"]
    own = yaml.safe_load((LAB / "grafana/provisioning/dashboards/operator-tikv.yaml").read_text())
    own_path = own["providers"][0]["options"]["path"]
    assert not path.startswith(own_path + "/"), "one provider would load the other's files twice"


async def test_download_adapts_and_pins(tmp_path: Path) -> None:
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, text=_exported(request.url.path.rsplit("/", 1)[-1]))

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        assert await dashboards.provision_official(http, tmp_path, _lab()) is None
        assert len(asked) == 2
        assert await dashboards.provision_official(http, tmp_path, _lab()) is None
        assert len(asked) == 2, "the pinned tag is there already: no second download"
    folder = tmp_path / "grafana" / "official"
    for name in ("tikv_details.json", "pd.json"):
        text = (folder / name).read_text()
        doc = json.loads(text)
        assert "${DS_" not in text and "__inputs" not in doc and doc["id"] is None
        assert doc["panels"][0]["datasource"] == dashboards.DATASOURCE_NAME


async def test_failure_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("network unreachable", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        notice = await dashboards.provision_official(http, tmp_path, _lab())
    assert notice is not None and "\n" not in notice
    assert "not downloaded" in notice and "project's dashboard" in notice
    assert not _json_files(tmp_path)


async def test_a_page_that_is_not_a_dashboard_falls_back(tmp_path: Path) -> None:
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>rate limited</html>")

    async with httpx.AsyncClient(transport=httpx.MockTransport(html)) as http:
        notice = await dashboards.provision_official(http, tmp_path, _lab())
    assert notice is not None and "not JSON" in notice


async def test_a_missing_file_at_the_tag_falls_back(tmp_path: Path) -> None:
    def missing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="404: Not Found")

    async with httpx.AsyncClient(transport=httpx.MockTransport(missing)) as http:
        notice = await dashboards.provision_official(http, tmp_path, _lab())
    assert notice is not None and "404" in notice
