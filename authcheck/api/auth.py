"""Bearer token authentication against hashed API tokens (``services.tokens``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from authcheck.models import ApiToken, User
from authcheck.services.tokens import token_lookup

# One message for every refused token, so the response says nothing about why.
REFUSED = "invalid, expired or revoked token"


class BearerTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer ac_<prefix>_<secret>``; no header means anonymous (then 401)."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        """Return ``(user, token)`` for a live token; raise AuthenticationFailed for a bad one."""
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("malformed Authorization header: use 'Bearer <token>'")
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise AuthenticationFailed(REFUSED) from exc
        token = token_lookup(raw)
        if token is None:
            raise AuthenticationFailed(REFUSED)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        """The WWW-Authenticate value that makes DRF answer 401 rather than 403."""
        return 'Bearer realm="authcheck"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Describes the bearer scheme in the OpenAPI document."""

    target_class = "authcheck.api.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        """An HTTP bearer security scheme."""
        return build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Bearer",  # noqa: S106 - the scheme name
            bearer_format="ac_<prefix>_<secret>",
        )
