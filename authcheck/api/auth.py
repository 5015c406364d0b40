"""Bearer token authentication (placeholder until the API work lands)."""

from rest_framework.authentication import BaseAuthentication


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):  # pragma: no cover - replaced by the API work
        return None
