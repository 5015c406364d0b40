"""OCSP revocation status of a C2PA signing certificate (``AUTHCHECK_C2PA_OCSP``, off by default).

Pure: the caller passes a fetcher (the SSRF-safe client). A responder is only asked when the
signer's chain ends at a certificate of a configured trust list, so an attacker's certificate
cannot make authcheck call an address of the attacker's choosing. The response must be signed by
the issuer or by a responder certificate the issuer delegated (EKU OCSPSigning); anything else
is reported as an error, never as "good". c2pa's own OCSP fetching stays off.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

# Fetches the bytes of an http(s) GET through the SSRF-safe client; raises OcspError.
OcspFetcher = Callable[[str], bytes]


class OcspError(Exception):
    """The responder could not be asked or gave no usable answer; the message says why."""


def responder_url(leaf: x509.Certificate) -> str | None:
    """The OCSP responder named in the certificate's Authority Information Access."""
    try:
        aia = leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return None
    for access in aia:
        if access.access_method == AuthorityInformationAccessOID.OCSP:
            return str(access.access_location.value)
    return None


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def chains_to(chain: list[x509.Certificate], anchors: list[x509.Certificate]) -> bool:
    """The chain is linked certificate by certificate and ends at (or under) an anchor."""
    if not chain or any(not _issued_by(c, p) for c, p in itertools.pairwise(chain)):
        return False
    top = chain[-1]
    return any(top == a or _issued_by(top, a) for a in anchors)


def _verify(response: ocsp.OCSPResponse, issuer: x509.Certificate) -> None:
    signer = issuer
    if response.responder_name != issuer.subject or response.certificates:
        delegated = [c for c in response.certificates if _issued_by(c, issuer)]
        for cert in delegated:
            try:
                eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            except x509.ExtensionNotFound:
                continue
            if ExtendedKeyUsageOID.OCSP_SIGNING in eku:
                signer = cert
                break
    key = signer.public_key()
    algorithm = response.signature_hash_algorithm or hashes.SHA256()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(
                response.signature, response.tbs_response_bytes, padding.PKCS1v15(), algorithm
            )
        else:
            raise OcspError("unsupported responder key type")
    except InvalidSignature as exc:
        raise OcspError("the OCSP response signature does not verify") from exc


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def check(
    chain: list[x509.Certificate], anchors: list[x509.Certificate], fetch: OcspFetcher
) -> dict[str, Any]:
    """Ask the leaf's responder for its status; the answer with its times, or why not."""
    leaf = chain[0] if chain else None
    url = responder_url(leaf) if leaf is not None else None
    out: dict[str, Any] = {"checked": False, "responder": url, "status": None}
    if leaf is None or len(chain) < 2:
        return {**out, "reason": "no certificate chain with an issuer in the signature"}
    if url is None:
        return {**out, "reason": "the signing certificate names no OCSP responder"}
    if not chains_to(chain, anchors):
        return {**out, "reason": "not asked: the chain does not end at a configured trust list"}
    issuer = chain[1]
    request = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA1()).build()  # noqa: S303
    encoded = quote(base64.b64encode(request.public_bytes(Encoding.DER)).decode(), safe="")
    try:
        response = ocsp.load_der_ocsp_response(fetch(url.rstrip("/") + "/" + encoded))
        if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise OcspError(f"responder answered {response.response_status.name}")
        if response.serial_number != leaf.serial_number:
            raise OcspError("the response is about another certificate")
        _verify(response, issuer)
    except (OcspError, ValueError) as exc:
        return {**out, "checked": True, "status": "error", "error": str(exc)}
    return {
        **out,
        "checked": True,
        "status": response.certificate_status.name.lower(),  # good, revoked, unknown
        "produced_at": _iso(response.produced_at_utc),
        "this_update": _iso(response.this_update_utc),
        "next_update": _iso(response.next_update_utc),
        "revoked_at": _iso(response.revocation_time_utc),
    }
