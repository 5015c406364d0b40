"""Verdict rules (SPEC section 2): evidence in, one label with the rule that produced it out.

Pure: the inputs are the provenance report projection, the detector signals and an optional
error. The honesty rule shapes every summary: nothing here ever says "authentic", and the
absence of signals is worded as the absence of evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

RULES_VERSION = "1"

# Detector labels that count as "fires above its documented threshold" (SPEC section 4).
INDICATOR_LABELS = frozenset({"indicator_high", "watermark_found"})


@dataclass(frozen=True)
class Decision:
    """The automated conclusion: label, a plain-language summary and the rule that fired."""

    label: str
    summary: str
    rule: str


def _signer_text(report: dict[str, Any]) -> str:
    signer = (report.get("active_manifest") or {}).get("signer") or {}
    name = signer.get("common_name") or "an unnamed certificate"
    issuer = signer.get("issuer")
    return f"{name} (issued by {issuer})" if issuer else name


def _failure_codes(report: dict[str, Any]) -> str:
    codes = [f.get("code", "") for f in report.get("failures") or []]
    codes += [
        f.get("code", "")
        for ing in _walk(report.get("ingredients") or [])
        for f in ing.get("failures") or []
    ]
    unique = sorted({c for c in codes if c})
    return ", ".join(unique) if unique else "validation failed"


def _walk(ingredients: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for ing in ingredients:
        out.append(ing)
        out.extend(_walk(ing.get("ingredients") or []))
    return out


def _unsigned_declaration(signals: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    for signal in signals:
        if signal.get("detector") == "ai_labels" and signal.get("label") == "ai_declared":
            return signal
    return None


def _indicators(signals: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in signals if s.get("label") in INDICATOR_LABELS and not s.get("error")]


def _declared(report: dict[str, Any], signals: Sequence[dict[str, Any]]) -> Decision | None:
    state = report.get("state")
    if state in {"trusted", "valid"} and report.get("ai_declared"):
        who = "a trusted signer" if state == "trusted" else "a signer on no configured trust list"
        tool = ((report.get("ai_declaration") or {}).get("software_agent")) or "a generator"
        return Decision(
            "declared_synthetic",
            f"Signed Content Credentials from {who}, {_signer_text(report)}, declare that this "
            f"media was generated or composited with AI ({tool}). The declaration is signed.",
            "c2pa.ai_declared",
        )
    unsigned = _unsigned_declaration(signals)
    if unsigned:
        producer = (unsigned.get("evidence") or {}).get("producer") or "a generator"
        claim = "declares AI generation"
        score = unsigned.get("score")
        if score is not None and score < 1:
            # TC260 "Label 2/3": the producer says the content is possibly or suspected AI.
            claim = "declares that AI generation is possible or suspected"
        return Decision(
            "declared_synthetic",
            f"Embedded metadata {claim} (producer: {producer}). The declaration is unsigned: "
            "anyone can add or remove such a label.",
            "unsigned_label.ai_labels",
        )
    return None


def decide(
    report: dict[str, Any] | None,
    signals: Sequence[dict[str, Any]] = (),
    error: tuple[str, str] | None = None,
) -> Decision:
    """Apply the verdict rules in order of evidential strength and return the first that fires."""
    if error:
        code, message = error
        return Decision("error", f"The media could not be examined: {message}", f"error.{code}")
    report = report or {"state": "absent"}
    state = report.get("state")
    if state == "invalid" or (state == "error" and report.get("error_code") == "c2pa_malformed"):
        return Decision(
            "credentials_invalid",
            "Content Credentials are present but fail validation "
            f"({_failure_codes(report)}). The file may have been altered after signing.",
            "c2pa.invalid",
        )
    if state in {"trusted", "valid"} and report.get("ingredients_invalid"):
        # SPEC section 2: an ingredient failure invalidates the credentials even when the
        # active manifest itself verifies; it is surfaced, not hidden behind a valid parent.
        return Decision(
            "credentials_invalid",
            "The active Content Credentials verify, but an ingredient they cite fails "
            f"validation ({_failure_codes(report)}). Part of this media's recorded history "
            "cannot be trusted.",
            "c2pa.ingredient_invalid",
        )
    declared = _declared(report, signals)
    if declared:
        return declared
    if state == "trusted":
        return Decision(
            "provenance_verified",
            f"Valid Content Credentials signed by {_signer_text(report)}, a signer on a "
            "configured trust list. No AI generation is declared in the manifest or its "
            "ingredients. This shows who signed the file, not that its content is true.",
            "c2pa.trusted",
        )
    if state == "valid":
        return Decision(
            "provenance_untrusted",
            f"Intact Content Credentials signed by {_signer_text(report)}, issued by an "
            "unknown source: the signer is on no configured trust list, so nobody vouches "
            "for it. No AI generation is declared.",
            "c2pa.valid_untrusted",
        )
    fired = _indicators(signals)
    if fired:
        names = ", ".join(sorted(s.get("detector", "?") for s in fired))
        return Decision(
            "synthetic_indicators",
            f"No provenance or declaration, but detectors fired above their documented "
            f"thresholds ({names}). These are indicators with known failure modes, not proof.",
            "indicators.above_threshold",
        )
    note = ""
    if state == "error" and report.get("error_code") == "c2pa_remote_manifest_required":
        note = (
            " The file points to a remote Content Credentials manifest, which authcheck "
            "does not fetch."
        )
    return Decision(
        "no_provenance",
        "No Content Credentials, AI declaration or detector indicator was found. This is not "
        "evidence that the media is authentic: most media carries no provenance at all." + note,
        "nothing_found",
    )
