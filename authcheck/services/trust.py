"""The current C2PA trust configuration: the C2PA and TSA lists (shipped or imported), PEM files
from settings plus anchors managed by admins, and the optional legacy interim pass.

Called before every verification, so it is cached: the cache key is the files' identity
(path, mtime, size), the (id, sha256) of the enabled ``TrustAnchor`` rows and the newest import
of each named list, which costs one ``stat`` per file and one small query. Any change
produces a new ``TrustConfig.version``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Max, Value

from authcheck.models import TrustAnchor, TrustListImport
from authcheck.pipeline.provenance import TrustConfig
from authcheck.services.trust_lists import SHIPPED, legacy_ekus, trust_list_pem

log = logging.getLogger(__name__)

_lock = threading.Lock()
_cached: tuple[Any, TrustConfig] | None = None


def _file_key(paths: Iterable[str]) -> tuple[tuple[str, float, int], ...]:
    key = []
    for path in paths:
        try:
            stat = os.stat(path)
            key.append((path, stat.st_mtime, stat.st_size))
        except OSError:
            key.append((path, -1.0, -1))
    return tuple(key)


def _read_pems(paths: Iterable[str]) -> str:
    texts = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as handle:
                texts.append(handle.read())
        except (OSError, UnicodeDecodeError) as exc:
            # Fail towards "untrusted": a missing anchor file can only make fewer signers
            # trusted, and the changed trust version shows on every report.
            log.error("cannot read C2PA trust file %s: %s", path, exc)
    return "\n".join(texts)


def _database_key() -> tuple[tuple[tuple[int, str], ...], tuple[tuple[str, int], ...]]:
    """The enabled anchors' (id, sha256) and ``trust_list_key()``, in one query (a UNION):
    every verification asks, so it costs one database round trip, not two."""
    anchors = (
        TrustAnchor.objects.filter(enabled=True)
        .annotate(kind=Value("anchor"))
        .values_list("kind", "pk", "sha256")
    )
    lists = (
        TrustListImport.objects.values("name")
        .annotate(kind=Value("list"), newest=Max("id"))
        .values_list("kind", "newest", "name")
    )
    rows = list(anchors.union(lists, all=True))
    newest = {name: int(pk) for kind, pk, name in rows if kind == "list"}
    return (
        tuple(sorted((int(pk), sha) for kind, pk, sha in rows if kind == "anchor")),
        tuple((name, newest.get(name, 0)) for name in sorted(SHIPPED)),
    )


def _named_lists(shipped: bool, newsroom: str) -> tuple[tuple[str, str], ...]:
    """(name, pem) of every anchor list: the C2PA and TSA lists (shipped or imported), then the
    newsroom's own anchors (settings files and enabled database rows)."""
    lists = [("c2pa", trust_list_pem("c2pa")), ("tsa", trust_list_pem("tsa"))] if shipped else []
    return (*lists, ("newsroom", newsroom))


def trust_config_current() -> TrustConfig:
    """The TrustConfig every verification uses now (lists, settings files, enabled anchors)."""
    global _cached
    anchor_files = list(settings.AUTHCHECK_TRUST_ANCHORS)
    allowed_files = list(getattr(settings, "AUTHCHECK_TRUST_ALLOWED_LIST", []))
    max_mb = int(getattr(settings, "AUTHCHECK_C2PA_MAX_MANIFEST_MB", 16))
    shipped = bool(getattr(settings, "AUTHCHECK_TRUST_C2PA_LISTS", True))
    legacy = bool(getattr(settings, "AUTHCHECK_TRUST_LEGACY_PASS", False))
    remote = bool(getattr(settings, "AUTHCHECK_C2PA_REMOTE_MANIFESTS", False))
    revocation = bool(getattr(settings, "AUTHCHECK_C2PA_OCSP", False))
    key = (
        _file_key(anchor_files),
        _file_key(allowed_files),
        _database_key(),
        max_mb,
        shipped,
        legacy,
        remote,
        revocation,
    )
    with _lock:
        if _cached is not None and _cached[0] == key:
            return _cached[1]
    db_pems = TrustAnchor.objects.filter(enabled=True).order_by("pk").values_list("pem", flat=True)
    newsroom = "\n".join([_read_pems(anchor_files), *db_pems]).strip()
    lists = _named_lists(shipped, newsroom)
    config = TrustConfig(
        anchors_pem="\n".join(pem.strip() for _, pem in lists if pem.strip()),
        allowed_pem=_read_pems(allowed_files).strip(),
        max_manifest_mb=max_mb,
        lists=lists,
        legacy_anchors_pem=trust_list_pem("legacy") if legacy else "",
        legacy_allowed_pem=trust_list_pem("legacy-allowed") if legacy else "",
        legacy_ekus=legacy_ekus() if legacy else (),
        remote_manifests=remote,
        ocsp=revocation,
    )
    with _lock:
        _cached = (key, config)
    return config


def trust_cache_clear() -> None:
    """Forget the cached configuration (tests, or after bulk changes)."""
    global _cached
    with _lock:
        _cached = None
