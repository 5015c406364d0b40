"""Admin-managed C2PA trust anchors: add (validated), disable, list; every change audited.

Anchors stored here are added to those of ``AUTHCHECK_TRUST_ANCHORS``. Any change yields a new
trust configuration version, so the next check of a media re-verifies it under the new list.
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.db import transaction

from authcheck.errors import AuthcheckError
from authcheck.models import TrustAnchor, User
from authcheck.services.audit import actor_of, audit_record
from authcheck.services.trust import trust_cache_clear

MAX_PEM_BYTES = 64 * 1024


class TrustAnchorError(AuthcheckError):
    code = "trust_anchor_invalid"
    status = 400


def _certificate(pem: str) -> x509.Certificate:
    """The one CA certificate in ``pem``; anything else is refused with a reason."""
    if len(pem.encode()) > MAX_PEM_BYTES:
        raise TrustAnchorError("the PEM file is too large for one certificate")
    try:
        certs = x509.load_pem_x509_certificates(pem.encode())
    except ValueError as exc:
        raise TrustAnchorError("not a PEM certificate") from exc
    if len(certs) != 1:
        raise TrustAnchorError(f"expected one certificate, found {len(certs)}")
    cert = certs[0]
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise TrustAnchorError("the certificate is not a CA (basicConstraints CA:TRUE missing)")
    return cert


def trust_anchor_add(*, pem: str, name: str, user: User | None) -> TrustAnchor:
    """Add (or re-enable) a CA certificate as a trust anchor; audited in the same transaction."""
    cert = _certificate(pem)
    sha256 = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
    label = (name or cert.subject.rfc4514_string())[:200]
    with transaction.atomic():
        anchor, created = TrustAnchor.objects.select_for_update().get_or_create(
            sha256=sha256,
            defaults={
                "name": label,
                "pem": cert.public_bytes(Encoding.PEM).decode(),
                "created_by": user,
            },
        )
        if not created and anchor.enabled:
            return anchor
        anchor.enabled = True
        anchor.save(update_fields=["enabled"])
        audit_record(
            actor=actor_of(user),
            action="trust_anchor.added" if created else "trust_anchor.enabled",
            object_type="trust_anchor",
            object_id=anchor.pk,
            data={"sha256": sha256, "name": anchor.name, "subject": cert.subject.rfc4514_string()},
        )
        transaction.on_commit(trust_cache_clear)
    return anchor


def trust_anchor_disable(*, sha256: str, user: User | None) -> TrustAnchor:
    """Stop trusting an anchor (kept for the record, never deleted); audited."""
    with transaction.atomic():
        anchor = TrustAnchor.objects.select_for_update().filter(sha256=sha256.lower()).first()
        if anchor is None:
            raise TrustAnchorError(f"no trust anchor {sha256}", code="not_found", status=404)
        if anchor.enabled:
            anchor.enabled = False
            anchor.save(update_fields=["enabled"])
            audit_record(
                actor=actor_of(user),
                action="trust_anchor.disabled",
                object_type="trust_anchor",
                object_id=anchor.pk,
                data={"sha256": anchor.sha256, "name": anchor.name},
            )
            transaction.on_commit(trust_cache_clear)
    return anchor
