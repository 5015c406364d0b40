"""Test doubles for the detector registry (the real detectors have their own tests)."""

from __future__ import annotations

import time

from authcheck.detectors.base import DetectorContext, SignalResult

CALLS: list[str] = []


class LoudnessDetector:
    """Scores the file size, so different inputs give different scores."""

    name = "loudness"
    version = "1"
    media_kinds = frozenset({"audio"})

    def detect(self, ctx: DetectorContext) -> SignalResult:
        CALLS.append(f"{self.name}:{ctx.sha256[:8]}")
        size = ctx.path.stat().st_size
        return SignalResult(
            label="indicator_low",
            score=min(1.0, size / 10**7),
            evidence={"bytes": size, "note": "nul\x00stripped"},
        )


class LoudnessDetectorV2(LoudnessDetector):
    version = "2"


class CrashingDetector:
    name = "crashing"
    version = "1"
    media_kinds = frozenset({"audio"})

    def detect(self, ctx: DetectorContext) -> SignalResult:
        CALLS.append(self.name)
        raise RuntimeError("boom")


class DeclaringDetector:
    """Pretends to find an unsigned AI label, to exercise the verdict rule end to end."""

    name = "ai_labels"
    version = "test"
    media_kinds = frozenset({"audio"})

    def detect(self, ctx: DetectorContext) -> SignalResult:
        return SignalResult(label="ai_declared", score=1.0, evidence={"producer": "suno"})


class SleepingDetector:
    """Never finishes in time: stands for a detector stuck on a pathological file."""

    name = "sleeping"
    version = "1"
    media_kinds = frozenset({"audio"})

    def detect(self, ctx: DetectorContext) -> SignalResult:
        time.sleep(600)
        return SignalResult(label="indicator_low", score=0.0, evidence={})
