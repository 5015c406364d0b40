"""Signed verification reports (issue 8, item 8): a check's whole evidence, signed with the
newsroom's Ed25519 key, for a lawyer or a partner newsroom to check offline.

What goes in (docs/REPORTS.md): the check and its media hash; the C2PA report the automated
verdict rests on with its raw-manifest hash and versions; the signals with their detector
versions; every verdict and review, oldest first; the check's audit events with the status of
their links, and the head of the whole chain when the report was made.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.utils import timezone

from authcheck import presenters, selectors, signedjson
from authcheck.errors import AuthcheckError
from authcheck.models import AuditEvent, Check, ProvenanceReport
from authcheck.services.audit import audit_events_for_check, audit_verify, canonical_json

log = logging.getLogger(__name__)


def report_key_path() -> Path:
    """Where the newsroom's signing key lives (``AUTHCHECK_REPORT_KEY_FILE``)."""
    return Path(settings.AUTHCHECK_REPORT_KEY_FILE)


def report_key_load(*, create: bool = True) -> Ed25519PrivateKey:
    """The signing key; with ``create``, generated once when the file does not exist yet (the
    embedded default, as for the secret key: production mounts its own key file)."""
    path = report_key_path()
    if not path.exists() and create:
        try:
            log.warning("no report signing key at %s: generating one", path)
            return signedjson.generate_key_file(path)
        except FileExistsError:
            pass  # another process made it first: read theirs
    try:
        return signedjson.load_private_pem(path.read_bytes())
    except (OSError, signedjson.ReportSignatureError) as exc:
        raise AuthcheckError(
            f"the report signing key cannot be read: {exc}", code="report_key_invalid", status=500
        ) from exc


def _provenance(report: ProvenanceReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "id": report.pk,
        "state": report.state,
        "trust_version": report.trust_version,
        "sdk_version": report.sdk_version,
        "raw_manifest_sha256": report.raw_manifest_sha256 or None,
        "report": report.report,
    }


def _check_part(check: Check) -> dict[str, Any]:
    full = presenters.check_to_dict(check, detail=False)
    keys = (
        "id",
        "status",
        "source",
        "client",
        "note",
        "submitter",
        "created_at",
        "started_at",
        "finished_at",
        "error",
    )
    return {key: full[key] for key in keys}


def _audit_part(check: Check) -> dict[str, Any]:
    chain = audit_verify(check_id=check.pk)
    head = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    return {
        "events": [presenters.audit_event_to_dict(e) for e in audit_events_for_check(check.pk)],
        "chain": {
            "ok": chain.ok,
            "checked": chain.checked,
            "reason": chain.reason,
            "first_bad_seq": chain.first_bad_seq,
        },
        "chain_head": head,
    }


def report_payload(check: Check) -> dict[str, Any]:
    """The report's content for ``check`` (from ``selectors.checks_with_evidence``), as plain
    JSON types in the audit trail's normal form (datetimes ISO 8601, no NaN)."""
    evidence = selectors.check_evidence(check)
    history = sorted(selectors.verdicts_of(check), key=lambda v: v.pk)
    current = selectors.verdict_current_of(selectors.verdicts_of(check))
    payload = {
        "issuer": settings.AUTHCHECK_REPORT_ISSUER,
        "generated_at": timezone.now().isoformat(),
        "check": _check_part(check),
        "media": presenters.media_to_dict(check.media) if check.media else None,
        "provenance": _provenance(evidence.report),
        "signals": [presenters.signal_to_dict(s) for s in evidence.signals],
        "verdicts": [presenters.verdict_to_dict(v) for v in history],
        "current_verdict_id": current.pk if current else None,
        "audit": _audit_part(check),
    }
    normal: dict[str, Any] = json.loads(canonical_json(payload))
    return normal


def report_signed(check: Check) -> bytes:
    """The signed report file of ``check`` (``signedjson`` canonical envelope)."""
    return signedjson.sign(report_payload(check), report_key_load())
