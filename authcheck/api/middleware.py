"""Request-level guards that apply before any view: a default CSP and no chunked uploads.

- Every response without its own Content-Security-Policy (Django's 404/500 pages, health
  checks, anything not rendered by a view that sets one) gets a deny-all policy, so no HTML
  page of this origin runs without a CSP.
- A request body sent with ``Transfer-Encoding: chunked`` and no ``Content-Length`` is refused
  with 411 ``length_required``: Django reads such a body as empty, so an upload would silently
  become "no file", and size limits are checked against the declared length.
"""

from __future__ import annotations

from collections.abc import Callable

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
        response = _length_required(request) or self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = DEFAULT_CSP
        return response


def _length_required(request: HttpRequest) -> HttpResponse | None:
    chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    if request.method not in _BODY_METHODS or not chunked or request.META.get("CONTENT_LENGTH"):
        return None
    detail = "send the body with a Content-Length; chunked uploads are not accepted"
    response = JsonResponse(
        problem_body(411, "length_required", detail), status=411, content_type=PROBLEM_CONTENT_TYPE
    )
    response["Cache-Control"] = "no-store"
    return response
