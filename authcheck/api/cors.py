"""CORS for the browser extension: only the configured extension origins, never credentials.

Handled in the API views (``ApiView``) rather than a middleware: the API is the only
cross-origin surface, and a preflight is answered before authentication runs.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type"
EXPOSED_HEADERS = "Location, Retry-After, WWW-Authenticate"
PREFLIGHT_MAX_AGE = "600"


def allowed_origin(request: HttpRequest) -> str | None:
    """The request's Origin when it is an allowed extension origin (exact match), else None."""
    origin = request.headers.get("Origin", "")
    if origin and origin in settings.AUTHCHECK_EXTENSION_ORIGINS:
        return origin
    return None


def is_preflight(request: HttpRequest) -> bool:
    """A CORS preflight: OPTIONS naming the method the browser wants to send."""
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def cors_headers(request: HttpRequest) -> dict[str, str]:
    """Headers to add to a response (empty for an origin that is not allowed).

    ``Access-Control-Allow-Credentials`` is never sent: the token travels in a header, and no
    cookie may ride along cross-origin.
    """
    origin = allowed_origin(request)
    if origin is None:
        return {}
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": EXPOSED_HEADERS,
    }
    if is_preflight(request):
        headers.update(
            {
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
            }
        )
    return headers
