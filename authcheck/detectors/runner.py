"""Running one detector: timed, and any exception turned into an error signal with its reason."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from authcheck.detectors.base import Detector, DetectorContext, SignalResult

log = logging.getLogger(__name__)


def run_detector(
    detector: Detector, ctx: DetectorContext, *, reraise: tuple[type[BaseException], ...] = ()
) -> SignalResult:
    """Run ``detector`` on ``ctx``; a crash becomes an ``error`` signal, never an exception.

    ``reraise`` names exceptions that are not the detector's fault and belong to the caller
    (a task's soft time limit, say), so they propagate.
    """
    started = time.perf_counter()
    try:
        result = detector.detect(ctx)
    except reraise:
        raise
    except Exception as exc:  # a detector bug must not take the check down with it
        log.exception("detector %s failed on %s", detector.name, ctx.sha256)
        result = SignalResult(
            label="error", score=None, evidence={}, error=f"{type(exc).__name__}: {exc}"[:1000]
        )
    seconds = time.perf_counter() - started
    return replace(result, runtime_ms=seconds * 1000)
