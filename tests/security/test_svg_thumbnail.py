"""SECURITY M12: a manifest whose claim thumbnail is ``image/svg+xml`` with ``onload`` and a script.

authcheck never serves a manifest's thumbnail: the report keeps no thumbnail bytes (only the SDK's
JSON, whose thumbnail entry is a format string and a JUMBF URI), the dashboard serves only frame
thumbnails that the pipeline re-encoded to JPEG from decoded pixels, and the media route serves the
upload as its sniffed type (``image/jpeg`` here) with ``nosniff`` and a sandboxing CSP. This test
signs such an asset, runs it through the pipeline, and fetches every dashboard and API route of
the check.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import c2pa
import pytest
from django.test import Client

from authcheck.models import Check, ProvenanceReport, Role
from authcheck.services import processing
from authcheck.services.checks import check_create
from authcheck.services.trust import trust_cache_clear
from tests.c2pa_fixtures import _builder_context, manifest, test_ca
from tests.factories import UserFactory, token_for
from tests.mediagen import make_image

pytestmark = pytest.mark.django_db

MARKER = "authcheck-svg-thumbnail-marker"
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)" width="8" '
    f'height="8"><script>alert("{MARKER}")</script></svg>'
).encode()


def _svg_thumbnail_jpeg(path: Path) -> Path:
    definition = manifest(path.name)
    definition["thumbnail"] = {"format": "image/svg+xml", "identifier": "thumb.svg"}
    builder = c2pa.Builder(definition, context=_builder_context())
    builder.add_resource("thumb.svg", io.BytesIO(SVG))
    src = make_image(path.with_name("src.jpg"), size=(96, 64), fmt="JPEG")
    with open(src, "rb") as source, open(path, "w+b") as dest:
        builder.sign(test_ca().signer(), "image/jpeg", source, dest)
    return path


@pytest.fixture
def examined(tmp_path: Path, settings) -> tuple[Check, Client, Client]:
    settings.AUTHCHECK_DETECTORS = ["authcheck.detectors.ai_labels.AiLabelsDetector"]
    trust_cache_clear()
    path = _svg_thumbnail_jpeg(tmp_path / "svg-thumbnail.jpg")
    assert MARKER.encode() in path.read_bytes()  # the hostile thumbnail is really embedded
    editor = UserFactory(username="ed", role=Role.EDITOR)
    with open(path, "rb") as handle:
        check = check_create(user=editor, upload=handle, filename=path.name).check
    assert processing.check_process(check.pk) == "done"
    dashboard = Client()
    dashboard.force_login(editor)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(editor)}")
    return Check.objects.get(pk=check.pk), dashboard, api


def _routes(check: Check, frames: list[int]) -> dict[str, str]:
    base, api = f"/dashboard/checks/{check.pk}", f"/api/v1/checks/{check.pk}"
    routes = {
        "detail": base,
        "export": f"{base}/export.json",
        "report": f"{base}/report.json",
        "audit": f"{base}/audit",
        "stages": f"{base}/stages",
        "api_check": api,
        "api_audit": f"{api}/audit",
        "api_report": f"{api}/report",
        "api_screenshot": f"{api}/evidence/screenshot",
        "api_media": f"/api/v1/media/{check.media.sha256}",
    }
    routes.update({f"frame{i}": f"{base}/frames/{i}.jpg" for i in frames})
    return routes


def test_the_sdk_reads_the_svg_thumbnail_but_the_report_keeps_no_thumbnail_bytes(
    examined: tuple[Check, Client, Client],
) -> None:
    check, _, _ = examined
    report = ProvenanceReport.objects.get(media=check.media)
    store = json.loads(bytes(report.raw_manifest))
    thumbnail = store["manifests"][store["active_manifest"]]["thumbnail"]
    assert thumbnail["format"] == "image/svg+xml"  # the SDK saw it...
    assert MARKER not in json.dumps(report.report)  # ...and nothing of its bytes is kept
    assert MARKER not in bytes(report.raw_manifest).decode()


def test_an_svg_manifest_thumbnail_is_never_served_as_svg_by_any_route(
    examined: tuple[Check, Client, Client],
) -> None:
    check, dashboard, api = examined
    detail = dashboard.get(f"/dashboard/checks/{check.pk}")
    assert detail.status_code == 200
    frames = [int(n) for n in re.findall(r"/frames/(\d+)\.jpg", detail.text)]
    assert frames, "the page shows the pipeline's frame thumbnails"
    for name, url in _routes(check, frames).items():
        client = api if name.startswith("api_") else dashboard
        response = client.get(url)
        assert response.status_code in (200, 404), (name, response.status_code)
        kind = response.get("Content-Type", "")
        assert "svg" not in kind, (name, kind)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert MARKER.encode() not in body, name  # not the thumbnail, not even escaped
        if kind.startswith("text/html"):
            assert b"<svg" not in body and b"onload=" not in body, name
        if name.startswith("frame"):
            assert response.status_code == 200 and kind == "image/jpeg", name
            assert body[:3] == b"\xff\xd8\xff"  # a JPEG the pipeline encoded
            assert response["X-Content-Type-Options"] == "nosniff"
            assert "sandbox" in response["Content-Security-Policy"]
            assert "default-src 'none'" in response["Content-Security-Policy"]


def test_the_media_itself_is_served_as_its_sniffed_image_type_sandboxed(
    examined: tuple[Check, Client, Client],
) -> None:
    # The upload carries the SVG inside its JUMBF; it is sent only as image/jpeg, never sniffed.
    check, dashboard, _ = examined
    response = dashboard.get(f"/dashboard/checks/{check.pk}/media")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")
