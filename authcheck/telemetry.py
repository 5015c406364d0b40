"""One call per observed event: a structured log line and its Prometheus metric together.

Kept apart from ``metrics`` so that the pipeline and the detector runner depend on two small
functions, not on prometheus_client or Django settings.
"""

from __future__ import annotations

import logging

from authcheck import metrics

log = logging.getLogger("authcheck.events")


def stage_report(check_id: int, stage: str, outcome: str, seconds: float) -> None:
    """A pipeline stage ended: log ``check_id``, ``stage``, outcome and duration; count it."""
    metrics.stage_observe(stage, outcome, seconds)
    log.info(
        "stage %s %s",
        stage,
        outcome,
        extra={
            "event": "stage",
            "check_id": check_id,
            "stage": stage,
            "outcome": outcome,
            "duration_ms": round(seconds * 1000, 1),
        },
    )


def detector_report(detector: str, sha256: str, seconds: float, *, error: bool) -> None:
    """A detector run ended: log it (the media's hash, never its bytes) and count it."""
    metrics.detector_observe(detector, seconds, error=error)
    log.info(
        "detector %s %s",
        detector,
        "error" if error else "done",
        extra={
            "event": "detector",
            "detector": detector,
            "sha256": sha256,
            "outcome": "error" if error else "done",
            "duration_ms": round(seconds * 1000, 1),
        },
    )
