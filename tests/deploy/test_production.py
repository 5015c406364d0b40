"""Production refuses unsafe configuration at start; secrets can come from files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from authcheck.production import production_refusals
from tests.deploy.envcontract import ROOT

GOOD_KEY = "k3Y-" + "".join(chr(65 + i % 26) + str(i % 10) for i in range(30))


def _start(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Import the settings the way manage.py, gunicorn and celery do, in a clean environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AUTHCHECK_"))}
    base.update(
        {"AUTHCHECK_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "authcheck.settings"}
    )
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SECRET_KEY[:4])"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_safe_configuration_has_no_refusals() -> None:
    assert production_refusals(debug=False, secret_key=GOOD_KEY, allowed_hosts=["a.example"]) == []


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"debug": True}, "DJANGO_DEBUG is on"),
        ({"secret_key": ""}, "is not set"),
        ({"secret_key": "change-me"}, "placeholder"),
        ({"secret_key": "django-insecure-" + "x" * 60}, "placeholder"),
        ({"secret_key": "a" * 80}, "50 random characters"),
        ({"allowed_hosts": []}, "DJANGO_ALLOWED_HOSTS is empty"),
        ({"allowed_hosts": ["*"]}, "not '*'"),
    ],
)
def test_each_unsafe_setting_is_named(kwargs: dict[str, object], reason: str) -> None:
    values: dict[str, object] = {"debug": False, "secret_key": GOOD_KEY, "allowed_hosts": ["h"]}
    values.update(kwargs)
    problems = production_refusals(**values)  # type: ignore[arg-type]
    assert len(problems) == 1 and reason in problems[0]


def test_production_refuses_to_start_with_debug_on_and_no_key(tmp_path: Path) -> None:
    result = _start(
        {
            "AUTHCHECK_ENVIRONMENT": "production",
            "DJANGO_DEBUG": "true",
            "DJANGO_ALLOWED_HOSTS": "a.example",
        },
        tmp_path,
    )
    assert result.returncode != 0
    assert "refusing to start in production: DJANGO_DEBUG is on; DJANGO_SECRET_KEY" in result.stderr
    # The generated-key fallback of the embedded default is not used in production.
    assert not (tmp_path / "secret_key").exists()


def test_production_starts_with_the_key_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "django_secret_key"
    key_file.write_text(GOOD_KEY + "\n")
    result = _start(
        {
            "AUTHCHECK_ENVIRONMENT": "production",
            "DJANGO_SECRET_KEY_FILE": str(key_file),
            "DJANGO_ALLOWED_HOSTS": "a.example",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == GOOD_KEY[:4]


def test_a_secret_set_both_ways_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "k"
    key_file.write_text(GOOD_KEY)
    result = _start(
        {"DJANGO_SECRET_KEY": GOOD_KEY, "DJANGO_SECRET_KEY_FILE": str(key_file)}, tmp_path
    )
    assert result.returncode != 0
    assert "set DJANGO_SECRET_KEY or DJANGO_SECRET_KEY_FILE, not both" in result.stderr


def test_development_keeps_the_generated_key(tmp_path: Path) -> None:
    result = _start({}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret_key").read_text().startswith(result.stdout.strip())
