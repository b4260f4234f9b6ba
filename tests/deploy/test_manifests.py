"""The deployment files under deploy/: the Kubernetes manifests validate against the Kubernetes
schemas (offline: the schemas bundled by kubernetes-validate) and every container carries the
security settings; the compose file constrains every Bastion service the same way; the image
definition's final stage runs as a fixed non-root user, has no build tools and a health check."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KUBERNETES_VERSION = "1.30.0"


def _documents() -> list[tuple[str, dict]]:
    return [
        (path.name, doc)
        for path in sorted((DEPLOY / "kubernetes").glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


def _pod_specs() -> list[tuple[str, dict]]:
    return [
        (doc["metadata"]["name"], doc["spec"]["template"]["spec"])
        for _, doc in _documents()
        if doc["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job")
    ]


@pytest.mark.parametrize(
    ("name", "document"),
    _documents(),
    ids=[f"{name}:{doc['kind']}:{doc['metadata']['name']}" for name, doc in _documents()],
)
def test_every_manifest_validates_against_the_kubernetes_schema(name, document):
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_validator_refuses_a_misspelt_or_mistyped_field():
    deployment = next(doc for _, doc in _documents() if doc["kind"] == "Deployment")
    misspelt = copy.deepcopy(deployment)
    misspelt["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFileSystem"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSION, strict=True)
    mistyped = copy.deepcopy(deployment)
    mistyped["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(mistyped, KUBERNETES_VERSION, strict=True)


def test_app_and_worker_deployments_exist_with_a_service_for_the_app():
    kinds = {(doc["kind"], doc["metadata"]["name"]) for _, doc in _documents()}
    assert {
        ("Deployment", "bastion-app"),
        ("Deployment", "bastion-worker"),
        ("Service", "bastion"),
        ("ConfigMap", "bastion-config"),
        ("Secret", "bastion-secrets"),
    } <= kinds
    app = dict(_pod_specs())["bastion-app"]["containers"][0]
    worker = dict(_pod_specs())["bastion-worker"]["containers"][0]
    assert app["args"][0] == "serve" and "--no-jobs" in app["args"]
    assert worker["args"] == ["worker"]


@pytest.mark.parametrize(("name", "pod"), _pod_specs(), ids=[name for name, _ in _pod_specs()])
def test_every_container_is_locked_down(name, pod):
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod.get("automountServiceAccountToken") is False
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")
    writable = {volume["name"] for volume in pod["volumes"]}
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        security = container["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] >= 1000
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security.get("privileged", False) is False
        assert security["capabilities"] == {"drop": ["ALL"]}  # and nothing added back
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}
        limits = container["resources"]["limits"]
        assert limits.get("cpu") and limits.get("memory"), container["name"]
        mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
        assert set(mounts) == {"/var/lib/bastion", "/tmp"} and set(mounts.values()) <= writable


def test_app_probes_are_on_healthz():
    app = dict(_pod_specs())["bastion-app"]["containers"][0]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert app[probe]["httpGet"]["path"] == "/healthz", probe
        assert app[probe]["httpGet"]["port"] in ("http", 8000)


def test_network_policy_denies_by_default_and_allows_only_named_traffic():
    policies = [doc for _, doc in _documents() if doc["kind"] == "NetworkPolicy"]
    deny = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert len(deny) == 1 and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny[0]["spec"] and "egress" not in deny[0]["spec"]
    for policy in policies:
        for rule in policy["spec"].get("ingress", []) + policy["spec"].get("egress", []):
            assert rule.get("ports"), f"{policy['metadata']['name']}: a rule open to every port"
            assert rule.get("from", rule.get("to")), f"{policy['metadata']['name']}: a rule open to every peer"
    ingress = next(p for p in policies if "ingress" in p["spec"])
    assert [port["port"] for rule in ingress["spec"]["ingress"] for port in rule["ports"]] == [8000]


def test_namespace_enforces_the_restricted_pod_security_standard():
    namespace = next(doc for _, doc in _documents() if doc["kind"] == "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_compose_constrains_every_bastion_service():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"app", "worker", "postgres", "redis", "minio"} <= set(services)
    for name in ("app", "worker"):
        service = services[name]
        assert service["user"] == "10001:10001"
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"] and "cap_add" not in service
        assert "no-new-privileges:true" in service["security_opt"]
        assert any(entry.startswith("/tmp") for entry in service["tmpfs"])
        assert [volume.split(":")[1] for volume in service["volumes"]] == ["/var/lib/bastion"]
        assert service["deploy"]["resources"]["limits"]["memory"]
    assert services["app"]["command"][0] == "serve" and services["worker"]["command"] == ["worker"]
    assert "/healthz" in " ".join(services["app"]["healthcheck"]["test"])
    for name, service in services.items():
        assert service.get("read_only") is True and service.get("cap_drop") == ["ALL"], name
        assert not service.get("privileged"), name


def _stages(dockerfile: str) -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions (continuations joined, comments dropped), split by FROM."""
    text = re.sub(r"\\\n", " ", dockerfile)
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instruction.upper(), rest.strip()))
    return stages


def test_dockerfile_is_multi_stage_with_a_non_root_final_stage_and_no_build_tools():
    stages = _stages((DEPLOY / "Dockerfile").read_text())
    assert len(stages) >= 2
    build, final = stages[0], stages[-1]
    assert any(i == "RUN" and "uv sync --frozen" in rest for i, rest in build), "the build stage installs the lock"
    assert final[0][1].split()[0].endswith("-slim-bookworm") or "slim" in final[0][1]
    users = [rest for i, rest in final if i == "USER"]
    assert users, "the final stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 10000, f"USER {users[-1]}: a fixed numeric non-root UID"
    final_text = " ".join(rest for _, rest in final)
    for tool in ("build-essential", "gcc", "g++", "make ", "-dev ", "uv sync", "pip install", "git "):
        assert tool not in final_text, f"{tool.strip()} in the final stage"
    copies = [rest for i, rest in final if i == "COPY"]
    assert copies and all("--from=build" in rest for rest in copies), "the final stage copies only the built venv"
    healthcheck = " ".join(rest for i, rest in final if i == "HEALTHCHECK")
    assert "/healthz" in healthcheck
    entrypoint = [rest for i, rest in final if i == "ENTRYPOINT"][-1]
    command = [rest for i, rest in final if i == "CMD"][-1]
    assert yaml.safe_load(entrypoint) == ["bastion"] and yaml.safe_load(command)[0] == "serve"
    assert any(i == "VOLUME" and "/var/lib/bastion" in rest for i, rest in final)
    assert any(i == "ENV" and "BASTION_DATA_DIR=/var/lib/bastion" in rest for i, rest in final)
