"""The compose lab read statically: what a Docker engine would start, checked without one."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from operator_tikv.invariants import InvariantSettings, specs

from operator_tui.config import describe_fields, load_settings

ROOT = Path(__file__).resolve().parents[4]
LAB = ROOT / "subjects" / "tikv" / "operator_tikv" / "lab" / "compose"
PDS = ["pd0", "pd1", "pd2"]
TIKVS = ["tikv0", "tikv1", "tikv2"]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((LAB / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _flags(service: dict[str, Any]) -> dict[str, str]:
    out = {}
    for arg in service["command"]:
        key, _, value = arg.partition("=")
        out[key] = value
    return out


def _dockerfile_bases(path: Path) -> list[str]:
    return re.findall(r"^FROM\s+(\S+)", path.read_text(), flags=re.MULTILINE)


def test_the_lab_has_the_promised_services(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {*PDS, *TIKVS, "prometheus", "grafana", "ycsb", "operator"}


def test_every_image_is_pinned(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        image = svc["image"]
        repo, _, tag = image.rpartition(":")
        assert repo and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest" and re.search(r"\d", tag), f"{name}: {image} is not pinned"
    for name in PDS:
        assert re.fullmatch(r"pingcap/pd:v8\.5\.\d+", services[name]["image"])
    for name in TIKVS:
        assert re.fullmatch(r"pingcap/tikv:v8\.5\.\d+", services[name]["image"])
    assert re.fullmatch(r"grafana/grafana:10\.4\.\d+", services["grafana"]["image"])
    assert len({services[n]["image"] for n in PDS + TIKVS}) == 2


def _context(build: dict[str, Any]) -> Path:
    """A build context; ``${OPERATOR_SOURCE...}`` is the clone (this checkout)."""
    if str(build["context"]).startswith("${OPERATOR_SOURCE"):
        return ROOT
    return (LAB / build["context"]).resolve()


def test_built_images_start_from_pinned_bases(services: dict[str, dict[str, Any]]) -> None:
    for name in ("ycsb", "operator"):
        build = services[name]["build"]
        dockerfile = _context(build) / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), dockerfile
        bases = [b for b in _dockerfile_bases(dockerfile) if not b.startswith("$")]
        assert bases, f"{dockerfile} has no FROM"
        for base in bases:
            assert ":" in base and not base.endswith(":latest"), f"{dockerfile}: {base} not pinned"


def test_cluster_flags_make_one_3_plus_3_cluster(services: dict[str, dict[str, Any]]) -> None:
    initial = {_flags(services[n])["--initial-cluster"] for n in PDS}
    assert initial == {",".join(f"{n}=http://{n}:2380" for n in PDS)}
    for name in PDS:
        flags = _flags(services[name])
        assert flags["--name"] == name
        assert flags["--advertise-client-urls"] == f"http://{name}:2379"
        assert flags["--client-urls"] == "http://0.0.0.0:2379"
    for name in TIKVS:
        flags = _flags(services[name])
        assert flags["--pd-endpoints"] == ",".join(f"{n}:2379" for n in PDS)
        assert flags["--advertise-addr"] == f"{name}:20160"
        assert flags["--status-addr"] == "0.0.0.0:20180", "status port must be open to the network"
        assert flags["--advertise-status-addr"] == f"{name}:20180"
        assert "--log-file" not in flags, "logs must go to stdout for `docker compose logs`"
        nofile = services[name]["ulimits"]["nofile"]
        assert min(nofile["soft"], nofile["hard"]) >= 82920, "tikv-server needs 82920 open files"


def test_health_checks_use_wget_against_the_right_endpoints(
    services: dict[str, dict[str, Any]],
) -> None:
    expected = {
        **{n: "http://127.0.0.1:2379/pd/api/v1/health" for n in PDS},
        **{n: "http://127.0.0.1:20180/status" for n in TIKVS},
        "prometheus": "http://127.0.0.1:9090/-/ready",
        "grafana": "http://127.0.0.1:3000/api/health",
    }
    for name, url in expected.items():
        test = services[name]["healthcheck"]["test"]
        assert test[0] == "CMD" and test[1] == "wget" and test[-1] == url, name
        assert services[name]["healthcheck"]["retries"] >= 3


def test_depends_on_waits_for_health(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        deps = svc.get("depends_on", {})
        assert isinstance(deps, dict), f"{name}: depends_on must name a condition"
        for dep, spec in deps.items():
            assert dep in services, f"{name} depends on unknown {dep}"
            assert spec == {"condition": "service_healthy"}, f"{name} -> {dep}"
            assert "healthcheck" in services[dep], f"{name} waits for {dep}, which has no check"
    for name in TIKVS:
        assert set(services[name]["depends_on"]) == set(PDS)
    for name in PDS:
        assert "depends_on" not in services[name], "PDs must start together to elect a leader"
    assert set(services["grafana"]["depends_on"]) == {"prometheus"}
    assert set(services["ycsb"]["depends_on"]) == set(TIKVS)
    assert set(services["operator"]["depends_on"]) == {*TIKVS, "prometheus"}


def test_profiles(services: dict[str, dict[str, Any]]) -> None:
    assert services["ycsb"]["profiles"] == ["load"]
    assert services["operator"]["profiles"] == ["operator"]
    for name in (*PDS, *TIKVS, "prometheus", "grafana"):
        assert "profiles" not in services[name], f"{name} must start without a profile"


def test_only_the_promised_ports_reach_the_host_on_loopback(
    services: dict[str, dict[str, Any]],
) -> None:
    published = {name: svc.get("ports", []) for name, svc in services.items() if svc.get("ports")}
    assert published == {
        "pd0": ["127.0.0.1:2379:2379"],
        "prometheus": ["127.0.0.1:9090:9090"],
        "grafana": ["127.0.0.1:3000:3000"],
    }


def _volumes(svc: dict[str, Any]) -> list[str]:
    out = []
    for v in svc.get("volumes", []):
        out.append(v if isinstance(v, str) else f"{v.get('source', '')}:{v.get('target', '')}")
    return out


def test_no_docker_socket_and_bind_mounts_exist(compose: dict[str, Any]) -> None:
    named = set(compose.get("volumes") or {})
    for name, svc in compose["services"].items():
        for volume in _volumes(svc):
            assert "docker.sock" not in volume, f"{name} mounts the Docker socket"
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (LAB / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in named, f"{name}: volume {source} is not declared"


def test_operator_container_is_not_root_and_reads_its_settings_from_env(
    services: dict[str, dict[str, Any]],
) -> None:
    operator = services["operator"]
    uid = str(operator["user"]).split(":")[0]
    assert uid not in ("0", "root") and uid.isdigit()
    dockerfile = (_context(operator["build"]) / operator["build"]["dockerfile"]).read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert re.search(r'^ENTRYPOINT \["operator-tui"\]', dockerfile, flags=re.MULTILINE)
    assert re.search(r'^CMD \["--no-ui"', dockerfile, flags=re.MULTILINE)

    env = dict(e.split("=", 1) if "=" in e else (e, None) for e in operator["environment"])
    assert env["OPERATOR_PD"] == ",".join(f"http://{n}:2379" for n in PDS)
    assert env["OPERATOR_PROMETHEUS_URL"] == "http://prometheus:9090"
    settings = load_settings()
    known = {row[1] for row in describe_fields(settings)}
    known |= {name for alias in type(settings).flat_aliases for name in alias.env}
    for key in env:
        if key.startswith("OPERATOR_"):
            assert key in known, f"unknown setting {key}"
    db_dir = str(Path(env["OPERATOR_DB_PATH"]).parent)
    mounts = {v.split(":")[1] for v in _volumes(operator)}
    assert db_dir in mounts, "the ticket database must live on a volume"
    assert operator.get("read_only") is True


def test_operator_builds_from_the_clone_that_materialized_the_lab(
    services: dict[str, dict[str, Any]],
) -> None:
    """``deploy local up`` writes ``OPERATOR_SOURCE`` (the clone) into the lab's ``.env``."""
    build = services["operator"]["build"]
    assert build["context"].startswith("${OPERATOR_SOURCE")
    assert (_context(build) / build["dockerfile"]).is_file()


