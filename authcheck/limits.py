"""Wiring: the limits a deployment sets for fetching and for ffmpeg, built in one place.

Pipeline stages take these as plain frozen dataclasses and never read settings themselves.
"""

from __future__ import annotations

from django.conf import settings

from authcheck.pipeline.fetch import FetchPolicy
from authcheck.pipeline.sandbox import Limits


def fetch_policy() -> FetchPolicy:
    """The fetch limits configured for this deployment."""
    loopback = settings.AUTHCHECK_FETCH_ALLOW_LOOPBACK
    return FetchPolicy(
        max_bytes=settings.AUTHCHECK_FETCH_MAX_BYTES,
        timeout_seconds=float(settings.AUTHCHECK_FETCH_TIMEOUT_SECONDS),
        max_redirects=settings.AUTHCHECK_FETCH_MAX_REDIRECTS,
        allow_loopback=loopback,
        allowed_ports=None if loopback else frozenset({80, 443}),
    )


def ffmpeg_limits() -> Limits:
    """Time and address-space limits for every ffmpeg/ffprobe run."""
    return Limits(
        timeout_seconds=settings.AUTHCHECK_FFMPEG_TIMEOUT_SECONDS,
        memory_bytes=settings.AUTHCHECK_FFMPEG_MEMORY_BYTES,
    )


def webhook_policy() -> FetchPolicy:
    """Limits for webhook deliveries: the fetcher's guarantees, a short deadline, no redirects."""
    loopback = settings.AUTHCHECK_FETCH_ALLOW_LOOPBACK
    return FetchPolicy(
        max_bytes=64 * 1024,
        timeout_seconds=float(settings.AUTHCHECK_WEBHOOK_TIMEOUT_SECONDS),
        max_redirects=0,
        allow_loopback=loopback,
        allowed_ports=None if loopback else frozenset({443}),
    )
