"""Problem bodies for failures outside the views, throttling, and CORS for the extension."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from authcheck.errors import AuthcheckError
from tests.api.helpers import problem
from tests.factories import CheckFactory

pytestmark = pytest.mark.django_db

EXTENSION = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


def test_unknown_api_paths_are_json_404() -> None:
    problem(APIClient().get("/api/v1/nothing-here"), 404, "not_found")
    problem(APIClient().get("/api/v1/checks/"), 404, "not_found")


def test_an_unexpected_exception_is_a_500_problem_without_traceback(
    jo, journalist, monkeypatch
) -> None:
    check = CheckFactory(submitter=journalist)

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals /etc/shadow")

    monkeypatch.setattr("authcheck.presenters.check_to_dict", explode)
    response = jo.get(f"/api/v1/checks/{check.pk}")
    body = problem(response, 500, "internal_error")
    assert b"secret internals" not in response.content and b"Traceback" not in response.content
    assert body["detail"] == "an internal error occurred; it was logged"


def test_a_service_error_keeps_its_code_and_status_but_5xx_hide_the_message(
    jo, monkeypatch
) -> None:
    def fail(**kwargs):
        raise AuthcheckError("db password is hunter2", code="audit_error", status=500)

    monkeypatch.setattr("authcheck.services.checks.check_create", fail)
    response = jo.post("/api/v1/checks", {"url": "https://news.example/v"}, format="json")
    problem(response, 500, "audit_error")
    assert b"hunter2" not in response.content


def test_the_django_500_handler_answers_json_for_api_paths(rf) -> None:
    from authcheck.api.errors import server_error

    response = server_error(rf.get("/api/v1/checks"))
    assert response.status_code == 500 and response["Content-Type"] == "application/problem+json"
    assert b"internal_error" in response.content


def test_submissions_over_the_rate_get_429_with_retry_after(jo, monkeypatch, enqueued) -> None:
    cache.clear()
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"submit": "2/min"})
    for _ in range(2):
        ok = jo.post("/api/v1/checks", {"url": "https://news.example/v"}, format="json")
        assert ok.status_code == 202
    response = jo.post("/api/v1/checks", {"url": "https://news.example/v"}, format="json")
    problem(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
    assert jo.get("/api/v1/checks").status_code == 200  # reading is not throttled
    cache.clear()


@pytest.fixture
def extension_origin(settings) -> str:
    settings.AUTHCHECK_EXTENSION_ORIGINS = [EXTENSION, "moz-extension://1234-abcd"]
    return EXTENSION


def preflight(origin: str):
    return APIClient().options(
        "/api/v1/checks",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


def test_preflight_from_the_extension_is_allowed_exactly_and_without_credentials(
    extension_origin,
) -> None:
    response = preflight(extension_origin)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == EXTENSION
    assert "Authorization" in response["Access-Control-Allow-Headers"]
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "chrome-extension://other", "null", EXTENSION + ".evil"]
)
def test_other_origins_get_no_cors_headers(extension_origin, origin, jo) -> None:
    response = preflight(origin)
    assert "Access-Control-Allow-Origin" not in response
    actual = jo.get("/api/v1/checks", HTTP_ORIGIN=origin)
    assert "Access-Control-Allow-Origin" not in actual


def test_actual_requests_and_errors_carry_cors_for_the_extension(extension_origin, jo) -> None:
    ok = jo.get("/api/v1/checks", HTTP_ORIGIN=EXTENSION)
    assert ok["Access-Control-Allow-Origin"] == EXTENSION and "Origin" in ok["Vary"]
    assert "Access-Control-Allow-Credentials" not in ok
    denied = APIClient().get("/api/v1/checks", HTTP_ORIGIN=EXTENSION)
    problem(denied, 401, "not_authenticated")
    assert denied["Access-Control-Allow-Origin"] == EXTENSION
    assert "WWW-Authenticate" in denied["Access-Control-Expose-Headers"]


def test_no_origins_configured_means_no_cors(settings) -> None:
    settings.AUTHCHECK_EXTENSION_ORIGINS = []
    assert "Access-Control-Allow-Origin" not in preflight(EXTENSION)
