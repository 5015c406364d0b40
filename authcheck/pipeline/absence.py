""" "Why no Content Credentials?" (issue 8 item 7): what was tried, in order, and what was found.

Pure: built from what the check already holds (the provenance report, the probe, the embedded
metadata fields, the detector signals, and the earlier media with valid credentials that the
frame index matched). Nothing here is a verdict; it explains an absence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Encoder and platform strings seen in files re-written by software or a platform (lower case).
PLATFORM_MARKERS = {
    "instagram": "Instagram",
    "whatsapp": "WhatsApp",
    "facebook": "Facebook",
    "twitter": "X/Twitter",
    "tiktok": "TikTok",
    "bytedance": "TikTok (ByteDance)",
    "telegram": "Telegram",
    "snapchat": "Snapchat",
    "youtube": "YouTube",
    "google": "Google",
}
ENCODER_MARKERS = {
    "lavf": "FFmpeg (libavformat) muxer",
    "lavc": "FFmpeg (libavcodec) encoder",
    "x264": "x264 encoder",
    "x265": "x265 encoder",
    "handbrake": "HandBrake",
    "photoshop": "Adobe Photoshop",
    "lightroom": "Adobe Lightroom",
    "gimp": "GIMP",
    "snapseed": "Snapseed",
}
_TAG_KEYS = {"encoder", "software", "creatortool", "handler_name", "comment", "major_brand"}


@dataclass(frozen=True)
class SignedMatch:
    """Earlier media the frame index matched that carried intact credentials."""

    check_id: int
    sha256: str
    distance: int
    state: str  # trusted or valid
    signer: str
    signed_at: str


def _step(name: str, tried: str, found: bool, detail: str, **extra: Any) -> dict[str, Any]:
    return {"step": name, "tried": tried, "found": found, "detail": detail, **extra}


def _embedded(report: dict[str, Any]) -> dict[str, Any]:
    state = str(report.get("state") or "")
    code = str(report.get("error_code") or "")
    detail = "No C2PA manifest store is embedded in the file."
    if state == "unsupported":
        detail = f"The SDK does not read this format ({report.get('error') or code})."
    elif code == "c2pa_remote_manifest_required":
        detail = "The file carries no embedded manifest, only a pointer to a remote one."
    return _step("embedded_manifest", "C2PA manifest embedded in the file", False, detail)


def _remote(report: dict[str, Any], fields: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    urls = [value for _, key, value in fields if key.lower() == "provenance"]
    remote = report.get("remote_manifest") or {}
    if remote.get("url") and remote["url"] not in urls:
        urls.append(str(remote["url"]))
    pointed = report.get("error_code") == "c2pa_remote_manifest_required"
    found = bool(urls) or pointed
    detail = (
        f"The file names a remote manifest: {', '.join(urls)}."
        if urls
        else "The SDK reports a remote manifest reference."
        if pointed
        else "No XMP dcterms:provenance reference to a remote manifest."
    )
    return _step(
        "remote_reference", "remote manifest reference (XMP dcterms:provenance)", found, detail,
        urls=urls,
    )  # fmt: skip


def _near_duplicates(matches: Sequence[SignedMatch]) -> dict[str, Any]:
    if not matches:
        return _step(
            "near_duplicate_signed",
            "near-duplicate of earlier media that carried valid credentials (frame index)",
            False,
            "No earlier media with valid Content Credentials looks like this one.",
            matches=[],
        )
    best = min(matches, key=lambda m: m.distance)
    when = f" on {best.signed_at[:10]}" if best.signed_at else ""
    detail = (
        f"This looks like a re-encoded copy of media signed by {best.signer}{when} "
        f"(check {best.check_id}); its credentials were probably stripped."
    )
    return _step(
        "near_duplicate_signed",
        "near-duplicate of earlier media that carried valid credentials (frame index)",
        True,
        detail,
        matches=[m.__dict__ for m in matches],
    )


def _labels(signals: Sequence[dict[str, Any]]) -> dict[str, Any]:
    declared = [s for s in signals if s.get("label") == "ai_declared" and not s.get("error")]
    producers = sorted({str((s.get("evidence") or {}).get("producer") or "") for s in declared})
    detail = (
        f"Unsigned AI labels found (producer: {', '.join(p for p in producers if p) or '?'})."
        if declared
        else "No unsigned AI label (IPTC, TC260, XMP, PNG text) in the metadata."
    )
    return _step("unsigned_ai_labels", "unsigned AI labels in metadata", bool(declared), detail)


def _detectors(signals: Sequence[dict[str, Any]], fired: frozenset[str]) -> dict[str, Any]:
    hits = sorted(str(s.get("detector")) for s in signals if s.get("label") in fired)
    ran = sorted(str(s.get("detector")) for s in signals if not s.get("error"))
    detail = (
        f"Detectors above their thresholds: {', '.join(hits)}."
        if hits
        else f"No detector fired ({', '.join(ran) or 'none ran'})."
    )
    return _step("detectors", "detectors", bool(hits), detail, ran=ran)


def _stripping(
    probe: dict[str, Any] | None,
    fields: Sequence[tuple[str, str, str]],
    signals: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    texts = [str(v) for k, v in ((probe or {}).get("tags") or {}).items() if k.lower() in _TAG_KEYS]
    for stream in (probe or {}).get("streams") or []:
        texts += [str(v) for k, v in (stream.get("tags") or {}).items() if k.lower() in _TAG_KEYS]
    texts += [value for _, key, value in fields if key.lower() in _TAG_KEYS]
    lowered = " ".join(texts).lower()
    platforms = sorted({name for key, name in PLATFORM_MARKERS.items() if key in lowered})
    encoders = sorted({name for key, name in ENCODER_MARKERS.items() if key in lowered})
    reencoded = any(
        s.get("detector") == "container_profile" and s.get("label") == "reencoded" for s in signals
    )
    clues = [f"written by {', '.join(platforms)}"] if platforms else []
    clues += [f"re-encoded with {', '.join(encoders)}"] if encoders else []
    if reencoded and not encoders:
        clues.append("the container profile shows a re-encode")
    detail = (
        "Probably removed by re-writing the file: " + "; ".join(clues) + "."
        if clues
        else "No encoder or platform string says what removed them (many uploads strip all tags)."
    )
    return _step(
        "stripping_clues",
        "what probably removed them (re-encode history, platform encoder strings)",
        bool(clues),
        detail,
        platforms=platforms,
        encoders=encoders,
    )


def explain(
    report: dict[str, Any],
    *,
    probe: dict[str, Any] | None,
    fields: Sequence[tuple[str, str, str]],
    signals: Sequence[dict[str, Any]],
    matches: Sequence[SignedMatch],
    fired: frozenset[str],
) -> dict[str, Any]:
    """The ordered account of a media without embedded Content Credentials."""
    steps = [
        _embedded(report),
        _remote(report, fields),
        _near_duplicates(matches),
        _labels(signals),
        _detectors(signals, fired),
        _stripping(probe, fields, signals),
    ]
    found = [s["detail"] for s in steps[1:] if s["found"]]
    summary = " ".join(found) if found else "Nothing else was found about its origin."
    return {"tried": steps, "summary": summary}
