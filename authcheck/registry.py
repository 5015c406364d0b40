"""Wiring: which plugins run: detectors from ``AUTHCHECK_DETECTORS`` and page resolvers from
``AUTHCHECK_PAGE_RESOLVERS`` (dotted paths), or the built-in sets."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from authcheck.detectors.base import Detector
from authcheck.pipeline.resolve import PageResolver, load_resolvers

BUILTIN = (
    "authcheck.detectors.ai_labels.AiLabelsDetector",
    "authcheck.detectors.container_profile.ContainerProfileDetector",
    "authcheck.detectors.invisible_watermark.InvisibleWatermarkDetector",
    "authcheck.detectors.spectral_artifacts.SpectralArtifactsDetector",
    "authcheck.detectors.temporal_consistency.TemporalConsistencyDetector",
    "authcheck.detectors.near_duplicate.NearDuplicateDetector",
)


@cache
def _load(paths: tuple[str, ...]) -> tuple[Detector, ...]:
    detectors = []
    for path in paths:
        detector = import_string(path)()
        if not isinstance(detector, Detector):
            raise TypeError(f"{path} does not implement the detector contract")
        detectors.append(detector)
    names = [d.name for d in detectors]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate detector names in {paths}")
    return tuple(detectors)


def detectors_enabled() -> tuple[Detector, ...]:
    """Every configured detector, instantiated once per process."""
    return _load(tuple(settings.AUTHCHECK_DETECTORS) or BUILTIN)


def detectors_for(kind: str) -> tuple[Detector, ...]:
    """The configured detectors that apply to a media kind."""
    return tuple(d for d in detectors_enabled() if kind in d.media_kinds)


def detector_get(name: str) -> Detector:
    """A configured detector by name (KeyError if it is not configured)."""
    for detector in detectors_enabled():
        if detector.name == name:
            return detector
    raise KeyError(name)


def detector_versions() -> dict[str, str]:
    """name -> version of every configured detector (recorded on verdicts)."""
    return {d.name: d.version for d in detectors_enabled()}


@cache
def _resolvers(paths: tuple[str, ...]) -> tuple[PageResolver, ...]:
    return load_resolvers(paths)


def page_resolvers() -> tuple[PageResolver, ...]:
    """The configured page resolvers (``AUTHCHECK_PAGE_RESOLVERS``, else the built-in one),
    instantiated once per process."""
    return _resolvers(tuple(settings.AUTHCHECK_PAGE_RESOLVERS))
