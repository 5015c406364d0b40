"""deploy/backup.sh and deploy/restore.sh: a dump restored into a new database passes
audit_verify against the saved checkpoints, and the restored media match their hashes."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from authcheck.models import Role, User
from authcheck.services import checks, processing
from authcheck.services.audit import audit_checkpoint_write
from tests.deploy.envcontract import ROOT
from tests.mediagen import make_image

CHECKPOINT_KEY = "restore-test-checkpoint-key-" + "k" * 32


def _url(name: str) -> str:
    db = connection.settings_dict
    user, host = db.get("USER") or "postgres", db.get("HOST") or "127.0.0.1"
    return f"postgres://{user}@{host}:{db.get('PORT') or 5432}/{name}"


@pytest.fixture
def restored_db() -> Iterator[str]:
    """An empty database to restore into, dropped afterwards."""
    if connection.vendor != "postgresql" or shutil.which("pg_dump") is None:
        pytest.skip("PostgreSQL and its client tools only")
    name = f"deploy_restore_{uuid.uuid4().hex[:8]}"
    admin = _url("postgres")
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
    try:
        yield _url(name)
    finally:
        subprocess.run(
            ["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True
        )


def _run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    return subprocess.run(
        ["sh", str(ROOT / "deploy" / script), *args],
        cwd=ROOT,
        env={**os.environ, "PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_backup_restores_into_a_new_database_with_its_audit_chain_and_media(
    transactional_db: None, restored_db: str, tmp_path: Path, settings, enqueued: list[int]
) -> None:
    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]
    settings.AUTHCHECK_AUDIT_CHECKPOINT_KEY = CHECKPOINT_KEY
    user = User.objects.create(username="b", role=Role.JOURNALIST)
    for seed in (1, 2):
        data = make_image(tmp_path / f"{seed}.jpg", size=(40 + seed, 30)).read_bytes()
        check = checks.check_create(user=user, upload=io.BytesIO(data), filename="x.jpg").check
        processing.check_process(check.pk)
    checkpoints = tmp_path / "checkpoints.jsonl"
    audit_checkpoint_write(checkpoints)

    backup = _run(
        "backup.sh",
        str(tmp_path / "backup"),
        env={
            "OWNER_DATABASE_URL": _url(connection.settings_dict["NAME"]),
            "MEDIA_DIR": str(settings.MEDIA_ROOT),
            "CHECKPOINTS": str(checkpoints),
        },
    )
    assert backup.returncode == 0, backup.stderr

    data_dir = tmp_path / "restored"
    restore = _run(
        "restore.sh",
        str(tmp_path / "backup"),
        env={
            "OWNER_DATABASE_URL": restored_db,
            "MEDIA_DIR": str(data_dir / "media"),
            "AUTHCHECK_DATA_DIR": str(data_dir),
            "AUTHCHECK_AUDIT_CHECKPOINT_KEY": CHECKPOINT_KEY,
            "AUTHCHECK_ENVIRONMENT": "development",
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        },
    )
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert "audit chain OK" in restore.stdout
    assert "media OK: 2 media match their SHA-256" in restore.stdout


def test_restore_refuses_a_backup_whose_files_changed(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "db.dump").write_bytes(b"dump")
    subprocess.run("sha256sum db.dump > SHA256SUMS", shell=True, cwd=backup, check=True)
    (backup / "db.dump").write_bytes(b"dumq")
    result = _run(
        "restore.sh", str(backup), env={"OWNER_DATABASE_URL": "postgres://x@127.0.0.1/none"}
    )
    assert result.returncode != 0 and "FAILED" in result.stdout + result.stderr
