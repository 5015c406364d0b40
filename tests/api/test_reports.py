"""Signed verification reports: the API serves them, ``verify_report`` checks them offline and
refuses any changed byte or another key."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from authcheck import signedjson
from authcheck.models import AuditEvent, Verdict
from authcheck.services import processing
from tests.api.helpers import problem
from tests.commands.helpers import run_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed_check(jo, ed, jpeg, committed, enqueued, settings) -> int:
    """An uploaded JPEG run through the real pipeline, then reviewed by an editor."""
    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]
    handle = io.BytesIO(jpeg.read_bytes())
    handle.name = "photo.jpg"
    with committed(execute=True):
        check_id = jo.post("/api/v1/checks", {"file": handle}, format="multipart").json()["id"]
    assert processing.check_process(check_id) == "done"
    review = {"decision": "inconclusive", "note": "needs a second source"}
    assert ed.post(f"/api/v1/checks/{check_id}/reviews", review, format="json").status_code == 201
    return check_id


def fetch_report(client, check_id: int) -> bytes:
    response = client.get(f"/api/v1/checks/{check_id}/report")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    return response.content


def test_the_report_holds_the_whole_evidence_and_verifies(jo, reviewed_check, jpeg) -> None:
    data = fetch_report(jo, reviewed_check)
    verified = signedjson.verify(data)
    payload = verified.payload
    assert payload["check"]["id"] == reviewed_check
    media_sha = payload["media"]["sha256"]
    assert len(media_sha) == 64
    assert payload["provenance"]["state"] == "absent"
    assert set(payload["provenance"]) >= {"raw_manifest_sha256", "trust_version", "sdk_version"}
    assert [(s["detector"], s["version"]) for s in payload["signals"]] == [("ai_labels", "1")]
    kinds = [v["kind"] for v in payload["verdicts"]]
    assert kinds == ["automated", "review"]
    assert payload["current_verdict_id"] == Verdict.objects.get(author__isnull=False).pk
    actions = [e["action"] for e in payload["audit"]["events"]]
    assert actions[0] == "check.created" and "review.recorded" in actions
    assert payload["audit"]["chain"]["ok"] is True
    head = AuditEvent.objects.order_by("-seq").first()
    assert head is not None
    assert payload["audit"]["chain_head"] == {"seq": head.seq, "hash": head.hash}


def test_verify_report_accepts_the_untouched_file_with_the_public_key(
    jo, reviewed_check, tmp_path: Path, capsys
) -> None:
    report = tmp_path / "report.json"
    report.write_bytes(fetch_report(jo, reviewed_check))
    code, out, _ = run_command(capsys, "report_key")
    assert code == 0 and "BEGIN PUBLIC KEY" in out
    pem = tmp_path / "newsroom.pub"
    pem.write_text(out.split("\n", 1)[1])
    code, out, err = run_command(capsys, "verify_report", str(report), "--public-key", str(pem))
    assert code == 0, err
    assert out.startswith(f"report OK: check #{reviewed_check}")


def test_every_changed_byte_is_rejected(jo, reviewed_check) -> None:
    data = fetch_report(jo, reviewed_check)
    public = signedjson.load_public_pem(
        signedjson.public_pem(signedjson.load_private_pem(_key_bytes()).public_key()).encode()
    )
    signedjson.verify(data, public)
    for position in range(len(data)):
        for flip in (0x01, 0x20):
            changed = bytearray(data)
            changed[position] ^= flip
            with pytest.raises(signedjson.ReportSignatureError):
                signedjson.verify(bytes(changed), public)
    with pytest.raises(signedjson.ReportSignatureError):
        signedjson.verify(data + b" ", public)
    with pytest.raises(signedjson.ReportSignatureError):
        signedjson.verify(data[:-1], public)


def _key_bytes() -> bytes:
    from django.conf import settings

    return Path(settings.AUTHCHECK_REPORT_KEY_FILE).read_bytes()


@pytest.mark.parametrize("where", ["payload", "signature", "whitespace"])
def test_verify_report_exits_1_on_a_change(
    jo, reviewed_check, tmp_path: Path, capsys, where: str
) -> None:
    data = fetch_report(jo, reviewed_check)
    if where == "payload":
        changed = data.replace(b'"decision":"inconclusive"', b'"decision":"authentic"')
    elif where == "signature":
        envelope = json.loads(data)
        value = envelope["signature"]["value"]
        envelope["signature"]["value"] = ("B" if value[0] == "A" else "A") + value[1:]
        changed = signedjson.canonical(envelope) + b"\n"
    else:
        changed = data.replace(b'{"format"', b'{ "format"', 1)
    assert changed != data
    report = tmp_path / "report.json"
    report.write_bytes(changed)
    code, out, err = run_command(capsys, "verify_report", str(report))
    assert code == 1 and out == "" and "REJECTED" in err


def test_a_report_signed_by_another_key_is_rejected(jo, reviewed_check, tmp_path, capsys):
    data = fetch_report(jo, reviewed_check)
    forged = signedjson.sign(signedjson.verify(data).payload, Ed25519PrivateKey.generate())
    report = tmp_path / "forged.json"
    report.write_bytes(forged)
    code, _, err = run_command(capsys, "verify_report", str(report))
    assert code == 1 and "another key" in err


def test_someone_elses_check_has_no_report(client_for, reviewed_check) -> None:
    from tests.factories import UserFactory

    other = client_for(UserFactory(username="mo"))
    problem(other.get(f"/api/v1/checks/{reviewed_check}/report"), 404, "not_found")


def test_report_key_generate_refuses_to_overwrite(tmp_path, capsys, settings) -> None:
    settings.AUTHCHECK_REPORT_KEY_FILE = tmp_path / "k.pem"
    code, out, _ = run_command(capsys, "report_key", "--generate")
    assert code == 0 and "BEGIN PUBLIC KEY" in out
    assert (tmp_path / "k.pem").stat().st_mode & 0o777 == 0o600
    code, _, err = run_command(capsys, "report_key", "--generate")
    assert code == 2 and "exists" in err


def test_the_cli_saves_the_same_report_and_it_verifies(jo, reviewed_check, tmp_path, capsys):
    path = tmp_path / "cli.json"
    code, _, err = run_command(capsys, "report", str(reviewed_check), "--out", str(path))
    assert code == 0, err
    saved = signedjson.verify(path.read_bytes()).payload
    served = signedjson.verify(fetch_report(jo, reviewed_check)).payload
    assert {k: v for k, v in saved.items() if k != "generated_at"} == {
        k: v for k, v in served.items() if k != "generated_at"
    }
    code, _, err = run_command(capsys, "report", "999999")
    assert code == 2 and "no check" in err
