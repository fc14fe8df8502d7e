"""deploy/kubernetes: every manifest is valid for a current Kubernetes (strict schemas, offline,
from kubernetes-validate), and the Deployment keeps the promises the docs make."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.37.0"


def _docs() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                out.append((path.name, doc))
    return out


def _kind(kind: str) -> dict[str, Any]:
    found = [doc for _, doc in _docs() if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


@pytest.mark.parametrize(("name", "doc"), _docs(), ids=lambda v: v if isinstance(v, str) else "")
def test_manifest_is_valid(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_an_invalid_field_is_caught() -> None:
    deployment = _kind("Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["readOnlyRoot"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


def test_no_kubernetes_api_access() -> None:
    kinds = {doc["kind"] for _, doc in _docs()}
    assert not kinds & {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
    pod = _kind("Deployment")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert _kind("ServiceAccount")["automountServiceAccountToken"] is False


def test_container_is_locked_down_and_probed_on_healthz() -> None:
    pod = _kind("Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["requests"]
    args = container["args"]
    assert "--no-ui" in args
    port = int(args[args.index("--health-port") + 1])
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == "/healthz"
        assert named[get["port"]] == port
    assert not any("docker.sock" in str(v) for v in pod["volumes"])


def test_storage_and_secret_are_wired() -> None:
    pod = _kind("Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    config = _kind("ConfigMap")["data"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in pod["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert claims["data"] == _kind("PersistentVolumeClaim")["metadata"]["name"]
    assert config["OPERATOR_DB_PATH"].startswith(mounts["data"] + "/")
    key = next(e for e in container["env"] if e["name"] == "ANTHROPIC_API_KEY")
    assert key["valueFrom"]["secretKeyRef"]["name"] == _kind("Secret")["metadata"]["name"]
    assert _kind("Deployment")["spec"]["strategy"]["type"] == "Recreate"


def test_endpoints_follow_tidb_operator_service_names() -> None:
    """tidb-operator: PD's client service is ``<TidbCluster>-pd:2379``; TidbMonitor's
    Prometheus is ``<TidbMonitor>-prometheus:9090``."""
    config = _kind("ConfigMap")["data"]
    assert config["OPERATOR_PD"].endswith("-pd:2379")
    assert config["OPERATOR_PROMETHEUS_URL"].endswith("-prometheus:9090")
