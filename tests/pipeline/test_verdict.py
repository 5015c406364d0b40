"""Verdict rules: each label fires on its evidence, in order of strength, with honest wording."""

from __future__ import annotations

import pytest

from authcheck.pipeline.verdict import ReportFacts, SignalFacts, decide

SIGNER = {"common_name": "Newsroom Camera", "issuer": "Test Root CA"}


def report(state: str, **extra: object) -> ReportFacts:
    return ReportFacts.from_report(
        {
            "state": state,
            "failures": [],
            "ingredients": [],
            "active_manifest": {"signer": SIGNER},
            **extra,
        }
    )


def signal(**fields: object) -> SignalFacts:
    return SignalFacts.from_dict(fields)


def test_it_verifies_a_trusted_manifest_without_ai_declaration() -> None:
    decision = decide(report("trusted"))
    assert (decision.label, decision.rule) == ("provenance_verified", "c2pa.trusted")
    assert "Newsroom Camera" in decision.summary
    assert "not that its content is true" in decision.summary


def test_it_never_calls_a_valid_but_untrusted_signer_verified() -> None:
    decision = decide(report("valid"))
    assert decision.label == "provenance_untrusted"
    assert "unknown source" in decision.summary
    assert "verified" not in decision.summary.lower()


def test_it_marks_a_failing_manifest_invalid_and_names_the_codes() -> None:
    bad = report(
        "invalid",
        failures=[{"code": "assertion.dataHash.mismatch"}],
        ingredients=[{"failures": [{"code": "claimSignature.mismatch"}], "ingredients": []}],
    )
    decision = decide(bad)
    assert decision.label == "credentials_invalid"
    assert "assertion.dataHash.mismatch" in decision.summary
    assert "claimSignature.mismatch" in decision.summary


def test_it_treats_a_malformed_manifest_store_as_invalid_credentials() -> None:
    assert decide(report("error", error_code="c2pa_malformed")).label == "credentials_invalid"


@pytest.mark.parametrize("state", ["trusted", "valid"])
def test_it_reports_a_signed_ai_declaration_as_declared_synthetic(state: str) -> None:
    decision = decide(report(state, ai_declared=True, ai_declaration={"software_agent": "GenAI 2"}))
    assert decision.label == "declared_synthetic"
    assert "The declaration is signed" in decision.summary
    assert "GenAI 2" in decision.summary


def test_it_reports_an_unsigned_label_as_declared_synthetic_and_says_it_is_unsigned() -> None:
    label = signal(detector="ai_labels", label="ai_declared", evidence={"producer": "kling"})
    decision = decide(report("absent"), [label])
    assert decision.label == "declared_synthetic"
    assert "unsigned" in decision.summary and "kling" in decision.summary


def test_an_invalid_ingredient_under_a_valid_parent_makes_the_credentials_invalid() -> None:
    bad_child = {"failures": [{"code": "claimSignature.mismatch"}], "ingredients": []}
    decision = decide(report("valid", ingredients_invalid=True, ingredients=[bad_child]))
    assert (decision.label, decision.rule) == ("credentials_invalid", "c2pa.ingredient_invalid")
    assert "claimSignature.mismatch" in decision.summary


def test_a_weak_unsigned_label_is_worded_as_possible_not_certain() -> None:
    weak = signal(detector="ai_labels", label="ai_declared", score=0.5, evidence={})
    strong = signal(detector="ai_labels", label="ai_declared", score=1.0, evidence={})
    assert "possible or suspected" in decide(report("absent"), [weak]).summary
    assert "possible" not in decide(report("absent"), [strong]).summary


def indicator(detector: str, strength: str = "standard", fpr: float = 0.008) -> SignalFacts:
    evidence = {"strength": strength, "false_positive_rate": fpr, "cannot_tell": "it cannot tell X"}
    return signal(detector=detector, label="indicator_high", score=0.995, evidence=evidence)


def test_one_indicator_at_its_standard_threshold_is_not_enough_for_synthetic_indicators() -> None:
    # At the standard threshold one indicator fires on up to 1% of real photos: alone it is noise.
    decision = decide(report("absent"), [indicator("spectral_artifacts")])
    assert (decision.label, decision.rule) == ("no_provenance", "nothing_found")
    assert "spectral_artifacts" in decision.summary and "not counted" in decision.summary


def test_two_different_indicators_give_synthetic_indicators_naming_rates_and_limits() -> None:
    fired = [indicator("spectral_artifacts"), indicator("temporal_consistency", fpr=0.004)]
    decision = decide(report("absent"), fired)
    assert (decision.label, decision.rule) == ("synthetic_indicators", "indicators.above_threshold")
    assert "spectral_artifacts (fires on 0.8% of real calibration photos" in decision.summary
    assert "temporal_consistency (fires on 0.4%" in decision.summary
    assert "it cannot tell X" in decision.summary and "not proof" in decision.summary
    assert "probab" not in decision.summary


def test_the_same_detector_twice_does_not_count_as_two_voices() -> None:
    twice = [indicator("spectral_artifacts"), indicator("spectral_artifacts")]
    assert decide(report("absent"), twice).label == "no_provenance"


def test_one_indicator_above_its_strict_threshold_is_enough() -> None:
    decision = decide(report("absent"), [indicator("spectral_artifacts", strength="strict")])
    assert decision.label == "synthetic_indicators"
    assert "above every real photograph measured" in decision.summary


def test_a_found_watermark_alone_is_enough() -> None:
    found = signal(detector="invisible_watermark", label="watermark_found", score=1.0)
    assert decide(report("absent"), [found]).label == "synthetic_indicators"


def test_nothing_found_is_worded_as_no_evidence_of_authenticity() -> None:
    quiet = signal(detector="spectral_artifacts", label="indicator_low", score=0.3)
    decision = decide(report("absent"), [quiet])
    assert decision.label == "no_provenance"
    assert "not evidence that the media is authentic" in decision.summary


def test_a_remote_only_manifest_is_explained() -> None:
    decision = decide(report("error", error_code="c2pa_remote_manifest_required"))
    assert decision.label == "no_provenance"
    assert "remote" in decision.summary


def test_an_error_beats_everything_and_carries_its_code() -> None:
    decision = decide(report("trusted"), [], ("url_blocked", "the address is private"))
    assert (decision.label, decision.rule) == ("error", "error.url_blocked")
    assert "the address is private" in decision.summary


def test_the_model_choices_are_the_rules_report_states() -> None:
    from authcheck.models import ProvenanceState
    from authcheck.pipeline.verdict import ReportState

    assert ProvenanceState.values == [s.value for s in ReportState]


def test_no_detector_is_named_in_the_rules_any_declaring_detector_counts() -> None:
    other = signal(detector="c2pa_sidecar", label="ai_declared", evidence={"producer": "veo"})
    decision = decide(report("absent"), [other])
    assert (decision.label, decision.rule) == ("declared_synthetic", "unsigned_label.c2pa_sidecar")
    assert "veo" in decision.summary
