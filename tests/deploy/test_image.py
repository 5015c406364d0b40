"""deploy/Dockerfile without a Docker engine: what it copies exists and is not ignored, the
final stage is slim, pinned and not root, its commands exist, and the locked requirements
match pyproject.toml and install in a clean virtualenv."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.deploy.commands import command_problems, unknown_variables, url_problem
from tests.deploy.envcontract import ROOT

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
LOCK = ROOT / "deploy" / "requirements.txt"


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [
        ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
    ]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


def _stages() -> tuple[dict[str, str], list[Stage]]:
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for keyword, rest in _instructions():
        if keyword == "ARG" and not stages:
            name, _, value = rest.partition("=")
            args[name] = value
        elif keyword == "FROM":
            base, _, name = rest.partition(" AS ")
            stages.append(Stage(name.strip(), re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], base)))
        else:
            stages[-1].instructions.append((keyword, rest))
    return args, stages


ARGS, STAGES = _stages()
FINAL = STAGES[-1]


def test_it_is_multi_stage_on_a_pinned_slim_base() -> None:
    assert len(STAGES) >= 2
    for stage in STAGES:
        assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", stage.base)


def test_the_final_stage_has_no_build_tools_or_test_dependencies() -> None:
    runs = " ".join(FINAL.args("RUN"))
    assert "pip install" not in runs
    for tool in ("build-essential", "gcc", "git", "curl"):
        assert tool not in runs
    assert "--no-install-recommends ffmpeg" in runs and "rm -rf /var/lib/apt/lists" in runs
    locked = LOCK.read_text().lower()
    for test_only in ("pytest", "moto", "ruff", "mypy", "hypothesis", "schemathesis"):
        assert f"\n{test_only}==" not in locked


def test_it_runs_as_a_numeric_non_root_user() -> None:
    (user,) = FINAL.args("USER")
    assert user.split(":")[0].isdigit() and user.split(":")[0] != "0"


def test_every_copied_path_exists_and_passes_the_dockerignore() -> None:
    patterns = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    for stage in STAGES:
        for rest in stage.args("COPY"):
            if rest.startswith("--from"):
                continue
            *sources, _ = shlex.split(rest)
            for source in sources:
                assert (ROOT / source).exists(), source
                assert not _ignored(source, patterns), f"{source} is excluded by .dockerignore"


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; ``!`` re-includes."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, body) or path.startswith(body + "/"):
            ignored = not negate
    return ignored


def test_the_health_check_and_default_command_exist() -> None:
    (health,) = FINAL.args("HEALTHCHECK")
    path = re.search(r"127\.0\.0\.1:8000(/\w+)", health)
    assert path and path.group(1) == "/healthz" and url_problem("/healthz") is None
    (cmd,) = FINAL.args("CMD")
    assert command_problems(json.loads(cmd)) == []


def test_the_commands_in_its_comments_exist() -> None:
    documented = re.findall(
        r"^#\s+[\w ]+:\s+(celery .+|python manage\.py .+)$", DOCKERFILE.read_text(), re.M
    )
    assert len(documented) == 4
    for line in documented:
        assert command_problems(shlex.split(line)) == [], line


def test_its_environment_is_read_by_the_project() -> None:
    names = set()
    for rest in FINAL.args("ENV"):
        names |= {pair.split("=", 1)[0] for pair in shlex.split(rest)}
    assert "AUTHCHECK_ENVIRONMENT" in names
    assert unknown_variables(names) == set()


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for line in requirements:
        name, _, version = line.partition("==")
        pins[re.sub(r"\[.*\]", "", name).lower().replace("_", "-")] = version
    return pins


def test_the_lock_agrees_with_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _pins(project["dependencies"])
    lines = [ln for ln in LOCK.read_text().splitlines() if ln and not ln.startswith("#")]
    locked = _pins(lines)
    mismatched = {n: (v, locked.get(n)) for n, v in wanted.items() if locked.get(n) != v}
    assert not mismatched, f"regenerate deploy/requirements.txt: {mismatched}"


@pytest.mark.slow
def test_the_locked_requirements_install_in_a_clean_virtualenv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-deps", "-r", str(LOCK)], check=True, timeout=900)
    subprocess.run([*pip, "check"], check=True)
    probe = "import authcheck.wsgi, authcheck.celery, storages.backends.s3, pythonjsonlogger.json"
    env = {
        "PYTHONPATH": str(ROOT),
        "AUTHCHECK_DATA_DIR": str(tmp_path / "data"),
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run([str(venv / "bin" / "python"), "-c", probe], check=True, env=env, cwd=ROOT)
