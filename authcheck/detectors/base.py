"""The detector contract (SPEC section 4).

A detector is a small plugin: a stable ``name``, a ``version``, the media kinds it applies to, and
``detect(ctx) -> SignalResult``. It is a pure function of its context: it never touches the
database or Django settings, so it can run in any worker and be evaluated offline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

# Frames and metadata are read by pipeline stages; detectors receive them in their context.
from authcheck.pipeline.frames import Frame
from authcheck.pipeline.metadata import NOT_READ, EmbeddedMetadata

__all__ = ["Detector", "DetectorContext", "Frame", "SignalResult", "abstain"]


@dataclass(frozen=True)
class DetectorContext:
    """Everything a detector may look at. Built by the pipeline, read-only for detectors."""

    path: Path
    sha256: str
    mime: str
    kind: str  # "image", "video" or "audio"
    probe: dict[str, Any] = field(default_factory=dict)
    frames: tuple[Frame, ...] = ()
    # Embedded metadata, parsed once by the metadata stage (NOT_READ: nothing was read).
    metadata: EmbeddedMetadata = NOT_READ
    # Hashes of earlier media for source tracing, provided by the pipeline (see near_duplicate).
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SignalResult:
    """A detector's output. ``score`` is None when the detector abstains."""

    label: str
    score: float | None
    evidence: dict[str, Any]
    runtime_ms: float = 0.0
    error: str = ""

    def __post_init__(self) -> None:
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score {self.score} outside [0, 1]")


@runtime_checkable
class Detector(Protocol):
    """What every detector provides."""

    name: ClassVar[str]
    version: ClassVar[str]
    media_kinds: ClassVar[frozenset[str]]

    def detect(self, ctx: DetectorContext) -> SignalResult:
        """Examine the media in ``ctx`` and return a signal (or an abstention)."""
        ...


def abstain(reason: str, **evidence: Any) -> SignalResult:
    """Return an explicit abstention with the reason in the evidence."""
    return SignalResult(label="abstain", score=None, evidence={"reason": reason, **evidence})
