"""Remote manifests: the reference is recorded with the setting off and nothing is requested;
with it on, only authcheck's SSRF-safe client fetches (https only, host allow-list), the bytes
go to c2pa as manifest data and the URL and hash are recorded. c2pa never connects: a loopback
canary named as the manifest URL sees no connection in either case."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from authcheck.services.trust import trust_cache_clear
from authcheck.services.verify import verify_path
from tests.c2pa_fixtures import Canary, _jpeg, manifest, sign
from tests.pipeline import test_fetch

# The https test server, its trusted CA and the fake resolver of the fetcher's own tests.
tls_server = test_fetch.tls_server
network = test_fetch.network
_trusting = test_fetch._trusting

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings) -> None:
    settings.AUTHCHECK_TRUST_ANCHORS = []
    settings.AUTHCHECK_C2PA_REMOTE_MANIFESTS = False
    settings.AUTHCHECK_C2PA_REMOTE_HOSTS = []
    settings.AUTHCHECK_FETCH_ALLOW_LOOPBACK = True
    trust_cache_clear()


@pytest.fixture
def canary():  # type: ignore[no-untyped-def]
    server = Canary()
    yield server
    server.close()


def _remote_jpeg(tmp_path: Path, url: str) -> tuple[Path, bytes]:
    path = tmp_path / "remote.jpg"
    sidecar = sign(
        _jpeg(tmp_path / "src.jpg"), path, "image/jpeg", manifest("remote.jpg"), remote_url=url
    )
    return path, sidecar


@pytest.mark.parametrize("setting", [False, True])
def test_c2pa_never_connects_and_http_is_never_fetched(
    tmp_path: Path, canary: Canary, settings, setting: bool
) -> None:
    settings.AUTHCHECK_C2PA_REMOTE_MANIFESTS = setting
    url = f"http://127.0.0.1:{canary.port}/manifest.c2pa"
    path, _ = _remote_jpeg(tmp_path, url)
    report = verify_path(path)
    assert report["error_code"] == "c2pa_remote_manifest_required"
    assert report["remote_manifest"]["url"] == url
    assert report["remote_manifest"]["fetched"] is False
    expected = "https only" if setting else "not fetched"
    assert expected in report["remote_manifest"]["error"]
    assert canary.connections_settled() == 0


def test_with_the_setting_on_the_manifest_is_fetched_verified_and_hashed(
    tmp_path: Path,
    settings,
    tls_server,
    network,
    monkeypatch,
) -> None:
    srv, ca_pem = tls_server
    _trusting(monkeypatch, ca_pem)
    network.answer("media.test", ["127.0.0.1"])
    url = srv.url("/m/1.c2pa", host="media.test", scheme="https")
    path, sidecar = _remote_jpeg(tmp_path, url)
    srv.body("/m/1.c2pa", sidecar)
    settings.AUTHCHECK_C2PA_REMOTE_MANIFESTS = True
    report = verify_path(path)
    assert report["state"] == "valid", report["remote_manifest"]
    assert report["active_manifest"]["title"] == "remote.jpg"
    assert report["remote_manifest"] == {
        "url": url,
        "fetched": True,
        "sha256": hashlib.sha256(sidecar).hexdigest(),
        "size": len(sidecar),
    }
    assert len(srv.requests) == 1


def test_a_host_off_the_allow_list_is_not_fetched(
    tmp_path: Path,
    settings,
    tls_server,
    network,
    monkeypatch,
) -> None:
    srv, ca_pem = tls_server
    _trusting(monkeypatch, ca_pem)
    network.answer("media.test", ["127.0.0.1"])
    url = srv.url("/m/1.c2pa", host="media.test", scheme="https")
    path, sidecar = _remote_jpeg(tmp_path, url)
    srv.body("/m/1.c2pa", sidecar)
    settings.AUTHCHECK_C2PA_REMOTE_MANIFESTS = True
    settings.AUTHCHECK_C2PA_REMOTE_HOSTS = ["credentials.example.org"]
    report = verify_path(path)
    assert "not an allowed manifest host" in report["remote_manifest"]["error"]
    assert srv.requests == []
