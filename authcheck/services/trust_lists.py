"""Named C2PA trust lists: shipped as data, replaced by ``trust_import`` (audited).

Lists: ``c2pa`` (official C2PA trust list), ``tsa`` (C2PA time-stamping authority list), and the
frozen ``legacy`` interim anchors with their ``legacy-allowed`` end-entity list. The bundle in
use for a name is the newest ``TrustListImport`` row of that name, else the shipped file in
``authcheck/trust_data/``. Nothing is fetched at verification time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from django.db import transaction
from django.db.models import Max

from authcheck.errors import AuthcheckError
from authcheck.models import TrustListImport
from authcheck.pipeline.provenance import normalise_pem
from authcheck.services.audit import audit_record

DATA_DIR = Path(__file__).resolve().parent.parent / "trust_data"
SHIPPED = {
    "c2pa": DATA_DIR / "C2PA-TRUST-LIST.pem",
    "tsa": DATA_DIR / "C2PA-TSA-TRUST-LIST.pem",
    "legacy": DATA_DIR / "legacy-interim" / "anchors.pem",
    "legacy-allowed": DATA_DIR / "legacy-interim" / "allowed.pem",
}
LEGACY_EKU_FILE = DATA_DIR / "legacy-interim" / "store.cfg"
MAX_BUNDLE_BYTES = 4 * 1024 * 1024


class TrustListError(AuthcheckError):
    code = "trust_list_invalid"
    status = 400


@dataclass(frozen=True)
class ImportResult:
    """What ``trust_list_import`` stored (or found unchanged)."""

    name: str
    sha256: str
    certificates: int
    previous_sha256: str
    changed: bool


def _bundle_sha256(pem: str) -> str:
    return hashlib.sha256(normalise_pem(pem).encode()).hexdigest()


def trust_list_pem(name: str) -> str:
    """The PEM bundle in use for ``name``: the newest import, else the shipped file."""
    row = TrustListImport.objects.filter(name=name).order_by("-id").only("pem").first()
    if row is not None:
        return row.pem
    return SHIPPED[name].read_text(encoding="utf-8")


def trust_list_key() -> tuple[tuple[str, int], ...]:
    """Cheap identity of the imported lists (newest row id per name, one query), for caching."""
    newest = dict(
        TrustListImport.objects.values("name")
        .annotate(newest=Max("id"))
        .values_list("name", "newest")
    )
    return tuple((name, int(newest.get(name) or 0)) for name in sorted(SHIPPED))


def legacy_ekus() -> tuple[str, ...]:
    """The extended key usage OIDs of the legacy store config (``//`` lines are comments)."""
    lines = LEGACY_EKU_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("//"))


def _certificates(pem: str) -> list[x509.Certificate]:
    if len(pem.encode()) > MAX_BUNDLE_BYTES:
        raise TrustListError(f"the bundle is larger than {MAX_BUNDLE_BYTES} bytes")
    try:
        certs = x509.load_pem_x509_certificates(pem.encode())
    except ValueError as exc:
        raise TrustListError(f"not a PEM certificate bundle: {exc}") from exc
    if not certs:
        raise TrustListError("the bundle holds no certificate")
    return certs


def trust_list_import(*, name: str, pems: Sequence[tuple[str, str]], actor: str) -> ImportResult:
    """Replace list ``name`` with the certificates of ``pems`` ((source, text) pairs); audited.

    Every certificate must parse; an unchanged bundle records nothing. The new bundle changes the
    trust configuration hash, so media verified before are re-verified under it.
    """
    if name not in SHIPPED:
        raise TrustListError(f"unknown trust list {name!r}; one of {', '.join(sorted(SHIPPED))}")
    certs = [cert for _, text in pems for cert in _certificates(text)]
    pem = normalise_pem("\n".join(text for _, text in pems))
    sha256 = _bundle_sha256(pem)
    with transaction.atomic():
        previous = _bundle_sha256(trust_list_pem(name))
        if previous == sha256:
            return ImportResult(name, sha256, len(certs), previous, changed=False)
        row = TrustListImport.objects.create(
            name=name,
            pem=pem,
            sha256=sha256,
            certificates=len(certs),
            source=", ".join(source for source, _ in pems)[:500],
        )
        audit_record(
            actor=actor,
            action="trust_list.imported",
            object_type="trust_list",
            object_id=row.pk,
            data={
                "list": name,
                "sha256": sha256,
                "previous_sha256": previous,
                "certificates": len(certs),
                "source": row.source,
            },
        )
    return ImportResult(name, sha256, len(certs), previous, changed=True)
