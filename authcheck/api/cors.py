"""CORS for the browser extension: only the configured extension origins, never credentials.

Handled in the API views (``ApiView``) rather than a middleware: the API is the only
cross-origin surface, and a preflight is answered before authentication runs.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type"
EXPOSED_HEADERS = "Location, Retry-After, WWW-Authenticate"
PREFLIGHT_MAX_AGE = "600"
# Schemes whose origins may be matched by a wildcard: an extension origin is a bare id (Firefox
# picks a random UUID per install), never a web host an attacker could register.
WILDCARD_SCHEMES = frozenset({"moz-extension", "chrome-extension"})
_EXTENSION_ORIGIN = re.compile(r"(moz-extension|chrome-extension)://([a-z0-9-]{1,64})", re.ASCII)


def origin_allowed(origin: str, patterns: list[str]) -> bool:
    """True when ``origin`` equals a pattern, or is an extension origin of a ``scheme://*``."""
    if origin in patterns:
        return True
    match = _EXTENSION_ORIGIN.fullmatch(origin)
    return match is not None and f"{match.group(1)}://*" in patterns


def allowed_origin(request: HttpRequest) -> str | None:
    """The request's Origin when it is an allowed extension origin, else None."""
    origin = request.headers.get("Origin", "")
    if origin and origin_allowed(origin, settings.AUTHCHECK_EXTENSION_ORIGINS):
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
