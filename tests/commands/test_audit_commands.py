"""``manage.py audit_verify`` and ``audit_checkpoint``: messages and exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connection, transaction

from authcheck.models import AuditEvent
from authcheck.services.audit import audit_record, event_hash
from tests.commands.helpers import run_command

pytestmark = pytest.mark.django_db
TABLE = AuditEvent._meta.db_table


run = run_command


def record(count: int) -> None:
    for number in range(count):
        with transaction.atomic():
            audit_record(actor="system", action="test.step", object_type="check", object_id=number)


def tamper(seq: int, body: str, *, rehash: bool = False) -> None:
    """Edit one stored body as a superuser would (guard trigger off on PostgreSQL)."""
    event = AuditEvent.objects.get(seq=seq)
    new_hash = event_hash(event.prev_hash, seq, body) if rehash else event.hash
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER authcheck_audit_no_update_delete")
        cursor.execute(
            f"UPDATE {TABLE} SET body = %s, hash = %s WHERE seq = %s", [body, new_hash, seq]
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER authcheck_audit_no_update_delete")


def test_an_intact_chain_exits_0_with_its_length(capsys) -> None:
    record(3)
    assert run(capsys, "audit_verify") == (0, "audit chain OK: 3 events\n", "")


def test_an_empty_chain_is_ok(capsys) -> None:
    assert run(capsys, "audit_verify") == (0, "audit chain OK: 0 events\n", "")


def test_json_output_describes_the_chain(capsys) -> None:
    record(2)
    code, out, _ = run(capsys, "audit_verify", "--json")
    result = json.loads(out)
    assert code == 0
    assert result == {
        "ok": True,
        "checked": 2,
        "first_bad_seq": None,
        "reason": "",
        "last_seq": 2,
        "last_hash": AuditEvent.objects.get(seq=2).hash,
    }


def test_a_broken_chain_exits_1_with_one_line_naming_the_event(capsys) -> None:
    record(4)
    tamper(2, "{}")
    code, out, err = run(capsys, "audit_verify")
    assert (code, out) == (1, "")
    assert (
        err == "audit chain BROKEN at seq 2: hash does not match the event (body or seq altered)\n"
    )


def test_a_broken_chain_in_json_still_exits_1(capsys) -> None:
    record(3)
    tamper(3, "{}")
    code, out, _ = run(capsys, "audit_verify", "--json")
    assert code == 1
    assert json.loads(out)["first_bad_seq"] == 3 and json.loads(out)["ok"] is False


def test_a_checkpoint_catches_a_rewritten_last_event(capsys, tmp_path: Path) -> None:
    record(3)
    checkpoint = tmp_path / "checkpoints.jsonl"
    code, out, err = run(capsys, "audit_checkpoint", str(checkpoint))
    assert (code, err) == (0, "")
    assert out == f"audit checkpoint written: seq 3 hash {AuditEvent.objects.get(seq=3).hash}\n"
    assert run(capsys, "audit_verify", "--checkpoint", str(checkpoint))[0] == 0
    body = AuditEvent.objects.get(seq=3).body.replace('"data":{}', '"data":{"rewritten":true}')
    tamper(3, body, rehash=True)
    assert run(capsys, "audit_verify")[0] == 0  # consistent: the chain alone cannot tell
    code, _, err = run(capsys, "audit_verify", "--checkpoint", str(checkpoint))
    assert code == 1
    assert err.startswith("audit chain BROKEN at seq 3: hash differs from the signed checkpoint")


def test_checkpoints_append_one_signed_line_each(capsys, tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoints.jsonl"
    record(1)
    run(capsys, "audit_checkpoint", str(checkpoint))
    record(1)
    run(capsys, "audit_checkpoint", str(checkpoint))
    lines = [json.loads(line) for line in checkpoint.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2]
    assert all(set(line) == {"seq", "hash", "at", "sig"} for line in lines)


def test_no_checkpoint_is_written_for_a_broken_chain(capsys, tmp_path: Path) -> None:
    record(2)
    tamper(1, "{}")
    checkpoint = tmp_path / "checkpoints.jsonl"
    code, out, err = run(capsys, "audit_checkpoint", str(checkpoint))
    assert (code, out) == (1, "")
    assert err.startswith("audit chain BROKEN at seq 1:") and "no checkpoint written" in err
    assert not checkpoint.exists()


def test_unreadable_or_unwritable_files_exit_2(capsys, tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    code, _, err = run(capsys, "audit_verify", "--checkpoint", str(missing))
    assert code == 2 and err.startswith("audit_verify: cannot read checkpoint")
    code, _, err = run(capsys, "audit_checkpoint", str(tmp_path / "no-such-dir" / "c.jsonl"))
    assert code == 2 and err.startswith("audit_checkpoint: cannot write")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_broken_chain_is_printed_once_by_the_real_command(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from django.conf import settings

    from tests.live import ROOT, database_url

    record(3)
    tamper(2, AuditEvent.objects.get(seq=2).body.replace("test.step", "test.edit"))
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "AUTHCHECK_DATA_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "audit_verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert (done.stdout + done.stderr).count("audit chain BROKEN at seq 2") == 1, done.stderr
