"""deploy/compose.yaml: parses, and every command, port, health check, variable, secret and
dependency it names exists (there is no Docker engine here to run it)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from tests.deploy.commands import QUEUES, command_problems, unknown_variables, url_problem
from tests.deploy.envcontract import ROOT

COMPOSE = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
APP = {"migrate", "web", "worker", "detectors", "beat"}


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smh])", duration))


def test_the_stack_has_every_service() -> None:
    assert APP | {"db", "redis", "minio", "minio-init"} <= set(SERVICES)
    assert SERVICES["minio"]["profiles"] == ["s3"]


def test_app_services_run_commands_that_exist() -> None:
    for name in APP:
        assert command_problems(SERVICES[name]["command"]) == [], name
    migrate = " ".join(SERVICES["migrate"]["command"])
    assert "migrate --noinput" in migrate and "db_app_role" in migrate


def test_app_services_are_locked_down_and_restart() -> None:
    for name in APP:
        service = SERVICES[name]
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in service["security_opt"]
        assert service["restart"] == ("no" if name == "migrate" else "unless-stopped")


def test_dependencies_exist_and_wait_for_health_or_completion() -> None:
    for name, service in SERVICES.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in SERVICES, (name, dependency)
            assert rule["condition"] in {"service_healthy", "service_completed_successfully"}
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], dependency
    assert SERVICES["web"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )


def test_health_checks_ask_endpoints_that_exist() -> None:
    web = " ".join(SERVICES["web"]["healthcheck"]["test"])
    path = re.search(r"127\.0\.0\.1:8000(/\w+)", web)
    assert path and url_problem(path.group(1)) is None
    for name in ("worker", "detectors"):
        test = " ".join(SERVICES[name]["healthcheck"]["test"])
        port = SERVICES[name]["environment"]["AUTHCHECK_WORKER_METRICS_PORT"]
        assert f"127.0.0.1:{port}/healthz" in test


def test_the_web_port_is_gunicorns_and_only_published_on_loopback_by_default() -> None:
    (mapping,) = SERVICES["web"]["ports"]
    assert mapping.endswith(":8000") and "127.0.0.1:8000" in mapping


def test_every_variable_is_one_the_project_reads() -> None:
    names: set[str] = set()
    for name in APP:
        names |= set(SERVICES[name]["environment"])
    assert unknown_variables(names) == set()


def test_app_and_database_roles_are_apart() -> None:
    assert SERVICES["web"]["environment"]["DATABASE_URL_FILE"] == "/run/secrets/database_url"
    assert SERVICES["migrate"]["environment"]["DATABASE_URL_FILE"] == (
        "/run/secrets/owner_database_url"
    )
    assert "owner_database_url" not in SERVICES["web"]["secrets"]


def test_every_secret_is_defined_mounted_and_made_by_secrets_sh(tmp_path: Path) -> None:
    made_in = tmp_path / "secrets"
    defined = COMPOSE["secrets"]
    for name, service in SERVICES.items():
        mounted = set(service.get("secrets", []))
        assert mounted <= set(defined), name
        for key, value in service.get("environment", {}).items():
            if key.endswith("_FILE") and str(value).startswith("/run/secrets/"):
                assert value.removeprefix("/run/secrets/") in mounted, (name, key)
    subprocess.run(
        ["sh", str(ROOT / "deploy" / "secrets.sh"), str(made_in)], check=True, capture_output=True
    )
    made = {p.name for p in made_in.iterdir()}
    assert {Path(s["file"]).name for s in defined.values()} <= made
    app_password = (made_in / "db_app_password").read_text().strip()
    assert f"authcheck_app:{app_password}@db:5432/" in (made_in / "database_url").read_text()
    assert made_in.stat().st_mode & 0o777 == 0o700
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in made_in.iterdir())


def test_stop_grace_outlives_the_task_time_limits() -> None:
    assert _seconds(SERVICES["worker"]["stop_grace_period"]) > settings.CELERY_TASK_TIME_LIMIT
    assert _seconds(SERVICES["detectors"]["stop_grace_period"]) > (
        settings.AUTHCHECK_DETECTOR_TIME_LIMIT
    )


def test_detectors_can_be_scaled() -> None:
    # --scale needs no fixed container name and no fixed host port.
    detectors = SERVICES["detectors"]
    assert "container_name" not in detectors and "ports" not in detectors


def test_every_queue_the_service_publishes_to_has_a_worker() -> None:
    consumed: set[str] = set()
    for service in SERVICES.values():
        argv = service.get("command") or []
        if "worker" in argv and "-Q" in argv:
            consumed |= set(argv[argv.index("-Q") + 1].split(","))
    assert consumed >= QUEUES
