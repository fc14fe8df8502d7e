"""The compose lab's pure parts: the compose file read without an engine, ``compose ps``
parsing, and mapping a store id to its service through PD (served by httpx.MockTransport)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from operator_tikv.lab.compose_file import (
    ComposeLab,
    PublishedPort,
    _parse_port,
    resolve_compose_file,
)
from operator_tikv.lab.deployment import LocalDeployment
from operator_tikv.lab.engine import parse_ps_json
from operator_tikv.plugin import plugin
from operator_tikv.settings import TikvSettings

from operator_tui.core.deploy import DeployError, DeploymentOptions, ServiceStatus

ROOT = Path(__file__).resolve().parents[4]
COMPOSE = ROOT / "subjects" / "tikv" / "operator_tikv" / "lab" / "compose" / "docker-compose.yml"
PS_SAMPLE = Path(__file__).resolve().parent / "data" / "compose_ps.ndjson"


def test_lab_as_declared() -> None:
    lab = ComposeLab.load(COMPOSE)
    assert lab.core_services == [
        "pd0", "pd1", "pd2", "tikv0", "tikv1", "tikv2", "prometheus", "grafana",
    ]  # fmt: skip
    assert lab.tikv_services == ["tikv0", "tikv1", "tikv2"]
    assert lab.pd_services == ["pd0", "pd1", "pd2"]
    assert lab.profiles == ["load", "operator"]
    assert lab.in_profile("load") == ["ycsb"] and lab.in_profile("operator") == ["operator"]
    assert [(e.name, e.url) for e in lab.endpoints()] == [
        ("Grafana", "http://127.0.0.1:3000"),
        ("Prometheus", "http://127.0.0.1:9090"),
        ("PD API", "http://127.0.0.1:2379"),
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("127.0.0.1:3000:3000", PublishedPort("127.0.0.1", 3000, 3000)),
        ("8080:80", PublishedPort("", 8080, 80)),
        ("9090:9090/tcp", PublishedPort("", 9090, 9090)),
        ("[::1]:2379:2379", PublishedPort("::1", 2379, 2379)),
        (
            {"target": 80, "published": "8081", "host_ip": "127.0.0.1"},
            PublishedPort("127.0.0.1", 8081, 80),
        ),
        ("2379", None),
        ({"target": 80}, None),
        ("3000-3005:3000-3005", None),
    ],
)
def test_port_forms(entry: object, expected: PublishedPort | None) -> None:
    assert _parse_port(entry) == expected


def test_compose_file_found_from_the_checkout_when_cwd_is_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert (
        resolve_compose_file(Path("subjects/tikv/operator_tikv/lab/compose/docker-compose.yml"))
        == COMPOSE
    )
    with pytest.raises(
        DeployError, match=r"compose file not found: nope.yml .*OPERATOR_COMPOSE_FILE"
    ):
        resolve_compose_file(Path("nope.yml"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("services: [unclosed", "cannot read compose file"),
        ("just a string", "has no services"),
        ("services: 3", "has no services"),
    ],
)
def test_bad_compose_file_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "compose.yml"
    path.write_text(text)
    with pytest.raises(DeployError, match=message) as info:
        ComposeLab.load(path)
    assert "\n" not in str(info.value)


def test_ps_ndjson_and_array_forms() -> None:
    text = PS_SAMPLE.read_text()
    rows = parse_ps_json(text)
    assert rows == parse_ps_json(json.dumps([json.loads(line) for line in text.splitlines()]))
    by = {r.service: r for r in rows}
    assert by["pd0"] == ServiceStatus(
        service="pd0",
        container="operator-tikv-pd0-1",
        state="running",
        health="healthy",
        exit_code=0,
        status="Up 3 minutes (healthy)",
        ports=("127.0.0.1:2379->2379/tcp",),
    )
    assert by["pd0"].ready and by["pd1"].ready
    assert by["tikv1"].state == "exited" and by["tikv1"].exit_code == 137 and not by["tikv1"].ready
    assert by["tikv1"].health is None and by["tikv1"].ports == ()
    assert by["tikv0"].health == "starting" and not by["tikv0"].ready
    assert parse_ps_json("") == [] and parse_ps_json("[]") == []
    with pytest.raises(DeployError, match="not JSON"):
        parse_ps_json("{broken")


def test_ready_means_running_and_healthy_when_checked() -> None:
    assert ServiceStatus("ycsb", state="running").ready
    assert not ServiceStatus("pd0", state="running", health="unhealthy").ready
    assert not ServiceStatus("pd0").ready


def _stores_body(*stores: tuple[int, str, str]) -> dict:
    return {
        "count": len(stores),
        "stores": [
            {"store": {"id": sid, "address": addr, "state_name": state}, "status": {}}
            for sid, addr, state in stores
        ],
    }


def _lab(handler) -> tuple[LocalDeployment, httpx.AsyncClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    lab = LocalDeployment(
        COMPOSE, "operator-tikv", http, pd_endpoints=["http://pd-b:2379"], client_call=["docker"]
    )
    return lab, http


async def test_store_id_maps_to_its_service_through_pd() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if request.url.host == "127.0.0.1":
            return httpx.Response(503, text="no leader")
        body = _stores_body(
            (1, "tikv0:20160", "Up"), (4, "tikv2:20160", "Up"), (9, "10.0.0.9:20160", "Up")
        )
        return httpx.Response(200, json=body)

    lab, http = _lab(handler)
    async with http:
        assert lab.pd_endpoints == ["http://127.0.0.1:2379", "http://pd-b:2379"]
        target = await lab.resolve("4")
        assert (target.service, target.store_id, target.how, target.address) == (
            "tikv2", 4, "pd", "tikv2:20160",
        )  # fmt: skip
        assert asked[:2] == [
            "http://127.0.0.1:2379/pd/api/v1/stores",
            "http://pd-b:2379/pd/api/v1/stores",
        ]
        with pytest.raises(
            DeployError, match=r"store 9 is at 10.0.0.9:20160, which is not a service"
        ):
            await lab.resolve("9")
        with pytest.raises(DeployError, match=r"PD has no store 2 \(stores: 1, 4, 9\)"):
            await lab.resolve("2")
        named = await lab.resolve(" pd2 ")
        assert (named.service, named.store_id, named.how) == ("pd2", None, "service")


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(200, text="<html>not json</html>"),
        httpx.Response(200, json={"stores": "nonsense"}),
        httpx.Response(500, text="internal"),
    ],
)
async def test_unusable_pd_falls_back_to_the_nth_tikv_service(reply: httpx.Response) -> None:
    lab, http = _lab(lambda request: reply)
    async with http:
        target = await lab.resolve("3")
        assert (target.service, target.store_id, target.how) == ("tikv2", 3, "convention")
        with pytest.raises(
            DeployError, match="PD is unreachable and store 4 is not between 1 and 3"
        ):
            await lab.resolve("4")
        with pytest.raises(DeployError, match="unknown store or service 'tikv-9'"):
            await lab.resolve("tikv-9")


async def test_the_plugin_offers_the_lab_with_the_endpoints_it_was_given() -> None:
    async with httpx.AsyncClient() as http:
        section = TikvSettings(
            compose_file=COMPOSE,
            compose_project="my-lab",
            pd=["http://127.0.0.1:2379", "http://10.1.1.1:2379"],
        )
        options = DeploymentOptions(settings=section, http=http)
        lab = plugin.deployment(options)
        assert isinstance(lab, LocalDeployment)
        assert lab.project == "my-lab"
        assert lab.pd_endpoints == ["http://127.0.0.1:2379", "http://10.1.1.1:2379"]
        assert [e.name for e in lab.endpoints()] == ["Grafana", "Prometheus", "PD API"]
        with pytest.raises(DeployError, match=r"compose file not found: nope\.yml"):
            plugin.deployment(
                DeploymentOptions(
                    settings=TikvSettings(compose_file=Path("nope.yml"), compose_project="x"),
                    http=http,
                )
            )
