"""Errors with a stable machine-readable ``code``.

Every failure a user can cause or meet carries one of these codes: the API turns them into JSON
problem bodies, the pipeline into an ``error`` verdict with the reason, the CLI into exit code 2.
"""

from __future__ import annotations


class AuthcheckError(Exception):
    """A failure with a stable ``code``, a human ``message`` and the HTTP status it maps to."""

    code = "error"
    status = 400
    transient = False

    def __init__(self, message: str, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class FetchError(AuthcheckError):
    """The URL could not be fetched (blocked, unreachable, too large, too slow, ...)."""

    code = "fetch_failed"
    status = 422


class TransientFetchError(FetchError):
    """A fetch failure worth retrying (connect timeout, 502/503/504)."""

    transient = True


class MediaError(AuthcheckError):
    """The media could not be examined (unsupported, malformed, too large, timeout, ...)."""

    code = "media_malformed"
    status = 422


class UnsupportedMedia(MediaError):
    code = "unsupported_media"
    status = 415


class MediaTooLarge(MediaError):
    code = "media_too_large"
    status = 413


class ProvenanceError(AuthcheckError):
    """C2PA verification could not run to completion."""

    code = "c2pa_error"
    status = 422
