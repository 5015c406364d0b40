"""W12: with media in object storage the dashboard's player is sent (302) to a short-lived
presigned URL on the storage domain; the app origin never serves the bytes. Against moto's S3
server over HTTP on 127.0.0.1.

moto 5.2 does not verify presigned signatures or their expiry (a forged or expired query
signature is served; with ``INITIAL_NO_AUTH_ACTION_COUNT=0`` its IAM check reads only the
``Authorization`` header and fails with a 500 on query auth). So the storage's 403 is tested
for unsigned requests, and the signature and its expiry are verified here with an independent
SigV4 check; a real store's 403 on an expired URL is the deployment check in
deploy/SECURITY-CHECKS.md (W12).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import importlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit

import httpx
import pytest
from django.test import Client
from rest_framework.test import APIClient

from authcheck import storage
from authcheck.models import Check, Role
from authcheck.services.tokens import token_create
from tests.dashboard.conftest import client_for, person
from tests.deploy.s3server import KEY_ID, REGION, S3, SECRET
from tests.mediagen import make_image

pytestmark = pytest.mark.django_db


def _sigv4_query_ok(url: str, secret: str) -> bool:
    """True when ``url`` carries a valid AWS SigV4 query signature for a GET (S3 presigning)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    given = dict(query).get("X-Amz-Signature", "")
    signed = sorted((k, v) for k, v in query if k != "X-Amz-Signature")
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in signed
    )
    fields = dict(signed)
    canonical = "\n".join(
        ["GET", parts.path, canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"]
    )
    scope = fields["X-Amz-Credential"].split("/", 1)[1]
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            fields["X-Amz-Date"],
            scope,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = f"AWS4{secret}".encode()
    for piece in scope.split("/"):
        key = hmac.new(key, piece.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


@pytest.fixture
def uploaded(s3: S3, tmp_path: Path, enqueued: list[int]) -> Check:
    """A journalist's JPEG, uploaded through the API and stored in the bucket."""
    owner = person("owner", Role.JOURNALIST)
    _, raw = token_create(user=owner, name="w12")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    path = make_image(tmp_path / "src.jpg", size=(96, 64))
    with open(path, "rb") as handle:
        response = api.post("/api/v1/checks", {"file": handle}, format="multipart")
    assert response.status_code == 202, response.content
    check = Check.objects.get(pk=response.json()["id"])
    assert check.media is not None and s3.keys()  # in the bucket, not on this disk
    return check


def _player(check: Check) -> str:
    response = client_for(check.submitter).get(f"/dashboard/checks/{check.pk}/media")
    assert response.status_code == 302, response.status_code
    assert response["Cache-Control"] == "no-store"
    return str(response["Location"])


def test_the_player_is_redirected_to_a_signed_short_lived_url_on_the_storage_domain(
    s3: S3, uploaded: Check, settings
) -> None:
    settings.AUTHCHECK_MEDIA_URL_SECONDS = 60
    before = datetime.now(UTC).replace(microsecond=0)
    location = _player(uploaded)
    target = urlsplit(location)
    from authcheck.settings import storage_origin

    assert f"{target.scheme}://{target.netloc}" == storage_origin(
        s3.endpoint, s3.bucket, REGION, "path"
    )
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Credential"].startswith(f"{KEY_ID}/")
    assert _sigv4_query_ok(location, SECRET)
    assert not _sigv4_query_ok(location, SECRET + "x")
    signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before - timedelta(seconds=5) <= signed_at <= datetime.now(UTC)
    assert 0 < int(query["X-Amz-Expires"]) <= settings.AUTHCHECK_MEDIA_URL_SECONDS
    assert query["response-content-type"] == "image/jpeg"
    assert "response-content-disposition" not in query  # plays inline
    served = httpx.get(location)
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == uploaded.media.sha256  # type: ignore[union-attr]
    assert served.headers["content-type"] == "image/jpeg"


def test_the_storage_answers_403_to_the_object_url_without_its_signature(
    s3: S3, uploaded: Check
) -> None:
    location = _player(uploaded)
    assert httpx.get(location.split("?", 1)[0]).status_code == 403
    target = urlsplit(location)
    query = [(k, v) for k, v in parse_qsl(target.query) if k != "X-Amz-Signature"]
    stripped = target._replace(query=urlencode(query)).geturl()
    assert httpx.get(stripped).status_code == 403


def test_a_type_that_must_not_play_comes_from_the_storage_as_an_octet_stream_download(
    s3: S3, uploaded: Check
) -> None:
    media = uploaded.media
    assert media is not None
    media.mime = "image/svg+xml"  # as if sniffed so: never rendered by a browser
    media.save(update_fields=["mime"])
    location = _player(uploaded)
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["response-content-type"] == "application/octet-stream"
    assert query["response-content-disposition"] == 'attachment; filename="media"'
    served = httpx.get(location)
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment")


def test_another_users_check_is_404_with_no_redirect(s3: S3, uploaded: Check) -> None:
    stranger = client_for(person("stranger", Role.JOURNALIST))
    response = stranger.get(f"/dashboard/checks/{uploaded.pk}/media")
    assert response.status_code == 404 and "Location" not in response
    assert Client().get(f"/dashboard/checks/{uploaded.pk}/media").status_code == 302  # login
    assert (
        "X-Amz-Signature" not in Client().get(f"/dashboard/checks/{uploaded.pk}/media")["Location"]
    )


def _csp_with(monkeypatch, **env: str) -> dict[str, Any]:
    """CONTENT_SECURITY_POLICY as settings.py builds it from ``env``."""
    import authcheck.settings as module

    for name in (
        "AUTHCHECK_STORAGE",
        "AUTHCHECK_S3_ENDPOINT_URL",
        "AUTHCHECK_S3_PUBLIC_ENDPOINT_URL",
        "AUTHCHECK_MEDIA_ORIGIN",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    try:
        return copy.deepcopy(importlib.reload(module).CONTENT_SECURITY_POLICY)
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def test_the_dashboard_csp_allows_the_storage_origin_only_with_object_storage(
    s3: S3, uploaded: Check, monkeypatch, settings
) -> None:
    local = _csp_with(monkeypatch)["DIRECTIVES"]
    assert local["media-src"] == ["'self'"] and local["img-src"] == ["'self'"]
    remote = _csp_with(
        monkeypatch,
        AUTHCHECK_STORAGE="s3",
        AUTHCHECK_S3_BUCKET=s3.bucket,
        AUTHCHECK_S3_ENDPOINT_URL="http://minio:9000",  # internal: signed for the public one
        AUTHCHECK_S3_PUBLIC_ENDPOINT_URL=s3.endpoint,
        AUTHCHECK_S3_REGION=REGION,
    )
    settings.CONTENT_SECURITY_POLICY = remote
    page = client_for(uploaded.submitter).get(f"/dashboard/checks/{uploaded.pk}")
    assert page.status_code == 200
    policy = dict(
        (d.split()[0], d.split()[1:]) for d in page["Content-Security-Policy"].split(";") if d
    )
    target = urlsplit(_player(uploaded))
    assert f"{target.scheme}://{target.netloc}" in policy["media-src"]
    assert f"{target.scheme}://{target.netloc}" in policy["img-src"]
    assert "'self'" in policy["media-src"] and len(policy["media-src"]) == 2
    cdn = _csp_with(
        monkeypatch,
        AUTHCHECK_STORAGE="s3",
        AUTHCHECK_S3_BUCKET=s3.bucket,
        AUTHCHECK_MEDIA_ORIGIN="https://media.example.org",
    )["DIRECTIVES"]
    assert cdn["media-src"] == ["'self'", "https://media.example.org"]


@pytest.mark.parametrize(
    ("endpoint", "region", "style", "origin"),
    [
        ("", "", "path", "https://s3.amazonaws.com"),
        ("", "eu-west-1", "path", "https://s3.eu-west-1.amazonaws.com"),
        ("", "eu-west-1", "virtual", "https://bkt-1.s3.eu-west-1.amazonaws.com"),
        ("http://minio:9000", "us-east-1", "path", "http://minio:9000"),
    ],
)
def test_the_storage_origin_is_the_one_boto3_presigns_for(
    endpoint: str, region: str, style: str, origin: str
) -> None:
    import boto3
    from botocore.config import Config

    from authcheck.settings import storage_origin

    client = boto3.client(
        "s3",
        endpoint_url=endpoint or None,
        region_name=region or None,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        config=Config(s3={"addressing_style": style}, signature_version="s3v4"),
    )
    url = client.generate_presigned_url("get_object", Params={"Bucket": "bkt-1", "Key": "k"})
    parts = urlsplit(url)
    assert storage_origin(endpoint, "bkt-1", region, style) == origin
    assert f"{parts.scheme}://{parts.netloc}" == origin


def test_with_only_an_internal_endpoint_the_app_streams_the_media_and_allows_no_storage_origin(
    s3: S3, uploaded: Check, monkeypatch, settings
) -> None:
    """A URL signed for http://minio:9000 would not load in a reviewer's browser."""
    settings.AUTHCHECK_S3_PUBLIC_ENDPOINT_URL = ""
    settings.AUTHCHECK_MEDIA_REDIRECT = False
    assert uploaded.media is not None and storage.media_url(uploaded.media) is None
    response = client_for(uploaded.submitter).get(f"/dashboard/checks/{uploaded.pk}/media")
    assert response.status_code == 200 and "Location" not in response
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert hashlib.sha256(body).hexdigest() == uploaded.media.sha256
    assert response["X-Content-Type-Options"] == "nosniff"
    internal = _csp_with(
        monkeypatch,
        AUTHCHECK_STORAGE="s3",
        AUTHCHECK_S3_BUCKET=s3.bucket,
        AUTHCHECK_S3_ENDPOINT_URL="http://minio:9000",
    )["DIRECTIVES"]
    assert internal["media-src"] == ["'self'"] and internal["img-src"] == ["'self'"]


def test_the_redirect_is_signed_for_the_public_endpoint_not_the_internal_one(
    s3: S3, uploaded: Check, settings
) -> None:
    public = s3.endpoint.replace("127.0.0.1", "localhost")
    settings.AUTHCHECK_S3_PUBLIC_ENDPOINT_URL = public
    location = _player(uploaded)
    assert location.startswith(f"{public}/")
    assert _sigv4_query_ok(location, SECRET)
    assert httpx.get(location).status_code == 200  # the same store, reached by its public name
