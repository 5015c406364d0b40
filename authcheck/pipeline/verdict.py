"""Verdict rules (SPEC section 2): evidence in, one label with the rule that produced it out.

Pure: the inputs are typed facts (``ReportFacts`` of the provenance report, ``SignalFacts`` of
the finished signals) and an optional error; no detector is named here, only the labels the
rules act on. The honesty rule shapes every summary: nothing here ever says "authentic", and the
absence of signals is worded as the absence of evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

RULES_VERSION = "2"


class ReportState(StrEnum):
    """States of a C2PA report (SPEC section 3); the model's choices are built from these."""

    TRUSTED = "trusted"
    VALID = "valid"
    INVALID = "invalid"
    ABSENT = "absent"
    UNSUPPORTED = "unsupported"
    ERROR = "error"


_STATE_VALUES = frozenset(s.value for s in ReportState)


class SignalLabel(StrEnum):
    """The detector labels the rules act on (any detector may emit them; SPEC section 4)."""

    DECLARED = "ai_declared"  # an unsigned AI declaration; evidence["producer"] names who
    INDICATOR_HIGH = "indicator_high"  # fires above its documented threshold
    WATERMARK_FOUND = "watermark_found"


# Detector labels that count as "fires above its documented threshold" (SPEC section 4).
INDICATOR_LABELS = frozenset({SignalLabel.INDICATOR_HIGH, SignalLabel.WATERMARK_FOUND})


@dataclass(frozen=True)
class Decision:
    """The automated conclusion: label, a plain-language summary and the rule that fired."""

    label: str
    summary: str
    rule: str


@dataclass(frozen=True)
class ReportFacts:
    """What the rules read from a provenance report."""

    state: ReportState
    error_code: str = ""
    signer: str = "an unnamed certificate"
    failure_codes: tuple[str, ...] = ()
    ai_declared: bool = False
    ai_tool: str = ""
    ingredients_invalid: bool = False
    credentials_say: str = ""  # the rubric sentence, "Content Credentials say: ..."
    synthetic_type: str = ""  # a declared synthetic, non-AI source type (IPTC name)
    legacy_trusted: bool = False  # the optional legacy interim pass matched (never "trusted")

    @classmethod
    def from_report(cls, report: Mapping[str, Any]) -> ReportFacts:
        """Facts of a stored report projection (``ProvenanceFindings.to_report()``)."""
        state = str(report.get("state") or "")
        return cls(
            state=ReportState(state) if state in _STATE_VALUES else ReportState.ERROR,
            error_code=str(report.get("error_code") or ""),
            signer=_signer_text(report),
            failure_codes=_failure_codes(report),
            ai_declared=bool(report.get("ai_declared")),
            ai_tool=str((report.get("ai_declaration") or {}).get("software_agent") or ""),
            ingredients_invalid=bool(report.get("ingredients_invalid")),
            credentials_say=str(report.get("signals_summary") or ""),
            synthetic_type=str(
                ((report.get("synthetic_declaration") or {}).get("source_type") or {}).get("name")
                or ""
            ),
            legacy_trusted=bool(((report.get("trust") or {}).get("legacy") or {}).get("trusted")),
        )


@dataclass(frozen=True)
class SignalFacts:
    """What the rules read from one finished signal."""

    detector: str
    label: str
    score: float | None = None
    error: str = ""
    producer: str = ""  # who a declaration names (evidence["producer"])
    # An indicator's calibration, from its evidence: above every real sample measured ("strict"),
    # the false positive rate measured on real calibration photos, and what it cannot tell.
    strict: bool = False
    false_positive_rate: float | None = None
    cannot_tell: str = ""

    @classmethod
    def from_dict(cls, signal: Mapping[str, Any]) -> SignalFacts:
        """Facts of a signal given as a mapping (detector, label, score, error, evidence)."""
        evidence = signal.get("evidence") or {}
        return cls(
            detector=str(signal.get("detector") or "?"),
            label=str(signal.get("label") or ""),
            score=signal.get("score"),
            error=str(signal.get("error") or ""),
            producer=str(evidence.get("producer") or "") if isinstance(evidence, dict) else "",
            **_calibration(evidence),
        )


