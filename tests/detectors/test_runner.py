"""The runner turns a detector's crash into an error signal, but lets the caller's own
exceptions (a task's time limit) through."""

from __future__ import annotations

from pathlib import Path

import pytest

from authcheck.detectors.base import DetectorContext, SignalResult
from authcheck.detectors.runner import run_detector


class TimeUp(Exception):
    pass


class Raising:
    name = "raising"
    version = "1"
    media_kinds = frozenset({"image"})

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def detect(self, ctx: DetectorContext) -> SignalResult:
        raise self.exc


CTX = DetectorContext(path=Path("/nonexistent"), sha256="0" * 64, mime="image/png", kind="image")


def test_a_crash_becomes_an_error_signal_with_its_reason() -> None:
    result = run_detector(Raising(ValueError("bad header")), CTX)
    assert (result.label, result.score) == ("error", None)
    assert result.error == "ValueError: bad header" and result.runtime_ms >= 0


def test_exceptions_the_caller_owns_propagate() -> None:
    with pytest.raises(TimeUp):
        run_detector(Raising(TimeUp()), CTX, reraise=(TimeUp,))
