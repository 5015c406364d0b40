"""Cross-checks shared by the compose, Kubernetes and Dockerfile tests: does a command that a
deploy file runs refer to things that exist in this project?"""

from __future__ import annotations

import importlib
import shlex

from django.conf import settings
from django.core.management import get_commands
from django.urls import Resolver404, resolve

from tests.deploy.envcontract import ROOT, variables_read

QUEUES = {
    settings.CELERY_TASK_DEFAULT_QUEUE,
    settings.AUTHCHECK_DETECTOR_QUEUE,
    settings.AUTHCHECK_WEBHOOK_QUEUE,
}
# Set by the image or the platform, not read by authcheck's settings.
PLATFORM_VARIABLES = {
    "PATH",
    "PYTHONPATH",
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "MPLCONFIGDIR",
    "PIP_NO_CACHE_DIR",
    "PIP_DISABLE_PIP_VERSION_CHECK",
}


def _option(argv: list[str], *names: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg in names and i + 1 < len(argv):
            return argv[i + 1]
    return None


def command_problems(argv: list[str]) -> list[str]:
    """What is wrong with ``argv`` as an authcheck entry command (empty: nothing)."""
    if argv[:2] == ["sh", "-c"]:
        return [p for part in argv[2].split("&&") for p in command_problems(shlex.split(part))]
    program = argv[0]
    if program == "gunicorn":
        return _gunicorn(argv)
    if program == "celery":
        return _celery(argv)
    if program == "python" and argv[1:2] == ["manage.py"]:
        known = get_commands()
        return [] if argv[2] in known else [f"no management command {argv[2]!r}"]
    return [f"unexpected program {program!r}"]


def _gunicorn(argv: list[str]) -> list[str]:
    problems = []
    config = _option(argv, "--config", "-c")
    if config is None or not (ROOT / config).is_file():
        problems.append(f"gunicorn config {config!r} missing")
    module, _, attr = argv[-1].partition(":")
    loaded = importlib.import_module(module)
    if not hasattr(loaded, attr or "application"):
        problems.append(f"{argv[-1]} has no WSGI application")
    return problems


def _celery(argv: list[str]) -> list[str]:
    problems = []
    if _option(argv, "-A", "--app") != "authcheck":
        problems.append("celery must run the app 'authcheck'")
    role = argv[3] if len(argv) > 3 else ""
    if role not in {"worker", "beat"}:
        problems.append(f"unknown celery role {role!r}")
    queues = _option(argv, "-Q", "--queues")
    if role == "worker" and (queues is None or not set(queues.split(",")) <= QUEUES):
        problems.append(f"worker queues {queues!r} are not among {sorted(QUEUES)}")
    if _option(argv, "-l", "--loglevel") is None:
        # Celery sets the root logger to WARNING without it, dropping the JSON event lines.
        problems.append("celery needs -l INFO (or another level)")
    if role == "beat" and not (_option(argv, "--schedule", "-s") or "").startswith("/tmp/"):
        problems.append("beat must keep its schedule in /tmp (read-only root filesystem)")
    return problems


def url_problem(path: str) -> str | None:
    """None when ``path`` is routed by the project's URLconf."""
    try:
        resolve(path)
    except Resolver404:
        return f"{path} is not a URL of the project"
    return None


def unknown_variables(names: set[str]) -> set[str]:
    """Environment variable names that nothing in the project reads."""
    return names - variables_read() - PLATFORM_VARIABLES
