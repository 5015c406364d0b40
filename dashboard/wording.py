"""Plain-language wording of labels, provenance states, C2PA failure codes and source types.

Honest by construction: ``valid`` is "issued by an unknown source", never "verified"; finding
nothing is never "authentic"; an indicator is not a probability.
"""

from __future__ import annotations

from authcheck.pipeline import iptc

LABELS = {
    "provenance_verified": "Credentials from a trusted signer",
    "provenance_untrusted": "Credentials issued by an unknown source",
    "declared_synthetic": "Declared AI-generated",
    "credentials_invalid": "Credentials invalid",
    "synthetic_indicators": "Synthetic indicators",
    "no_provenance": "No provenance found (not evidence of authenticity)",
    "error": "Could not be examined",
    "authentic": "Decision: authentic",
    "synthetic": "Decision: synthetic",
    "manipulated": "Decision: manipulated",
    "misattributed": "Decision: misattributed (real media, wrong context)",
    "inconclusive": "Decision: inconclusive",
}

BADGES = {
    "provenance_verified": "ok",
    "provenance_untrusted": "warn",
    "declared_synthetic": "bad",
    "credentials_invalid": "bad",
    "synthetic_indicators": "warn",
    "no_provenance": "neutral",
    "error": "neutral",
    "authentic": "ok",
    "synthetic": "bad",
    "manipulated": "bad",
    "misattributed": "bad",
    "inconclusive": "neutral",
}

PROVENANCE = {
    "trusted": "Signed by a source on a configured trust list",
    "valid": "Issued by an unknown source: intact, but nobody on our trust lists vouches for "
    "the signer",
    "invalid": "Content Credentials present but invalid",
    "absent": "No Content Credentials",
    "unsupported": "Format not readable for Content Credentials",
    "error": "Content Credentials could not be read",
}

# What each C2PA validation code means for an editor (c2pa-rs validation_status.rs, C2PA spec).
FAILURES = {
    "claimSignature.mismatch": "The signature does not match the claim: the credentials were "
    "altered after signing, or the signature is forged.",
    "claimSignature.missing": "The claim has no signature.",
    "claimSignature.insideValidity": "The signature was made while the certificate was valid.",
    "claimSignature.outsideValidity": "The signature was made outside the certificate's "
    "validity period.",
    "assertion.dataHash.mismatch": "The media's bytes changed after signing: what you see is "
    "not what was signed.",
    "assertion.bmffHash.mismatch": "The video's bytes changed after signing: what you see is "
    "not what was signed.",
    "assertion.boxesHash.mismatch": "Parts of the file changed after signing.",
    "assertion.hashedURI.mismatch": "A statement inside the credentials was changed after signing.",
    "assertion.missing": "A statement the claim refers to is missing.",
    "assertion.action.ingredientMismatch": "An edit refers to an ingredient that is not there.",
    "ingredient.manifest.missing": "An ingredient's own credentials are missing, so its history "
    "cannot be checked.",
    "ingredient.hashedURI.mismatch": "An ingredient's credentials do not match what the parent "
    "recorded.",
    "ingredient.claimSignature.mismatch": "An ingredient's signature does not match its claim.",
    "signingCredential.expired": "The signing certificate had expired when the media was signed.",
    "signingCredential.revoked": "The signing certificate was revoked.",
    "signingCredential.untrusted": "The signing certificate is not on any configured trust list.",
    "signingCredential.invalid": "The signing certificate is malformed or not allowed to sign.",
    "timeStamp.mismatch": "The time-stamp does not match the signature.",
    "timeStamp.untrusted": "The time-stamp comes from an authority nobody on our lists vouches "
    "for.",
    "timeStamp.outsideValidity": "The time-stamp lies outside the certificate's validity.",
    "manifest.missing": "The credentials the file points to are missing.",
    "manifest.inaccessible": "The credentials are stored elsewhere and were not fetched.",
    "claim.missing": "The credentials hold no claim.",
    "general.error": "The credentials could not be validated.",
}


def label_words(value: str) -> str:
    """A verdict label or reviewer decision in words (the raw value when unknown)."""
    return LABELS.get(value or "", value or "No verdict yet")


def badge_class(value: str) -> str:
    """The badge style of a label; every badge also carries its words."""
    return BADGES.get(value or "", "neutral")


def provenance_words(state: str) -> str:
    """A C2PA report state in words; ``valid`` is never called verified."""
    return PROVENANCE.get(state or "", state or "Not examined yet")


def failure_sentence(code: str) -> str:
    """One sentence explaining a failure code; the code family decides when the exact code is
    unknown."""
    if code in FAILURES:
        return FAILURES[code]
    family = (code or "").split(".")[0]
    return {
        "assertion": "A statement inside the credentials failed its check.",
        "ingredient": "An ingredient's credentials failed their check.",
        "signingCredential": "The signing certificate failed its check.",
        "timeStamp": "The time-stamp failed its check.",
        "claimSignature": "The signature failed its check.",
    }.get(family, "The credentials failed a check the software could not describe further.")


def source_type_words(value: str) -> str:
    """An IPTC (or C2PA) digital source type URI or code in IPTC's own words (its name)."""
    described = iptc.describe(value)
    if described is None:
        return "not stated"
    if described["name"] == "Unknown digital source type":
        return (value or "").rstrip("/").rsplit("/", 1)[-1]
    return str(described["name"])
