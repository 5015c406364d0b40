"""Remote C2PA manifests and OCSP (``AUTHCHECK_C2PA_REMOTE_MANIFESTS``, ``AUTHCHECK_C2PA_OCSP``,
both off by default): the only network access of verification, all through the SSRF-safe client.

When an asset only points at a manifest URL, this fetcher downloads it through the same
SSRF-safe client as media fetches (https only, a size cap, an optional host allow-list) and
returns the bytes, which ``pipeline.provenance`` hands to c2pa as manifest data. c2pa's own
network access stays off in every case.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from authcheck.errors import AuthcheckError
from authcheck.limits import fetch_policy
from authcheck.pipeline.fetch import FetchPolicy, fetch
from authcheck.pipeline.ocsp import OcspError, OcspFetcher
from authcheck.pipeline.provenance import RemoteFetcher, RemoteFetchError
from authcheck.services.media import tmp_dir


def _policy() -> FetchPolicy:
    base = fetch_policy()
    return FetchPolicy(
        max_bytes=int(settings.AUTHCHECK_C2PA_REMOTE_MAX_BYTES),
        timeout_seconds=min(base.timeout_seconds, 30.0),
        max_redirects=base.max_redirects,
        allow_loopback=base.allow_loopback,
        allowed_ports=base.allowed_ports,
    )


def fetch_remote_manifest(url: str) -> bytes:
    """The bytes at ``url`` if it is https and (when a list is set) on an allowed host."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise RemoteFetchError(f"refused: remote manifests are fetched over https only ({url})")
    hosts = [h.lower() for h in settings.AUTHCHECK_C2PA_REMOTE_HOSTS]
    if hosts and (parts.hostname or "").lower() not in hosts:
        raise RemoteFetchError(f"refused: {parts.hostname} is not an allowed manifest host")
    try:
        fetched = fetch(url, tmp_dir(), _policy())
    except AuthcheckError as exc:
        raise RemoteFetchError(f"fetch failed: {exc.code}: {exc.message}") from exc
    try:
        return fetched.path.read_bytes()
    finally:
        fetched.path.unlink(missing_ok=True)


def remote_manifest_fetcher() -> RemoteFetcher | None:
    """The fetcher when the setting is on, else None (the reference is only recorded)."""
    return fetch_remote_manifest if settings.AUTHCHECK_C2PA_REMOTE_MANIFESTS else None


OCSP_MAX_BYTES = 64 * 1024


def fetch_ocsp(url: str) -> bytes:
    """An OCSP response (http or https: responses are signed) from a responder that
    ``pipeline.ocsp`` chose because its certificate chains to a configured list."""
    base = fetch_policy()
    policy = FetchPolicy(
        max_bytes=OCSP_MAX_BYTES,
        timeout_seconds=min(base.timeout_seconds, 10.0),
        max_redirects=0,
        allow_loopback=base.allow_loopback,
        allowed_ports=base.allowed_ports,
    )
    try:
        fetched = fetch(url, tmp_dir(), policy)
    except AuthcheckError as exc:
        raise OcspError(f"fetch failed: {exc.code}: {exc.message}") from exc
    try:
        return fetched.path.read_bytes()
    finally:
        fetched.path.unlink(missing_ok=True)


def ocsp_fetcher() -> OcspFetcher | None:
    """The OCSP fetcher when the setting is on, else None."""
    return fetch_ocsp if settings.AUTHCHECK_C2PA_OCSP else None
