"""The orchestrator hands each stored signal's calibration (strength, measured false positive rate,
caveat) to the verdict rules, so a stored standard-strength indicator alone does not label media."""

from __future__ import annotations

from authcheck.models import Signal
from authcheck.pipeline.verdict import decide
from authcheck.services.processing import _facts


def _signal(detector: str, strength: str) -> Signal:
    evidence = {"strength": strength, "false_positive_rate": 0.0095, "cannot_tell": "limits"}
    return Signal(detector=detector, label="indicator_high", score=0.99, evidence=evidence)


def test_a_stored_standard_indicator_alone_gives_no_provenance() -> None:
    facts = _facts((_signal("spectral_artifacts", "standard"),))

    assert facts[0].false_positive_rate == 0.0095 and not facts[0].strict
    assert decide(None, facts).label == "no_provenance"


def test_a_stored_strict_indicator_gives_synthetic_indicators_with_its_caveat() -> None:
    decision = decide(None, _facts((_signal("spectral_artifacts", "strict"),)))

    assert decision.label == "synthetic_indicators" and "limits" in decision.summary
