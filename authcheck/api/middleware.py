"""Request-level guards that apply before any view: a default CSP and no chunked uploads.

- Every response without its own Content-Security-Policy (Django's 404/500 pages, health
  checks, anything not rendered by a view that sets one) gets a deny-all policy, so no HTML
  page of this origin runs without a CSP.
- A request body sent with ``Transfer-Encoding: chunked`` and no ``Content-Length`` is refused
  with 411 ``length_required``: Django reads such a body as empty, so an upload would silently
  become "no file", and size limits are checked against the declared length.
- A ``Content-Length`` that is not a number is 400 ``bad_content_length``; a request line
  longer than ``AUTHCHECK_LIMIT_REQUEST_LINE`` is 414 ``uri_too_long``. gunicorn enforces the
  same limits first (its ``limit_request_*`` settings, from the same variables); these answer
  as problem JSON whatever reaches Django.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from authcheck.api.errors import PROBLEM_CONTENT_TYPE, problem_body

DEFAULT_CSP = (
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
    "object-src 'none'"
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class RequestGuardMiddleware:
    """See the module docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Refuse chunked bodies, then add the default CSP where a response has none."""
        refused = _bad_framing(request) or _length_required(request)
        response = refused or self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = DEFAULT_CSP
        return response


def _problem(status: int, code: str, detail: str) -> HttpResponse:
    response = JsonResponse(
        problem_body(status, code, detail), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
    response["Cache-Control"] = "no-store"
    return response


def _bad_framing(request: HttpRequest) -> HttpResponse | None:
    length = request.META.get("CONTENT_LENGTH", "")
    if length and not (length.isascii() and length.isdigit()):
        return _problem(400, "bad_content_length", "the Content-Length header is not a number")
    line = len(request.META.get("PATH_INFO", "")) + len(request.META.get("QUERY_STRING", ""))
    if line > settings.AUTHCHECK_LIMIT_REQUEST_LINE:
        limit = settings.AUTHCHECK_LIMIT_REQUEST_LINE
        return _problem(414, "uri_too_long", f"the request line is longer than {limit} bytes")
    return None


def _length_required(request: HttpRequest) -> HttpResponse | None:
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    if request.method not in _BODY_METHODS or not chunked or request.META.get("CONTENT_LENGTH"):
        return None
    detail = "send the body with a Content-Length; chunked uploads are not accepted"
    return _problem(411, "length_required", detail)