def test_prometheus_scrapes_jobs_pd_and_tikv_of_the_lab(
    services: dict[str, dict[str, Any]],
) -> None:
    config = yaml.safe_load((LAB / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"pd", "tikv"}
    targets = {
        name: {t for sc in job["static_configs"] for t in sc["targets"]}
        for name, job in jobs.items()
    }
    assert targets["pd"] == {f"{n}:2379" for n in PDS}
    assert targets["tikv"] == {f"{n}:20180" for n in TIKVS}
    rule_files = [p for pattern in config["rule_files"] for p in (LAB / "prometheus").glob(pattern)]
    assert rule_files, "Prometheus must load the project's rules"
    assert "./prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]


def test_grafana_provisioning_matches_the_mounts(services: dict[str, dict[str, Any]]) -> None:
    mounts = dict(v.split(":")[:2] for v in _volumes(services["grafana"]))
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    providers = yaml.safe_load(
        (LAB / "grafana" / "provisioning" / "dashboards" / "operator-tikv.yaml").read_text()
    )["providers"]
    path = providers[0]["options"]["path"]
    assert mounts["./grafana/dashboards"] == path
    home = dict(services["grafana"]["environment"])["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert Path(home).parent == Path(path)
    assert (LAB / "grafana" / "dashboards" / Path(home).name).is_file()


def test_configs_parse_and_set_what_a_laptop_needs() -> None:
    tikv = tomllib.loads((LAB / "config" / "tikv.toml").read_text())
    assert tikv["storage"]["reserve-space"] == "0MB"
    assert tikv["storage"]["block-cache"]["capacity"]
    pd = tomllib.loads((LAB / "config" / "pd.toml").read_text())
    assert pd["replication"]["max-replicas"] == 3
    assert re.fullmatch(r"\d+m", pd["schedule"]["max-store-down-time"])


def _properties(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def test_ycsb_workloads_uniform_and_hotkey() -> None:
    folder = LAB / "ycsb" / "workloads"
    assert sorted(p.name for p in folder.iterdir()) == ["hotkey", "uniform"]
    uniform = _properties(folder / "uniform")
    hotkey = _properties(folder / "hotkey")
    assert uniform["requestdistribution"] == "uniform"
    assert hotkey["requestdistribution"] == "hotspot"
    assert hotkey["insertorder"] == "ordered", "hot keys must be contiguous to make a hot region"
    assert float(hotkey["hotspotopnfraction"]) >= 0.9
    for props in (uniform, hotkey):
        assert int(props["operationcount"]) >= 1_000_000
        total = sum(float(props.get(k, 0)) for k in props if k.endswith("proportion"))
        assert total == pytest.approx(1.0)
    script = (LAB / "ycsb" / "run.sh").read_text()
    assert "-p tikv.type=raw" in script and "go-ycsb load tikv" in script
    assert "exec go-ycsb run tikv" in script


def test_every_invariant_but_hot_write_has_a_rule() -> None:
    groups = yaml.safe_load((LAB / "prometheus" / "rules" / "operator.rules.yml").read_text())[
        "groups"
    ]
    covered = {r["labels"]["invariant"] for g in groups for r in g["rules"]}
    declared = {s.name for s in specs(InvariantSettings())}
    assert covered <= declared, f"rules name unknown invariants: {covered - declared}"
    assert declared - covered == {"hot_write_region"}
    severities = {r["labels"]["severity"] for g in groups for r in g["rules"]}
    assert severities <= {"warning", "critical"}
