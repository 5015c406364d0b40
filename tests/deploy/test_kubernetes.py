"""deploy/k8s: the manifests build, validate against the Kubernetes schemas, and every command,
probe, port, variable and secret they name exists in the project."""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from authcheck.metrics import _worker_wsgi_app
from tests.deploy.commands import command_problems, unknown_variables, url_problem
from tests.deploy.envcontract import ROOT

K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.32.0"


def _base() -> list[dict[str, Any]]:
    docs = []
    for path in sorted((K8S / "base").glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


BASE = _base()


def _kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in BASE if d["kind"] == kind}


def _pod_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in BASE:
        spec = doc.get("spec", {})
        if doc["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        if "template" in spec:
            yield doc["metadata"]["name"], spec["template"]["spec"]


def _containers() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for name, pod in _pod_specs():
        for container in pod["containers"]:
            yield name, pod, container


def test_every_file_in_the_base_is_a_kustomize_resource() -> None:
    listed = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())["resources"]
    on_disk = {p.name for p in (K8S / "base").glob("*.yaml")} - {"kustomization.yaml"}
    assert set(listed) == on_disk


def test_the_required_objects_exist() -> None:
    deployments = _kind("Deployment")
    assert {"authcheck-web", "authcheck-worker", "authcheck-detectors", "authcheck-beat"} <= set(
        deployments
    )
    assert deployments["authcheck-beat"]["spec"]["replicas"] == 1
    assert deployments["authcheck-beat"]["spec"]["strategy"]["type"] == "Recreate"
    assert "authcheck-migrate" in _kind("Job")
    assert _kind("Secret") and _kind("ConfigMap")
    hpa = _kind("HorizontalPodAutoscaler")["authcheck-detectors"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "authcheck-detectors"
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"


def test_selectors_match_their_pods() -> None:
    web_labels = _kind("Deployment")["authcheck-web"]["spec"]["template"]["metadata"]["labels"]
    pdb = _kind("PodDisruptionBudget")["authcheck-web"]["spec"]["selector"]["matchLabels"]
    service = _kind("Service")["authcheck-web"]["spec"]["selector"]
    assert pdb.items() <= web_labels.items() and service.items() <= web_labels.items()
    for deployment in _kind("Deployment").values():
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    for policy in _kind("NetworkPolicy").values():
        wanted = policy["spec"]["podSelector"]["matchLabels"]
        for _, pod_labels in _pod_labels():
            assert wanted.items() <= pod_labels.items()


def _pod_labels() -> Iterator[tuple[str, dict[str, str]]]:
    for doc in BASE:
        spec = doc.get("spec", {})
        if doc["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        if "template" in spec:
            yield doc["metadata"]["name"], spec["template"]["metadata"]["labels"]


@pytest.mark.parametrize("name", [n for n, _, _ in _containers()])
def test_every_container_runs_an_existing_command(name: str) -> None:
    for owner, _, container in _containers():
        if owner == name:
            assert command_problems(container["command"]) == []


def test_pods_are_locked_down() -> None:
    for name, pod, container in _containers():
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
        assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name


def test_probes_reach_endpoints_that_exist(settings) -> None:
    web = _kind("Deployment")["authcheck-web"]["spec"]["template"]["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in web["ports"]}
    assert ports["http"] == int(_gunicorn_bind_port())
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert web[probe]["httpGet"]["port"] in ports
        assert url_problem(web[probe]["httpGet"]["path"]) is None
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for name in ("authcheck-worker", "authcheck-detectors"):
        worker = _kind("Deployment")[name]["spec"]["template"]["spec"]["containers"][0]
        probe = worker["livenessProbe"]["httpGet"]
        assert {p["name"]: p["containerPort"] for p in worker["ports"]}[probe["port"]] == int(
            _config()["AUTHCHECK_WORKER_METRICS_PORT"]
        )
        assert _worker_answers(probe["path"]) == "200 OK"


def _worker_answers(path: str) -> str:
    status: list[str] = []
    _worker_wsgi_app({"PATH_INFO": path, "REMOTE_ADDR": "10.0.0.9"}, lambda s, h: status.append(s))
    return status[0]


def _gunicorn_bind_port() -> str:
    text = (ROOT / "deploy" / "gunicorn.conf.py").read_text()
    return text.split('"AUTHCHECK_BIND", "')[1].split('"')[0].rsplit(":", 1)[1]


def _config() -> dict[str, str]:
    return _kind("ConfigMap")["authcheck-config"]["data"]


def test_every_variable_is_one_the_project_reads() -> None:
    names = set(_config())
    for _, _, container in _containers():
        names |= {e["name"] for e in container.get("env", [])}
    assert unknown_variables(names) == set()


def test_every_secret_file_is_mounted_and_in_the_secret() -> None:
    keys = set(_kind("Secret")["authcheck-secrets"]["stringData"])
    for name, pod, container in _containers():
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        secret_volume = next(v["name"] for v in pod["volumes"] if "secret" in v)
        for env in container["env"]:
            if env["name"].endswith("_FILE"):
                directory, _, key = env["value"].rpartition("/")
                assert directory == mounts[secret_volume], (name, env)
                assert key in keys, (name, env)


def test_grace_periods_outlive_the_task_time_limits() -> None:
    deployments = _kind("Deployment")
    worker = deployments["authcheck-worker"]["spec"]["template"]["spec"]
    detectors = deployments["authcheck-detectors"]["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] > int(_config()["CELERY_TASK_TIME_LIMIT"])
    assert detectors["terminationGracePeriodSeconds"] > settings.AUTHCHECK_DETECTOR_TIME_LIMIT


def test_workers_may_not_reach_private_ranges_or_the_metadata_address() -> None:
    egress = _kind("NetworkPolicy")["authcheck-egress"]["spec"]["egress"]
    blocks = [peer["ipBlock"] for rule in egress for peer in rule["to"] if "ipBlock" in peer]
    denied = [ipaddress.ip_network(c) for block in blocks for c in block["except"]]
    for address in (
        "169.254.169.254",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "100.64.0.1",
        "fd00:ec2::254",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",
    ):
        ip = ipaddress.ip_address(address)
        assert any(ip in net for net in denied if net.version == ip.version), address
    allowed_ports = {p["port"] for rule in egress for p in rule.get("ports", [])}
    assert {53, 5432, 6379, 5672, 9000, 443} <= allowed_ports


def _kustomize(overlay: Path) -> list[dict[str, Any]]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    version = subprocess.run(["kubectl", "version", "--client"], capture_output=True, text=True)
    found = re.search(r"Kustomize Version: v(\d+)", version.stdout)
    if not found or int(found.group(1)) < 5:
        pytest.skip("kubectl's built-in kustomize is older than v5 (labels, patches)")
    out = subprocess.run(
        ["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, check=True
    )
    return [d for d in yaml.safe_load_all(out.stdout) if d]


@pytest.mark.parametrize("overlay", ["small", "newsroom"])
def test_each_overlay_builds_and_validates_against_the_kubernetes_schema(
    overlay: str, tmp_path: Path
) -> None:
    import kubernetes_validate

    shutil.copytree(K8S, tmp_path / "k8s")
    target = tmp_path / "k8s" / "overlays" / overlay
    if overlay == "newsroom":  # its secrets come from files that are never committed
        subprocess.run(
            ["sh", str(ROOT / "deploy" / "secrets.sh"), str(target / "secrets")],
            check=True,
            capture_output=True,
        )
    docs = _kustomize(target)
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("Deployment", "authcheck-detectors") in names
    assert all(d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace")