def _calibration(evidence: Any) -> dict[str, Any]:
    if not isinstance(evidence, dict):
        return {}
    fpr = evidence.get("false_positive_rate")
    return {
        "strict": evidence.get("strength") == "strict",
        "false_positive_rate": float(fpr) if isinstance(fpr, int | float) else None,
        "cannot_tell": str(evidence.get("cannot_tell") or ""),
    }


def _signer_text(report: Mapping[str, Any]) -> str:
    signer = (report.get("active_manifest") or {}).get("signer") or {}
    name = signer.get("common_name") or "an unnamed certificate"
    issuer = signer.get("issuer")
    return f"{name} (issued by {issuer})" if issuer else name


def _failure_codes(report: Mapping[str, Any]) -> tuple[str, ...]:
    codes = [f.get("code", "") for f in report.get("failures") or []]
    codes += [
        f.get("code", "")
        for ing in _walk(report.get("ingredients") or [])
        for f in ing.get("failures") or []
    ]
    return tuple(sorted({c for c in codes if c}))


def _codes_text(report: ReportFacts) -> str:
    return ", ".join(report.failure_codes) if report.failure_codes else "validation failed"


def _walk(ingredients: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for ing in ingredients:
        out.append(ing)
        out.extend(_walk(ing.get("ingredients") or []))
    return out


def _unsigned_declaration(signals: Sequence[SignalFacts]) -> SignalFacts | None:
    return next((s for s in signals if s.label == SignalLabel.DECLARED), None)


def _indicators(signals: Sequence[SignalFacts]) -> list[SignalFacts]:
    return [s for s in signals if s.label in INDICATOR_LABELS and not s.error]


def _said(report: ReportFacts) -> str:
    """The rubric sentence and any synthetic (non-AI) declaration, appended to a summary."""
    text = f" {report.credentials_say}" if report.credentials_say else ""
    if report.synthetic_type:
        text += (
            f" The manifest declares the source type '{report.synthetic_type}': synthetic "
            "media, but not a generative-AI declaration."
        )
    return text


def _legacy_note(report: ReportFacts) -> str:
    if not report.legacy_trusted:
        return ""
    return (
        " The signer is on the legacy interim list (the frozen pre-C2PA list of the CAI Verify "
        "site), which is not the C2PA trust list."
    )


def _strong_enough(fired: Sequence[SignalFacts]) -> bool:
    """The indicator rule (docs/EVALUATION.md): one indicator at its standard threshold fires on
    up to 1% of real photos, too often for a label a newsroom acts on. It takes a found watermark
    (a decoded payload, never seen on real media), one indicator above its strict threshold (above
    every real sample measured), or two different detectors above their standard thresholds."""
    if any(s.label == SignalLabel.WATERMARK_FOUND or s.strict for s in fired):
        return True
    return len({s.detector for s in fired}) >= 2


def _indicator_text(s: SignalFacts) -> str:
    if s.label == SignalLabel.WATERMARK_FOUND:
        return f"{s.detector} (a generator watermark payload was decoded)"
    if s.strict:
        rate = "above every real photograph measured"
    elif s.false_positive_rate is not None:
        rate = f"fires on {s.false_positive_rate:.1%} of real calibration photos"
    else:
        rate = "false positive rate not measured"
    caveat = f"; {s.cannot_tell}" if s.cannot_tell else ""
    return f"{s.detector} ({rate}{caveat})"


def _declared(report: ReportFacts, signals: Sequence[SignalFacts]) -> Decision | None:
    if report.state in {ReportState.TRUSTED, ReportState.VALID} and report.ai_declared:
        trusted = report.state == ReportState.TRUSTED
        who = "a trusted signer" if trusted else "a signer on no configured trust list"
        tool = report.ai_tool or "a generator"
        return Decision(
            "declared_synthetic",
            f"Signed Content Credentials from {who}, {report.signer}, declare that this "
            f"media was generated or composited with AI ({tool}). The declaration is signed."
            + _said(report),
            "c2pa.ai_declared",
        )
    unsigned = _unsigned_declaration(signals)
    if unsigned:
        producer = unsigned.producer or "a generator"
        claim = "declares AI generation"
        if unsigned.score is not None and unsigned.score < 1:
            # TC260 "Label 2/3": the producer says the content is possibly or suspected AI.
            claim = "declares that AI generation is possible or suspected"
        return Decision(
            "declared_synthetic",
            f"Embedded metadata {claim} (producer: {producer}). The declaration is unsigned: "
            "anyone can add or remove such a label.",
            f"unsigned_label.{unsigned.detector}",
        )
    return None


def decide(
    report: ReportFacts | None,
    signals: Sequence[SignalFacts] = (),
    error: tuple[str, str] | None = None,
) -> Decision:
    """Apply the verdict rules in order of evidential strength and return the first that fires."""
    if error:
        code, message = error
        return Decision("error", f"The media could not be examined: {message}", f"error.{code}")
    report = report or ReportFacts(state=ReportState.ABSENT)
    state = report.state
    malformed = state == ReportState.ERROR and report.error_code == "c2pa_malformed"
    if state == ReportState.INVALID or malformed:
        return Decision(
            "credentials_invalid",
            "Content Credentials are present but fail validation "
            f"({_codes_text(report)}). The file may have been altered after signing.",
            "c2pa.invalid",
        )
    if state in {ReportState.TRUSTED, ReportState.VALID} and report.ingredients_invalid:
        # SPEC section 2: an ingredient failure invalidates the credentials even when the
        # active manifest itself verifies; it is surfaced, not hidden behind a valid parent.
        return Decision(
            "credentials_invalid",
            "The active Content Credentials verify, but an ingredient they cite fails "
            f"validation ({_codes_text(report)}). Part of this media's recorded history "
            "cannot be trusted.",
            "c2pa.ingredient_invalid",
        )
    declared = _declared(report, signals)
    if declared:
        return declared
    if state == ReportState.TRUSTED:
        return Decision(
            "provenance_verified",
            f"Valid Content Credentials signed by {report.signer}, a signer on a "
            "configured trust list. No AI generation is declared in the manifest or its "
            "ingredients. This shows who signed the file, not that its content is true."
            + _said(report),
            "c2pa.trusted",
        )
    if state == ReportState.VALID:
        return Decision(
            "provenance_untrusted",
            f"Intact Content Credentials signed by {report.signer}, issued by an "
            "unknown source: the signer is on no configured trust list, so nobody vouches "
            "for it. No AI generation is declared." + _legacy_note(report) + _said(report),
            "c2pa.valid_untrusted",
        )
    fired = _indicators(signals)
    if fired and _strong_enough(fired):
        names = "; ".join(_indicator_text(s) for s in sorted(fired, key=lambda s: s.detector))
        return Decision(
            "synthetic_indicators",
            f"No provenance or declaration, but detectors fired above their documented "
            f"thresholds: {names}. These are indicators with known failure modes, not proof.",
            "indicators.above_threshold",
        )
    note = ""
    if state == ReportState.ERROR and report.error_code == "c2pa_remote_manifest_required":
        note = (
            " The file points to a remote Content Credentials manifest, which authcheck "
            "does not fetch."
        )
    if fired:
        note += (
            f" One detector ({_indicator_text(fired[0])}) was above its standard threshold, a "
            "level real photographs also reach; alone that is not counted as an indicator."
        )
    return Decision(
        "no_provenance",
        "No Content Credentials, AI declaration or detector indicator was found. This is not "
        "evidence that the media is authentic: most media carries no provenance at all." + note,
        "nothing_found",
    )
