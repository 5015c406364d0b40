"""Every API error as a JSON problem body (RFC 9457) with a stable ``code``.

``{"type": "about:blank", "title": <HTTP phrase>, "status", "code", "detail"}`` plus ``errors``
(field -> messages) for validation errors, served as ``application/problem+json``. Nothing from
a traceback ever reaches a response; unexpected exceptions are logged and answered with 500.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import (
    PermissionDenied as DjangoPermissionDenied,
)
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from authcheck.errors import AuthcheckError

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
API_PREFIX = "/api/"

# DRF exception class -> stable code (most specific first).
_DRF_CODES: tuple[tuple[type[drf.APIException], str], ...] = (
    (drf.NotAuthenticated, "not_authenticated"),
    (drf.AuthenticationFailed, "authentication_failed"),
    (drf.PermissionDenied, "permission_denied"),
    (drf.NotFound, "not_found"),
    (drf.ValidationError, "validation_error"),
    (drf.ParseError, "parse_error"),
    (drf.UnsupportedMediaType, "unsupported_media_type"),
    (drf.MethodNotAllowed, "method_not_allowed"),
    (drf.NotAcceptable, "not_acceptable"),
    (drf.Throttled, "throttled"),
)


class ApiProblem(drf.APIException):
    """An API-layer failure with its own code and status (too large, too many files, ...)."""

    def __init__(self, detail: str, *, code: str, status: int) -> None:
        super().__init__(detail, code)
        self.status_code = status
        self.problem_code = code


def problem_body(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The problem JSON object for ``status``/``code``."""
    return {
        "type": "about:blank",
        "title": _title(status),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_response(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    """A DRF response carrying a problem body."""
    return Response(
        problem_body(status, code, detail, **extra),
        status=status,
        headers={**(headers or {}), "Cache-Control": "no-store"},
        content_type=PROBLEM_CONTENT_TYPE,
    )


def _drf_problem(exc: drf.APIException) -> Response:
    """Map a DRF exception (with its WWW-Authenticate / Retry-After headers)."""
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if isinstance(exc, drf.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait)))
    if isinstance(exc, ApiProblem):
        return problem_response(exc.status_code, exc.problem_code, str(exc.detail), headers)
    code = next((c for cls, c in _DRF_CODES if isinstance(exc, cls)), "error")
    if isinstance(exc, drf.ValidationError):
        return problem_response(
            400, code, "the request is not valid: see errors", headers, errors=_errors(exc.detail)
        )
    return problem_response(exc.status_code, code, _text(exc.detail), headers)


def _errors(detail: Any) -> dict[str, Any]:
    """Field errors as ``{field: [messages]}``; errors not tied to a field under ``non_field``."""
    if isinstance(detail, dict):
        return {str(key): _messages(value) for key, value in detail.items()}
    return {"non_field_errors": _messages(detail)}


def _messages(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _messages(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_messages(v) if isinstance(v, dict | list) else str(v) for v in value]
    return [str(value)]


def _text(detail: Any) -> str:
    if isinstance(detail, list):
        return " ".join(str(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(f"{key}: {_text(value)}" for key, value in detail.items())
    return str(detail)


def _django_problem(exc: Exception) -> Response | None:
    """Map the Django exceptions a request can raise before or while being parsed."""
    if isinstance(exc, Http404):
        return problem_response(404, "not_found", "not found")
    if isinstance(exc, DjangoPermissionDenied):
        return problem_response(403, "permission_denied", "permission denied")
    if isinstance(exc, RequestDataTooBig):
        return problem_response(413, "request_too_large", "the request body is too large")
    if isinstance(exc, TooManyFilesSent):
        return problem_response(400, "too_many_files", "too many files in one request")
    if isinstance(exc, TooManyFieldsSent):
        return problem_response(400, "too_many_fields", "too many fields in one request")
    if isinstance(exc, SuspiciousOperation):
        return problem_response(400, "bad_request", "the request was refused")
    return None


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF EXCEPTION_HANDLER: every exception a view raises becomes a problem response."""
    set_rollback()  # as DRF's own handler does: an atomic request must not commit half a change
    if isinstance(exc, AuthcheckError):
        if exc.status >= 500:
            log.error("service error %s: %s", exc.code, exc.message)
            return problem_response(exc.status, exc.code, "the server could not do this")
        return problem_response(exc.status, exc.code, exc.message)
    if isinstance(exc, drf.APIException):
        return _drf_problem(exc)
    mapped = _django_problem(exc)
    if mapped is not None:
        return mapped
    view = context.get("view")
    log.exception("unhandled error in %s", type(view).__name__ if view else "API view")
    return problem_response(500, "internal_error", "an internal error occurred; it was logged")


# --- Django-level handlers (urls.handler400/403/404/500): JSON for /api/, defaults elsewhere ---


def _json_problem(status: int, code: str, detail: str) -> HttpResponse:
    response = JsonResponse(
        problem_body(status, code, detail), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
    response["Cache-Control"] = "no-store"
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400."""
    if _is_api(request):
        return _json_problem(400, "bad_request", "the request was refused")
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403."""
    if _is_api(request):
        return _json_problem(403, "permission_denied", "permission denied")
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404."""
    if _is_api(request):
        return _json_problem(404, "not_found", "no such API endpoint")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: never a traceback."""
    if _is_api(request):
        return _json_problem(500, "internal_error", "an internal error occurred; it was logged")
    return defaults.server_error(request)
